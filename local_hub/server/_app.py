"""The HTTP face of the local Hub: Hub-compatible routes behind a rate-limit and fault front.

Two layers, so each can be read on its own:

* a Starlette app with the Hub's routes (``/api/models``, ``/api/models/{id}``,
  ``/{id}/resolve|raw/{revision}/README.md``) and the control routes under ``/_hubgenome/``;
* :class:`HubFront`, a plain ASGI wrapper that counts every request, applies the fixed-window
  rate limits, adds the ``RateLimit`` headers to every answer and injects the seeded faults. It
  sits outside Starlette so it can drop a connection without answering (which an ASGI app cannot
  otherwise do: the server would send a 500).

Handlers are ``async`` and do their (short, CPU-bound) work inline: no thread-pool hop per page.
"""

from __future__ import annotations

import asyncio
import hashlib
import itertools
import os
import re
import threading
import time
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlencode

import orjson
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from hubgenome.core.errors import CorpusFormatError, HubgenomeError
from hubgenome.local_hub.server._behaviour import HubBehaviour
from hubgenome.local_hub.server._clock import HubClock, http_date, iso_z, parse_moment
from hubgenome.local_hub.server._corpus import (
    DEFAULT_LISTING_FIELDS,
    EXPANDABLE_PROPERTIES,
    SORT_ALIASES,
    Corpus,
    CursorError,
    ListingQuery,
    load_corpus,
)
from hubgenome.local_hub.server._datasets import DATASET_RESOLVER_PATH, DatasetStore, dataset_api, dataset_resolve
from hubgenome.local_hub.server._events import EventQueue, HubEvent, generate_events, parse_rates, read_events
from hubgenome.local_hub.server._faults import FaultSpec
from hubgenome.local_hub.server._living import Found, LivingCorpus, commit_of, moment_from_ms
from hubgenome.local_hub.server._ratelimit import BUCKETS, RateLimiter

#: Largest page ``/api/models`` answers (the Hub's cap); also the default page size.
MAX_PAGE_SIZE = 1000

RESOLVER_PATH = re.compile(r"^/(?P<repo>[^/]+(?:/[^/]+)?)/(?P<kind>resolve|raw)/(?P<revision>[^/]+)/(?P<filename>.+)$")
#: Rate-driven events are drawn one simulated day at a time, from the state the Hub is in then.
_GENERATION_CHUNK = timedelta(days=1)
_TRUE = frozenset({"1", "true", "yes", "on"})
_JSON = "application/json"


class HubStats:
    """Thread-safe counters of what the server answered (read them with :meth:`snapshot`)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.reset()

    def reset(self) -> None:
        """Set every counter back to zero."""
        with self._lock:
            self._requests = 0
            self._by_bucket: Counter[str] = Counter({bucket: 0 for bucket in BUCKETS})
            self._by_status: Counter[int] = Counter()
            self._throttled = 0
            self._over_quota = 0
            self._faults: Counter[str] = Counter()
            self._server_seconds = 0.0
            self._listing_pages = 0

    def request(self, bucket: str) -> None:
        """Count a request to a Hub route in ``bucket``."""
        with self._lock:
            self._requests += 1
            self._by_bucket[bucket] += 1

    def answered(self, status: int, seconds: float = 0.0, listing_page: bool = False) -> None:
        """Count an answer by status (and the time it took to produce)."""
        with self._lock:
            self._by_status[status] += 1
            self._server_seconds += seconds
            if status == 429:
                self._throttled += 1
            if listing_page and status == 200:
                self._listing_pages += 1

    def over_quota(self) -> None:
        """Count a request beyond its bucket's quota."""
        with self._lock:
            self._over_quota += 1

    def fault(self, kind: str) -> None:
        """Count an injected fault of ``kind``."""
        with self._lock:
            self._faults[kind] += 1

    def snapshot(self) -> dict[str, Any]:
        """The counters as plain JSON-able data.

        Keys: ``requests`` (Hub routes, not ``/_hubgenome``), ``by_bucket`` (``api``,
        ``resolvers``), ``throttled_429`` (every 429 sent, quota or fault), ``over_quota``
        (requests beyond a bucket's quota), ``faults_injected`` (by kind: ``status_503``, ``drop``,
        ``truncate``, ``slow``, ``first_page_429``), ``by_status``, ``listing_pages`` (200 pages of
        ``/api/models``) and ``server_seconds`` (time spent producing answers).
        """
        with self._lock:
            return {
                "requests": self._requests,
                "by_bucket": dict(self._by_bucket),
                "throttled_429": self._throttled,
                "over_quota": self._over_quota,
                "faults_injected": dict(self._faults),
                "by_status": {str(status): n for status, n in sorted(self._by_status.items())},
                "listing_pages": self._listing_pages,
                "server_seconds": round(self._server_seconds, 6),
            }


