"""The one choke point between hubgenome and a Hub endpoint: HTTP, pacing, retries, error mapping.

Everything that talks to the Hub goes through :class:`HubClient`. It uses ``huggingface_hub``'s own
HTTP session, headers (``build_hf_headers``: ``HF_TOKEN`` honoured, never logged) and error types
(``hf_raise_for_status``), and adds what a crawl of millions of objects needs on top:

* pacing from the Hub's ``RateLimit`` / ``RateLimit-Policy`` headers, so a crawl slows down before it
  is refused rather than after;
* waiting as told on 429 (``t=`` of an exhausted ``RateLimit`` bucket, else ``Retry-After``, plus one
  second as the Hub's own client does), on every request, the first page included;
* retries with exponential backoff and full jitter on 5xx, dropped connections and malformed bodies;
* listing pages returned with their ``Link: rel="next"`` cursor and the Hub's ``Date``, so callers can
  checkpoint the cursor and date what they saw by the Hub's clock.
"""

from __future__ import annotations

import datetime as dt
import email.utils
import logging
import random
import re
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from urllib.parse import parse_qsl, quote, urlencode, urljoin, urlsplit, urlunsplit

import httpx2
import orjson
from huggingface_hub.errors import (
    GatedRepoError,
    HfHubHTTPError,
    RemoteEntryNotFoundError,
    RepositoryNotFoundError,
)
from huggingface_hub.utils import build_hf_headers, get_session, hf_raise_for_status, parse_ratelimit_headers

from hubgenome import __version__
from hubgenome.core.errors import (
    HubCrawlError,
    HubRequestError,
    MalformedResponseError,
    PageTooHeavyError,
    RateLimitedError,
)
from hubgenome.flows.landing import CardFetch

logger = logging.getLogger(__name__)

_RETRY_STATUSES = frozenset({500, 502, 503, 504})
_TRANSPORT_ERRORS = (httpx2.TransportError,)


#: File downloads: ``/{repo}/resolve|raw/{rev}/{path}`` (models) and the same under ``/datasets|spaces/``.
_RESOLVER_PATH = re.compile(r"^/(?:(?:datasets|spaces)/)?[^/]+(?:/[^/]+)?/(?:resolve|raw)/")
#: Statuses that say "this page took the Hub too long": a heavy page answers them again and again.
_GATEWAY_TIMEOUT_STATUSES = frozenset({504})
#: A listing whose page keeps timing out is retried with half the page size, down to this.
MIN_PAGE_LIMIT = 10


def _bucket_for(url: str) -> str:
    """The Hub's rate-limit bucket of a URL, from its path: ``resolvers`` for file downloads, else ``api``.

    Decided on the path, never on a substring of the whole URL: a repo named ``api`` (the Hub has
    ``Abi224/api``) must not put its README downloads into the API bucket. The bucket an answer
    reports in its own ``RateLimit`` header (``"api";r=...``) takes precedence when there is one.
    """
    return "resolvers" if _RESOLVER_PATH.match(urlsplit(url).path) else "api"


def _hub_date(headers: Mapping[str, str]) -> dt.datetime | None:
    """The Hub's clock from an answer's ``Date`` header (RFC 7231), or None when absent or unreadable."""
    value = headers.get("Date") or headers.get("date")
    if not value:
        return None
    try:
        moment = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=dt.UTC)


def with_page_limit(url: str, limit: int) -> str:
    """``url`` with its ``limit`` query parameter set to ``limit``, every other parameter (the cursor) kept."""
    parts = urlsplit(url)
    query = [(key, value) for key, value in parse_qsl(parts.query, keep_blank_values=True) if key != "limit"]
    query.append(("limit", str(limit)))
    return urlunsplit(parts._replace(query=urlencode(query)))


def page_limit(url: str) -> int | None:
    """The ``limit`` query parameter of a listing URL, if any."""
    for key, value in parse_qsl(urlsplit(url).query):
        if key == "limit" and value.isdigit():
            return int(value)
    return None


@dataclass
class _BucketState:
    remaining: int | None = None  # our conservative estimate of requests left in this window
    quota: int | None = None
    window_seconds: float | None = None
    resets_at: float = 0.0
    in_flight: int = 0