@dataclass(frozen=True)
class HubTruth:
    """The public state of the living Hub at one moment (see :meth:`HubState.truth`).

    Attributes
    ----------
    at
        The hub clock's moment.
    models
        ``{id: object}`` of every public model, as ``/api/models/{id}`` serves it.
    cards
        ``{id: README.md text}`` the resolver serves an anonymous client (not gated unless the
        Hub serves gated cards, not disabled).
    events_applied
        How many events the Hub has applied so far (``event_log`` holds them).
    """

    at: datetime
    models: dict[str, dict]
    cards: dict[str, str]
    events_applied: int

    def to_json(self) -> dict[str, Any]:
        """The truth as plain JSON-able data (``at`` in the API's ISO form)."""
        return {"at": iso_z(self.at), "events_applied": self.events_applied, "models": self.models, "cards": self.cards}


class HubState:
    """Everything the routes share: the corpus and its living overlay, clock, events, limits, faults."""

    def __init__(
        self, corpus_path: str, behaviour: HubBehaviour | None = None, *, corpus: Corpus | None = None
    ) -> None:
        behaviour = behaviour or HubBehaviour()
        self.corpus_path = corpus_path
        quotas = {"api": behaviour.api_quota, "resolvers": behaviour.resolver_quota}
        self.limiter = RateLimiter(quotas, behaviour.window_seconds)
        self.faults = FaultSpec.parse(behaviour.faults)
        self.gated_status = behaviour.gated_status
        self.serve_gated_cards = behaviour.serve_gated_cards
        self.stats = HubStats()
        self.datasets = DatasetStore(str(behaviour.datasets)) if behaviour.datasets else None
        self.tokens = dict(behaviour.tokens)
        self.heavy_page_budget = behaviour.heavy_page_budget
        rate = behaviour.event_rate
        self.event_rates = parse_rates(rate) if rate is not None else None
        if self.event_rates is not None and not any(self.event_rates.values()):
            self.event_rates = None
        self.seed = behaviour.seed
        self.event_log: list[HubEvent] = []
        self.skipped_events: list[HubEvent] = []
        events = behaviour.events
        self._queue = EventQueue(read_events(events) if isinstance(events, str | os.PathLike) else (events or ()))
        self._clock_options = (behaviour.clock_start, behaviour.clock_speed, behaviour.seconds_per_request)
        self._clock: HubClock | None = None
        self._generated_until: datetime | None = None
        self._chunks = 0
        self._events_lock = threading.RLock()
        self._corpus = corpus
        self._living = LivingCorpus(corpus) if corpus is not None else None
        self._reload_lock = threading.Lock()
        self._fault_sequence = itertools.count()
        self._first_pages_left = self.faults.first_page_429
        self.generation = 0 if corpus is None else 1

    @property
    def corpus(self) -> Corpus:
        """The base corpus snapshot serving requests now (loaded on first use)."""
        if self._corpus is None:
            self.reload()
        assert self._corpus is not None
        return self._corpus

    @property
    def living(self) -> LivingCorpus:
        """The base corpus with every applied event overlaid (what the Hub routes serve)."""
        if self._living is None:
            self.reload()
        assert self._living is not None
        return self._living

    @property
    def clock(self) -> HubClock:
        """The hub clock (created on first use: by default one day after the corpus's newest date)."""
        if self._clock is None:
            with self._events_lock:
                if self._clock is None:
                    start, speed, per_request = self._clock_options
                    if start is None:
                        newest = self.living.newest_moment()
                        start = datetime.now(UTC) if newest is None else moment_from_ms(newest) + timedelta(days=1)
                    clock = HubClock(start, speed=speed, seconds_per_request=per_request)
                    self._generated_until = clock.now()
                    self._clock = clock
        return self._clock

    def reload(self) -> Corpus:
        """Re-read the corpus folder and swap it in at once; requests in flight keep the old one.

        The events applied so far are replayed onto the new corpus (those that no longer apply
        are skipped), so the overlay survives a reload.
        """
        with self._reload_lock, self._events_lock:
            corpus = load_corpus(self.corpus_path)
            living = LivingCorpus(corpus)
            for event in self.event_log:
                living.apply(event)
            self._corpus = corpus
            self._living = living
            self.generation += 1
            return corpus

    # --- events ------------------------------------------------------------------------------

    def schedule(self, events: Iterable[HubEvent]) -> None:
        """Add events to apply once the clock reaches them (past ones: at the next request)."""
        with self._events_lock:
            self._queue.extend(events)

    @property
    def pending_events(self) -> int:
        """Events scheduled and not yet applied."""
        return len(self._queue)

    def apply_due_events(self) -> list[HubEvent]:
        """Apply every event due at the clock's now (generating the rate-driven ones first).

        Returns the events applied by this call; those that could not apply to the state they
        met (a commit to a model deleted since, ...) go to :attr:`skipped_events` instead.
        """
        clock = self.clock
        living = self.living
        applied: list[HubEvent] = []
        with self._events_lock:
            now = clock.now()
            if self.event_rates is not None:
                assert self._generated_until is not None
                while self._generated_until <= now:
                    self._apply_queue(living, self._generated_until, applied)
                    chunk_end = self._generated_until + _GENERATION_CHUNK
                    seed = self.seed * 1_000_003 + self._chunks
                    drawn = generate_events(living, self._generated_until, chunk_end, self.event_rates, seed)
                    self._queue.extend(drawn)
                    self._generated_until = chunk_end
                    self._chunks += 1
            self._apply_queue(living, now, applied)
        return applied

    def _apply_queue(self, living: LivingCorpus, now: datetime, applied: list[HubEvent]) -> None:
        for event in self._queue.pop_due(now):
            if living.apply(event):
                self.event_log.append(event)
                applied.append(event)
            else:
                self.skipped_events.append(event)

    def on_request(self) -> datetime:
        """Count a Hub request on the clock and apply what became due; returns the clock's now."""
        self.clock.tick()
        if len(self._queue) or self.event_rates is not None:
            self.apply_due_events()
        return self.clock.now()

    def truth(self) -> HubTruth:
        """The public state at the clock's now (due events applied first)."""
        self.apply_due_events()
        with self._events_lock:
            at = self.clock.now()
            models, cards = self.living.truth(serve_gated_cards=self.serve_gated_cards)
            return HubTruth(at, models, cards, len(self.event_log))

    # --- faults and users --------------------------------------------------------------------

    def set_faults(self, faults: FaultSpec | str | None) -> FaultSpec:
        """Replace the fault spec; decisions restart from request 0 of the new spec."""
        spec = FaultSpec.parse(faults)
        self._fault_sequence = itertools.count()
        self._first_pages_left = spec.first_page_429
        self.faults = spec
        return spec

    def user_for(self, authorization: str | None) -> str | None:
        """The user a ``Authorization: Bearer <token>`` header names (None: anonymous or unknown)."""
        if not authorization:
            return None
        scheme, _, token = authorization.partition(" ")
        if scheme.lower() != "bearer":
            return None
        return self.tokens.get(token.strip())

    def next_fault_sequence(self) -> int:
        """The number of the next request eligible for faults (0, 1, 2, ...)."""
        return next(self._fault_sequence)

    def take_first_page_429(self) -> bool:
        """Whether this listing request is one of the first ``first_page_429`` (counts it down)."""
        if self._first_pages_left > 0:
            self._first_pages_left -= 1
            return True
        return False


# --- routes ----------------------------------------------------------------------------------


def _error(status: int, message: str, code: str | None = None, headers: dict[str, str] | None = None) -> Response:
    all_headers = {"X-Error-Message": message.encode("ascii", "replace").decode()}
    if code is not None:
        all_headers["X-Error-Code"] = code
    all_headers.update(headers or {})
    return Response(orjson.dumps({"error": message}), status, all_headers, _JSON)


def _state(request: Request) -> HubState:
    return request.app.state.hub


def _fields(request: Request) -> frozenset[str] | Response | None:
    """The fields to answer with (None = all), or a 400 answer for an unknown ``expand``."""
    params = request.query_params
    expand = params.getlist("expand") + params.getlist("expand[]")
    if expand:
        for index, prop in enumerate(expand):
            if prop not in EXPANDABLE_PROPERTIES:
                allowed = ", ".join(sorted(EXPANDABLE_PROPERTIES))
                return _error(400, f'"expand[{index}]" must be one of [{allowed}]')
        return frozenset(expand) | {"_id", "id"}
    return None


def _user(request: Request) -> str | None:
    return _state(request).user_for(request.headers.get("authorization"))


def _heavy_page(state: HubState, limit: int, fields: frozenset[str] | None) -> Response | None:
    """A 504 for a page heavier than the budget, as the Hub times out on them.

    A page weighs ``limit × properties``: every expandable property with ``full=true``, the
    ``expand[]`` ones, else the default listing fields (``_id`` and ``id`` never count).
    """
    budget = state.heavy_page_budget
    if budget is None:
        return None
    weight = len(EXPANDABLE_PROPERTIES) if fields is None else len(fields - {"_id", "id"})
    if limit * max(weight, 1) <= budget:
        return None
    message = (
        f"The request timed out: a page of {limit} models with {weight} properties each is too heavy "
        f"(at most {budget} model-properties per page here); ask for a smaller limit or fewer expand[] properties."
    )
    return _error(504, message, "GatewayTimeout")