@dataclass
class ClientStats:
    """What the client did, for run summaries and tests."""

    requests: int = 0
    retries: int = 0
    throttled_429: int = 0
    rate_limit_wait_seconds: float = 0.0
    pacing_wait_seconds: float = 0.0
    by_status: dict[int, int] = field(default_factory=dict)


class RateLimitPacer:
    """Keeps each rate-limit bucket's request count under its quota, shared by all threads.

    Every Hub answer says how many requests remain in the current fixed window (``r``) and when
    it resets (``t``). The pacer counts a request against the estimate when it is sent, lowers the
    estimate to ``r`` minus what is still in flight when an answer comes back (the server may not
    have counted those yet), and makes callers sleep until the reset once nothing remains: so
    concurrent card fetchers never overshoot the quota.
    """

    def __init__(self, *, enabled: bool = True, margin_seconds: float = 0.1) -> None:
        self.enabled = enabled
        self.margin_seconds = margin_seconds
        self._buckets: dict[str, _BucketState] = {}
        self._lock = threading.Condition()

    def acquire(self, bucket: str) -> float:
        """Wait, if needed, until one request may go out on ``bucket``; returns the seconds waited."""
        waited = 0.0
        with self._lock:
            state = self._buckets.setdefault(bucket, _BucketState())
            while self.enabled and state.remaining is not None and state.remaining <= 0:
                now = time.monotonic()
                if now >= state.resets_at:
                    # A new window: trust the published quota, or let one probe learn the new figures.
                    state.remaining = state.quota if state.quota else 1
                    if state.window_seconds:
                        state.resets_at = now + state.window_seconds
                    break
                self._lock.wait(timeout=state.resets_at - now)
                waited += time.monotonic() - now
            if state.remaining is not None:
                state.remaining -= 1
            state.in_flight += 1
        return waited

    def release(self, bucket: str, headers: Mapping[str, str] | None) -> None:
        """Record a finished request and the figures its answer carried.

        The figures go to the bucket the answer names in its ``RateLimit`` header (``"api";r=...``)
        when it names one we track, so one bucket's quota never overwrites another's.
        """
        with self._lock:
            sent_on = self._buckets.setdefault(bucket, _BucketState())
            sent_on.in_flight = max(0, sent_on.in_flight - 1)
            info = parse_ratelimit_headers(headers) if headers is not None else None
            if info is not None:
                state = self._buckets.setdefault(info.resource_type or bucket, _BucketState())
                resets_at = time.monotonic() + info.reset_in_seconds + self.margin_seconds
                observed = info.remaining - state.in_flight
                if state.remaining is None or resets_at > state.resets_at + 0.5:
                    # A later window than the one we knew (``t`` is whole seconds, hence the slack).
                    state.remaining = observed
                    state.resets_at = resets_at
                elif resets_at >= state.resets_at - 1.0:
                    state.remaining = min(state.remaining, observed)
                # else: a late answer from a window that is already over; it says nothing about this one.
                state.quota = info.limit or state.quota
                state.window_seconds = info.window_seconds or state.window_seconds
            self._lock.notify_all()


@dataclass(frozen=True)
class ListingPage:
    """One page of a listing: its objects, where it came from, the cursor to the next one and the Hub's clock."""

    url: str
    items: list[dict]
    next_url: str | None
    hub_date: dt.datetime | None = None