async def list_models(request: Request) -> Response:
    """``GET /api/models``: filtered, sorted, keyset-paginated listing (the living state)."""
    state = _state(request)
    living = state.living
    params = request.query_params
    sort_param = params.get("sort") or "_id"
    sort = SORT_ALIASES.get(sort_param)
    if sort is None:
        return _error(400, f"Invalid sort parameter {sort_param!r}: use one of {sorted(set(SORT_ALIASES.values()))}")
    try:
        limit = min(MAX_PAGE_SIZE, int(params.get("limit") or MAX_PAGE_SIZE))
    except ValueError:
        return _error(400, f"Invalid limit {params.get('limit')!r}: use an integer from 1 to {MAX_PAGE_SIZE}")
    if limit < 1:
        return _error(400, f"Invalid limit {limit}: use an integer from 1 to {MAX_PAGE_SIZE}")
    fields = _fields(request)
    if isinstance(fields, Response):
        return fields
    if fields is None and params.get("full", "").lower() not in _TRUE:
        fields = DEFAULT_LISTING_FIELDS
        extra = {name for name in ("cardData", "config") if params.get(name, "").lower() in _TRUE}
        if extra:
            fields = fields | extra
    heavy = _heavy_page(state, limit, fields)
    if heavy is not None:
        return heavy
    filters = params.getlist("filter") + [
        value for name in ("pipeline_tag", "library") for value in params.getlist(name) if value
    ]
    query = ListingQuery(
        sort=sort,
        search=params.get("search") or None,
        author=params.get("author") or None,
        filters=tuple(dict.fromkeys(tag for tag in filters if tag)),
    )
    try:
        page = living.page(query, limit, params.get("cursor"), _user(request))
    except CursorError as exc:
        return _error(400, str(exc))
    headers = {}
    if page.next_cursor is not None:
        items = [(key, value) for key, value in params.multi_items() if key != "cursor"]
        items.append(("cursor", page.next_cursor))
        headers["Link"] = f'<{request.url.replace(query=urlencode(items))}>; rel="next"'
    return Response(page.render(fields), 200, headers, _JSON)


def _split_repo_path(path: str) -> tuple[str, str | None] | None:
    """``org/name`` or ``org/name/revision/<rev>`` → (repo id, revision); None if neither."""
    repo, sep, revision = path.partition("/revision/")
    if repo.count("/") > 1 or not repo or (sep and not revision):
        return None
    return repo, (revision or None)


def _commit_of(obj: dict) -> str:
    return commit_of(obj)


def _redirect(request: Request, path: str) -> Response:
    """307 to the repo's new id with a *relative* Location, as the Hub answers for renamed repos.

    huggingface_hub follows such relative redirects itself for file downloads and metadata
    (huggingface/huggingface_hub PR #983, "Follow relative redirects", for repos renamed on the
    Hub); API requests follow them through the HTTP client.
    """
    location = path + (f"?{request.url.query}" if request.url.query else "")
    message = "Repository was renamed or transferred: follow the Location header"
    return Response(orjson.dumps({"error": message}), 307, {"Location": location}, _JSON)


def _found(request: Request, repo_id: str) -> Found | Response:
    found = _state(request).living.lookup(repo_id, _user(request))
    if found is None:
        return _error(404, f"Repository not found: {repo_id}", "RepoNotFound")
    return found


async def model_info(request: Request) -> Response:
    """``GET /api/models/{repo_id}[/revision/{rev}]``: the details object, else the listing one."""
    corpus = _state(request).corpus
    split = _split_repo_path(request.path_params["repo_path"])
    repo_id = split[0] if split else request.path_params["repo_path"]
    if split is None:
        return _error(404, f"Repository not found: {repo_id}", "RepoNotFound")
    found = _found(request, repo_id)
    if isinstance(found, Response):
        return found
    revision = split[1]
    if found.redirect is not None:
        suffix = f"/revision/{revision}" if revision else ""
        return _redirect(request, f"/api/models/{found.redirect}{suffix}")
    fields = _fields(request)
    if isinstance(fields, Response):
        return fields
    if found.live is not None:
        live = found.live
        if revision is not None and revision not in ("main", live.commit):
            return _error(404, f"Invalid rev id: {revision}", "RevisionNotFound")
        return Response(orjson.dumps(_project_fields(live.info(), fields)), 200, None, _JSON)
    position = found.position
    assert position is not None
    listing = corpus.model(position)
    if revision is not None and revision not in ("main", _commit_of(listing)):
        return _error(404, f"Invalid rev id: {revision}", "RevisionNotFound")
    details = corpus.details_bytes(position)
    if details is not None and fields is None:
        return Response(details, 200, None, _JSON)  # verbatim
    raw = details if details is not None else corpus.lines[position]
    return Response(corpus.render_one(raw, position, fields), 200, None, _JSON)


def _project_fields(obj: dict, fields: frozenset[str] | None) -> dict:
    head = {"_id": obj.get("_id"), "id": obj.get("id")}
    head.update(obj if fields is None else {key: value for key, value in obj.items() if key in fields})
    return head


def _git_blob_sha(content: bytes) -> str:
    return hashlib.sha1(b"blob %d\0" % len(content) + content).hexdigest()