class HubClient:
    """A paced, retrying client for one Hub endpoint.

    Parameters
    ----------
    endpoint
        Base URL, e.g. ``https://huggingface.co`` or a local server's ``http://127.0.0.1:8765``.
    token
        A Hub token; ``None`` lets ``huggingface_hub`` find ``HF_TOKEN`` or the saved login.
    max_retries
        Retries per request for 5xx answers, dropped connections and malformed bodies.
    max_rate_limit_waits
        How many 429 answers in a row a single request accepts before giving up.
    backoff_base, backoff_cap
        Exponential backoff with full jitter: ``uniform(0, min(cap, base * 2**attempt))``.
    pacing
        Read the ``RateLimit`` headers and slow down before a 429 happens.
    sleep
        Injected for tests.
    """

    def __init__(
        self,
        endpoint: str,
        *,
        token: str | bool | None = None,
        timeout: float = 60.0,
        max_retries: int = 6,
        max_rate_limit_waits: int = 50,
        backoff_base: float = 0.5,
        backoff_cap: float = 30.0,
        pacing: bool = True,
        seed: int | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.endpoint = endpoint.rstrip("/")
        self.timeout = timeout
        self.max_retries = max_retries
        self.max_rate_limit_waits = max_rate_limit_waits
        self.backoff_base = backoff_base
        self.backoff_cap = backoff_cap
        self.pacer = RateLimitPacer(enabled=pacing)
        self.stats = ClientStats()
        self._stats_lock = threading.Lock()
        self._sleep = sleep
        self._random = random.Random(seed)
        # Built once: the token stays inside this dict and is never logged or stored.
        self._headers = build_hf_headers(token=token, library_name="hubgenome", library_version=__version__)

    # -- shipping to another process (Dask workers) --------------------------------------------------

    def __getstate__(self) -> dict:
        """Settings and headers travel; locks, the pacer's window estimates and the stats do not.

        A copy unpickled in a Dask worker starts with fresh pacing and zeroed :attr:`stats` (the
        caller adds the worker's stats back); the pacer re-learns the window from the first answer.
        """
        state = self.__dict__.copy()
        state["pacer"] = (self.pacer.enabled, self.pacer.margin_seconds)
        del state["stats"], state["_stats_lock"]
        return state

    def __setstate__(self, state: dict) -> None:
        enabled, margin_seconds = state.pop("pacer")
        self.__dict__.update(state)
        self.pacer = RateLimitPacer(enabled=enabled, margin_seconds=margin_seconds)
        self.stats = ClientStats()
        self._stats_lock = threading.Lock()

    # -- the choke point ---------------------------------------------------------------------------

    def _backoff(self, attempt: int) -> float:
        return self._random.uniform(0, min(self.backoff_cap, self.backoff_base * 2**attempt))

    def _count(self, **increments: float) -> None:
        with self._stats_lock:
            for name, value in increments.items():
                setattr(self.stats, name, getattr(self.stats, name) + value)

    def request(
        self,
        url: str,
        *,
        params: Iterable[tuple[str, str]] | None = None,
        timeouts_before_giving_up: int | None = None,
        follow_redirects: bool = True,
    ) -> httpx2.Response:
        """GET ``url`` with pacing and retries; returns the final response (4xx included, unraised).

        ``timeouts_before_giving_up`` makes a request that keeps timing out (504 or no answer in
        time) raise :class:`PageTooHeavyError` after that many in a row, instead of spending the
        whole retry budget on a page the Hub cannot build (the listing then asks for a smaller one).
        Redirects are followed (a renamed repo answers its old id with one) unless
        ``follow_redirects`` is false.

        Raises
        ------
        RateLimitedError
            After ``max_rate_limit_waits`` consecutive 429 answers.
        PageTooHeavyError
            After ``timeouts_before_giving_up`` consecutive timeouts, when given.
        HubCrawlError
            When 5xx answers or dropped connections outlast ``max_retries``.
        """
        bucket = _bucket_for(url)
        failures = 0
        timeouts = 0
        throttles = 0
        session = get_session()
        while True:
            waited = self.pacer.acquire(bucket)
            if waited > 0.001:
                self._count(pacing_wait_seconds=waited)
            response: httpx2.Response | None = None
            try:
                response = session.get(
                    url,
                    params=list(params) if params else None,
                    headers=self._headers,
                    timeout=self.timeout,
                    follow_redirects=follow_redirects,
                )
                response.read()
            except _TRANSPORT_ERRORS as exc:
                failure: str = f"{type(exc).__name__}: {exc}"
                timed_out = isinstance(exc, httpx2.TimeoutException)
            else:
                failure = ""
                timed_out = False
            finally:
                self.pacer.release(bucket, response.headers if response is not None else None)
            self._count(requests=1)
            if response is not None and not failure:
                with self._stats_lock:
                    self.stats.by_status[response.status_code] = self.stats.by_status.get(response.status_code, 0) + 1
                if response.status_code == 429:
                    throttles += 1
                    wait = self._rate_limit_wait(response)
                    self._count(throttled_429=1, rate_limit_wait_seconds=wait)
                    if throttles > self.max_rate_limit_waits:
                        msg = (
                            f"{url} answered 429 (rate limited) {throttles} times in a row; "
                            "wait for the window to reset, use a token with a higher quota, or lower concurrency."
                        )
                        raise RateLimitedError(msg, retry_after=wait)
                    logger.warning("rate limited on %s bucket; waiting %.1f s as told", bucket, wait)
                    self._sleep(wait)
                    continue
                if response.status_code not in _RETRY_STATUSES:
                    return response
                failure = f"HTTP {response.status_code}"
                timed_out = response.status_code in _GATEWAY_TIMEOUT_STATUSES
            failures += 1
            timeouts = timeouts + 1 if timed_out else 0
            if timeouts_before_giving_up is not None and timeouts >= timeouts_before_giving_up:
                msg = f"GET {url} timed out {timeouts} times in a row (last: {failure}); the page is too heavy."
                raise PageTooHeavyError(msg, url)
            if failures > self.max_retries:
                msg = f"GET {url} failed {failures} times (last: {failure}); the crawl is resumable, try again later."
                raise HubCrawlError(msg)
            delay = self._backoff(failures)
            self._count(retries=1)
            logger.info("retrying %s after %s in %.2f s (attempt %d)", url, failure, delay, failures + 1)
            self._sleep(delay)

    @staticmethod
    def _rate_limit_wait(response: httpx2.Response) -> float:
        """Seconds to wait after a 429, as huggingface_hub's own ``http_backoff`` decides them.

        The reset time ``t`` of an exhausted ``RateLimit`` bucket (``r=0``), else ``Retry-After`` when
        the answer sends one, each plus one second "to avoid rounding issues" (``t`` is whole seconds:
        waiting exactly ``t`` can land just before the reset). See ``_http_backoff_base`` in
        ``huggingface_hub/utils/_http.py``. Neither: a fixed 5 s.
        """
        info = parse_ratelimit_headers(response.headers)
        if info is not None and info.remaining == 0:
            return float(info.reset_in_seconds) + 1.0
        retry_after = response.headers.get("Retry-After", "").strip()
        if retry_after.replace(".", "", 1).isdigit():
            return float(retry_after) + 1.0
        return 5.0

    # -- listings ------------------------------------------------------------------------------------

    def listing_url(self, *, sort: str, expand: Iterable[str] = (), limit: int = 1000, **filters: str) -> str:
        """The first-page URL of ``/api/models`` for a sort key (always descending, as the Hub sorts)."""
        params: list[tuple[str, str]] = [("sort", sort), ("direction", "-1"), ("limit", str(limit))]
        params += [(key, value) for key, value in filters.items() if value is not None]
        params += [("expand[]", prop) for prop in expand]
        return f"{self.endpoint}/api/models?{urlencode(params)}"

    def get_page(self, url: str, *, timeouts_before_giving_up: int | None = None) -> ListingPage:
        """Fetch one listing page; malformed bodies are retried, then raise :class:`MalformedResponseError`.

        ``timeouts_before_giving_up``: see :meth:`request` (:class:`PageTooHeavyError`).
        """
        for attempt in range(self.max_retries + 1):
            response = self.request(url, timeouts_before_giving_up=timeouts_before_giving_up)
            try:
                hf_raise_for_status(response)
            except HfHubHTTPError as exc:
                msg = (
                    f"{url} answered HTTP {response.status_code}: {str(exc).splitlines()[0]}. "
                    "Check the endpoint (--endpoint / HF_ENDPOINT) and your token (HF_TOKEN)."
                )
                raise HubRequestError(msg, response.status_code) from exc
            try:
                items = orjson.loads(response.content)
            except orjson.JSONDecodeError as exc:
                problem = f"body is not valid JSON ({exc})"
            else:
                if isinstance(items, list) and all(isinstance(item, dict) and "id" in item for item in items):
                    next_url = response.links.get("next", {}).get("url")
                    if next_url is not None:
                        next_url = urljoin(url, next_url)
                    return ListingPage(url=url, items=items, next_url=next_url, hub_date=_hub_date(response.headers))
                problem = "body is not a list of model objects"
            self._count(retries=1)
            logger.warning("malformed listing page %s: %s (attempt %d)", url, problem, attempt + 1)
            self._sleep(self._backoff(attempt))
        msg = f"{url} kept answering a malformed page ({problem}); the crawl stopped at this page and is resumable."
        raise MalformedResponseError(msg)

    # -- single models --------------------------------------------------------------------------------

    def model_url(self, model_id: str, expand: Iterable[str] = ()) -> str:
        query = urlencode([("expand[]", prop) for prop in expand])
        return f"{self.endpoint}/api/models/{quote(model_id, safe='/')}" + (f"?{query}" if query else "")

    def fetch_model(self, model_id: str, expand: Iterable[str] = ()) -> dict | None:
        """``GET /api/models/{id}`` with the listing's ``expand``: the model object, or None when it is gone.

        A renamed or transferred repo answers its old id with a redirect to the new one, which is
        followed: the object returned then carries the new ``id``. None means the Hub does not
        know the id (deleted, or private to someone else). Other 4xx raise :class:`HubRequestError`.
        """
        url = self.model_url(model_id, expand)
        problem = ""
        for attempt in range(self.max_retries + 1):
            response = self.request(url)
            if response.status_code == 404:
                return None
            try:
                hf_raise_for_status(response)
            except HfHubHTTPError as exc:
                msg = f"{url} answered HTTP {response.status_code}: {str(exc).splitlines()[0]}."
                raise HubRequestError(msg, response.status_code) from exc
            try:
                obj = orjson.loads(response.content)
            except orjson.JSONDecodeError as exc:
                problem = f"body is not valid JSON ({exc})"
            else:
                if isinstance(obj, dict) and isinstance(obj.get("id"), str):
                    return obj
                problem = "body is not a model object"
            self._count(retries=1)
            self._sleep(self._backoff(attempt))
        msg = f"{url} kept answering a malformed body ({problem})."
        raise MalformedResponseError(msg)

    # -- cards ---------------------------------------------------------------------------------------

    def card_url(self, model_id: str, revision: str | None = None) -> str:
        # Not ``hf_hub_url``: it validates ids against today's rules, which older repos (ids over
        # 96 characters, say) do not meet, and those cards still exist.
        return f"{self.endpoint}/{quote(model_id, safe='/')}/resolve/{quote(revision or 'main', safe='')}/README.md"

    def fetch_card(self, model_id: str, sha: str | None = None) -> CardFetch:
        """Fetch a model's README.md and classify the outcome; never raises for a per-model failure."""
        url = self.card_url(model_id, sha)
        try:
            response = self.request(url)
            hf_raise_for_status(response)
            # "utf-8-sig": a README saved with a byte-order mark keeps it otherwise, and its front
            # matter (which must start the file with "---") is then missed.
            text = response.content.decode("utf-8-sig")
        except GatedRepoError as exc:
            return CardFetch(model_id, sha, "gated", exc.response.status_code, None, "GatedRepo")
        except RemoteEntryNotFoundError as exc:
            return CardFetch(model_id, sha, "missing", exc.response.status_code, None, "EntryNotFound")
        except RepositoryNotFoundError as exc:
            status = exc.response.status_code if exc.response is not None else None
            return CardFetch(model_id, sha, "missing", status, None, "RepoNotFound")
        except HfHubHTTPError as exc:
            status = exc.response.status_code if exc.response is not None else None
            return CardFetch(model_id, sha, "error", status, None, str(exc).splitlines()[0][:500])
        except UnicodeDecodeError as exc:
            return CardFetch(model_id, sha, "error", 200, None, f"README.md is not UTF-8: {exc}")
        except HubCrawlError as exc:
            return CardFetch(model_id, sha, "error", None, None, str(exc)[:500])
        return CardFetch(model_id, sha, "ok", response.status_code, text)