async def resolve_file(request: Request) -> Response:
    """``GET|HEAD /{repo_id}/resolve|raw/{revision}/{filename}``: model cards (README.md)."""
    if DATASET_RESOLVER_PATH.match(request.url.path):
        return await dataset_resolve(request)  # dataset files (``--datasets``)
    state = _state(request)
    match = RESOLVER_PATH.match(request.url.path)
    if match is None:
        return _error(404, "Not Found")
    repo_id = match["repo"]
    found = _found(request, repo_id)
    if isinstance(found, Response):
        return found
    if found.redirect is not None:
        return _redirect(request, f"/{found.redirect}/{match['kind']}/{match['revision']}/{match['filename']}")
    if found.live is not None:
        model = found.live.obj
        commit = found.live.commit
        card = found.live.card
    else:
        assert found.position is not None
        model = state.corpus.model(found.position)
        commit = _commit_of(model)
        card = state.corpus.card(found.position)
    if match["revision"] not in ("main", commit):
        return _error(404, f"Invalid rev id: {match['revision']}", "RevisionNotFound")
    if model.get("disabled") is True:
        return _error(403, "Access to this resource is disabled.")
    gated = model.get("gated")
    if gated not in (None, False, "false") and not state.serve_gated_cards:
        message = (
            f"Access to model {model['id']} is restricted. You must have access to it "
            "and be authenticated to access it. Please log in."
        )
        return _error(state.gated_status, message, "GatedRepo")
    if match["filename"] != "README.md" or card is None:
        return _error(404, f"Entry not found: {match['filename']}", "EntryNotFound")
    headers = {"ETag": f'"{_git_blob_sha(card)}"', "X-Repo-Commit": commit}
    return Response(card, 200, headers, "text/plain; charset=utf-8")


async def stats_route(request: Request) -> Response:
    """``GET /_hubgenome/stats``: the counters of :class:`HubStats`, plus the corpus in service."""
    state = _state(request)
    payload = state.stats.snapshot()
    corpus = state.corpus
    payload["corpus"] = {
        "path": str(corpus.path),
        "models": len(corpus),
        "cards": len(corpus.cards),
        "details": len(corpus.details),
        "generation": state.generation,
        "load_seconds": round(corpus.load_seconds, 3),
    }
    payload["faults"] = str(state.faults) if state.faults.active else None
    payload["living"] = {
        "clock": iso_z(state.clock.now()),
        "models": len(state.living),
        "events_applied": len(state.event_log),
        "events_skipped": len(state.skipped_events),
        "events_pending": state.pending_events,
    }
    return Response(orjson.dumps(payload), 200, None, _JSON)


async def reset_stats_route(request: Request) -> Response:
    """``POST /_hubgenome/stats/reset``: set the counters back to zero."""
    _state(request).stats.reset()
    return Response(b"{}", 200, None, _JSON)


async def reload_route(request: Request) -> Response:
    """``POST /_hubgenome/reload``: re-read the corpus folder (off the event loop) and swap it in."""
    state = _state(request)
    try:
        corpus = await run_in_threadpool(state.reload)
    except CorpusFormatError as exc:
        return _error(422, f"reload failed, still serving the previous corpus: {exc}")
    payload = {
        "models": len(corpus),
        "cards": len(corpus.cards),
        "details": len(corpus.details),
        "generation": state.generation,
        "load_seconds": round(corpus.load_seconds, 3),
    }
    return Response(orjson.dumps(payload), 200, None, _JSON)


async def _json_body(request: Request) -> dict | Response:
    body = await request.body()
    if not body.strip():
        return {}
    try:
        payload = orjson.loads(body)
    except orjson.JSONDecodeError:
        return _error(400, "expected a JSON object body")
    if not isinstance(payload, dict):
        return _error(400, "expected a JSON object body")
    return payload


async def clock_route(request: Request) -> Response:
    """``GET|POST /_hubgenome/clock``: read the hub clock, or move it (``{"advance": s}`` / ``{"set": iso}``).

    Moving it applies the events that became due; the answer says how many.
    """
    state = _state(request)
    applied: list[HubEvent] = []
    if request.method == "POST":
        payload = await _json_body(request)
        if isinstance(payload, Response):
            return payload
        try:
            if "set" in payload:
                state.clock.set(parse_moment(str(payload["set"])))
            if "advance" in payload:
                state.clock.advance(float(payload["advance"]))
        except (TypeError, ValueError) as exc:
            return _error(400, f"cannot move the clock: {exc}; send {{'advance': seconds}} or {{'set': ISO time}}")
        applied = await run_in_threadpool(state.apply_due_events)
    answer = {
        "now": iso_z(state.clock.now()),
        "applied": len(applied),
        "events_applied": len(state.event_log),
        "events_pending": state.pending_events,
    }
    return Response(orjson.dumps(answer), 200, None, _JSON)


async def faults_route(request: Request) -> Response:
    """``POST /_hubgenome/faults``: replace the fault spec (``{"faults": "status=1.0:503;on=resolvers"}``)."""
    state = _state(request)
    payload = await _json_body(request)
    if isinstance(payload, Response):
        return payload
    try:
        spec = state.set_faults(payload.get("faults"))
    except HubgenomeError as exc:
        return _error(400, str(exc))
    return Response(orjson.dumps({"faults": str(spec) if spec.active else None}), 200, None, _JSON)


async def events_route(request: Request) -> Response:
    """``GET /_hubgenome/events``: the applied events (JSONL); ``POST``: schedule events (JSONL body)."""
    state = _state(request)
    if request.method == "POST":
        try:
            lines = (await request.body()).splitlines()
            events = [HubEvent.from_json(orjson.loads(line)) for line in lines if line.strip()]
        except (orjson.JSONDecodeError, HubgenomeError, AttributeError) as exc:
            return _error(400, f"expected one event object per line: {exc}")
        state.schedule(events)
        answer = {"scheduled": len(events), "events_pending": state.pending_events}
        return Response(orjson.dumps(answer), 200, None, _JSON)
    body = b"".join(orjson.dumps(event.to_json()) + b"\n" for event in list(state.event_log))
    return Response(body, 200, None, "application/x-ndjson")


async def truth_route(request: Request) -> Response:
    """``GET /_hubgenome/truth``: :meth:`HubState.truth` as JSON (large on a large corpus)."""
    state = _state(request)
    truth = await run_in_threadpool(state.truth)
    body = await run_in_threadpool(orjson.dumps, truth.to_json())
    return Response(body, 200, None, _JSON)


def build_app(state: HubState) -> HubFront:
    """The ASGI application serving ``state`` (the Hub routes behind :class:`HubFront`)."""
    app = Starlette(
        routes=[
            Route("/_hubgenome/stats", stats_route),
            Route("/_hubgenome/stats/reset", reset_stats_route, methods=["POST"]),
            Route("/_hubgenome/reload", reload_route, methods=["POST"]),
            Route("/_hubgenome/clock", clock_route, methods=["GET", "POST"]),
            Route("/_hubgenome/faults", faults_route, methods=["POST"]),
            Route("/_hubgenome/events", events_route, methods=["GET", "POST"]),
            Route("/_hubgenome/truth", truth_route),
            Route("/api/models", list_models),
            Route("/api/models/{repo_path:path}", model_info),
            Route("/api/datasets/{repo_path:path}", dataset_api),
            Route("/{path:path}", resolve_file),
        ]
    )
    app.state.hub = state
    return HubFront(app, state)


# --- the front: rate limits, faults, counters ------------------------------------------------


def _client_key(scope: dict) -> str:
    for name, value in scope["headers"]:
        if name == b"authorization":
            return "token:" + hashlib.sha256(value).hexdigest()
    client = scope.get("client")
    return f"ip:{client[0]}" if client else "ip:?"


async def _send_json(send: Any, status: int, payload: dict, headers: list[tuple[bytes, bytes]]) -> None:
    body = orjson.dumps(payload)
    start_headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode()), *headers]
    await send({"type": "http.response.start", "status": status, "headers": start_headers})
    await send({"type": "http.response.body", "body": body})


async def _drop_connection(send: Any) -> None:
    """Close the client's connection without a byte of answer.

    uvicorn's ``send`` is a method of its request cycle, which holds the transport: closing that
    is a real drop (the client sees "server disconnected without sending a response"). On another
    server, fall back to promising a long body and stopping early (the client sees a truncated
    body and a closed connection).
    """
    cycle = getattr(send, "__self__", None)
    transport = getattr(cycle, "transport", None)
    if transport is not None and hasattr(cycle, "disconnected"):
        transport.close()
        cycle.disconnected = True  # so uvicorn does not try to answer 500 on the closed socket
        return
    headers = [(b"content-type", b"application/json"), (b"content-length", b"1048576")]
    await send({"type": "http.response.start", "status": 200, "headers": headers})
    await send({"type": "http.response.body", "body": b"[", "more_body": True})


def _with_date(send: Any, state: HubState) -> Any:
    """``send`` adding a ``Date`` header from the hub clock (uvicorn's own is turned off)."""

    async def send_with_date(message: dict) -> None:
        if message["type"] == "http.response.start":
            date = (b"date", http_date(state.clock.now()).encode())
            message = {**message, "headers": [*message.get("headers", ()), date]}
        await send(message)

    return send_with_date


class HubFront:
    """ASGI wrapper: moves the hub clock, applies due events, counts, rate-limits and
    fault-injects the Hub routes, then calls the app.

    ``/_hubgenome/*`` passes straight through (never counted, limited, faulted or clock-moving).
    Every answer carries a ``Date`` header read from the hub clock.
    """

    def __init__(self, app: Starlette, state: HubState) -> None:
        self.app = app
        self.state = state

    async def __call__(self, scope: dict, receive: Any, send: Any) -> None:
        path = scope.get("path", "")
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        state = self.state
        if path.startswith("/_hubgenome/"):
            await self.app(scope, receive, _with_date(send, state))
            return
        stats = state.stats
        started = time.perf_counter()
        now = state.on_request()  # the clock moves and due events apply before anything is answered
        bucket = "resolvers" if RESOLVER_PATH.match(path) or DATASET_RESOLVER_PATH.match(path) else "api"
        limit = state.limiter.hit(bucket, _client_key(scope))
        stats.request(bucket)
        rate_headers = [*limit.headers, (b"date", http_date(now).encode())]
        if not limit.allowed:
            stats.over_quota()
            retry = [(b"retry-after", str(limit.reset_seconds).encode())]
            message = f"You have exceeded the '{bucket}' rate limit; retry after {limit.reset_seconds} seconds."
            await _send_json(send, 429, {"error": message}, rate_headers + retry)
            stats.answered(429)
            return

        truncate = False
        faults = state.faults
        listing = path == "/api/models"
        if listing and faults.first_page_429 and state.take_first_page_429():
            stats.fault("first_page_429")
            retry = [(b"retry-after", b"1")]
            await _send_json(send, 429, {"error": "Too many requests (injected)"}, rate_headers + retry)
            stats.answered(429)
            return
        if faults.active and bucket in faults.on and (bucket == "resolvers" or path.startswith("/api/models")):
            decision = faults.decide(state.next_fault_sequence())
            if decision.delay:
                stats.fault("slow")
                await asyncio.sleep(decision.delay)
            if decision.kind == "drop":
                stats.fault("drop")
                await _drop_connection(send)
                return
            if decision.kind == "status":
                assert decision.status is not None
                stats.fault(f"status_{decision.status}")
                extra = [(b"retry-after", b"1")] if decision.status in (429, 503) else []
                await _send_json(send, decision.status, {"error": "Injected fault"}, rate_headers + extra)
                stats.answered(decision.status)
                return
            truncate = decision.kind == "truncate" and bucket == "api"

        held: dict | None = None

        async def send_with_headers(message: dict) -> None:
            nonlocal held
            if message["type"] == "http.response.start":
                status = message["status"]
                elapsed = time.perf_counter() - started
                stats.answered(status, elapsed, listing)
                timing = (b"server-timing", b"app;dur=%.3f" % (elapsed * 1000))
                headers = [*message.get("headers", ()), *rate_headers, timing]
                message = {**message, "headers": headers}
                if truncate and status == 200:
                    held = message
                    return
            elif held is not None and message["type"] == "http.response.body":
                body = message.get("body", b"")
                cut = body[: len(body) // 2]
                headers = [(k, v) for k, v in held["headers"] if k.lower() != b"content-length"]
                headers.append((b"content-length", str(len(cut)).encode()))
                stats.fault("truncate")
                await send({**held, "headers": headers})
                held = None
                message = {"type": "http.response.body", "body": cut, "more_body": False}
            await send(message)

        await self.app(scope, receive, send_with_headers)
