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
import re
import threading
import time
from collections import Counter
from typing import Any
from urllib.parse import urlencode

import orjson
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from flows.errors import CorpusFormatError
from flows.hub_server._corpus import (
    DEFAULT_LISTING_FIELDS,
    EXPANDABLE_PROPERTIES,
    SORT_ALIASES,
    Corpus,
    CursorError,
    ListingQuery,
    load_corpus,
)
from flows.hub_server._datasets import DATASET_RESOLVER_PATH, DatasetStore, dataset_api, dataset_resolve
from flows.hub_server._faults import FaultSpec
from flows.hub_server._ratelimit import BUCKETS, RateLimiter

#: Largest page ``/api/models`` answers (the Hub's cap); also the default page size.
MAX_PAGE_SIZE = 1000

RESOLVER_PATH = re.compile(r"^/(?P<repo>[^/]+(?:/[^/]+)?)/(?P<kind>resolve|raw)/(?P<revision>[^/]+)/(?P<filename>.+)$")
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


class HubState:
    """Everything the routes share: the current corpus snapshot, limits, faults, counters."""

    def __init__(
        self,
        corpus_path: str,
        *,
        api_quota: int | None = None,
        resolver_quota: int | None = None,
        window_seconds: float = 300.0,
        faults: FaultSpec | str | None = None,
        gated_status: int = 401,
        serve_gated_cards: bool = False,
        corpus: Corpus | None = None,
        datasets: str | None = None,
    ) -> None:
        if gated_status not in (401, 403):
            msg = f"gated_status must be 401 or 403 (the Hub's answers for gated files), got {gated_status}"
            raise ValueError(msg)
        self.corpus_path = corpus_path
        self.limiter = RateLimiter({"api": api_quota, "resolvers": resolver_quota}, window_seconds)
        self.faults = FaultSpec.parse(faults)
        self.gated_status = gated_status
        self.serve_gated_cards = serve_gated_cards
        self.stats = HubStats()
        self.datasets = DatasetStore(datasets) if datasets else None
        self._corpus = corpus
        self._reload_lock = threading.Lock()
        self._fault_sequence = itertools.count()
        self._first_pages_left = self.faults.first_page_429
        self.generation = 0 if corpus is None else 1

    @property
    def corpus(self) -> Corpus:
        """The corpus snapshot serving requests now (loaded on first use)."""
        if self._corpus is None:
            self.reload()
        assert self._corpus is not None
        return self._corpus

    def reload(self) -> Corpus:
        """Re-read the corpus folder and swap it in at once; requests in flight keep the old one."""
        with self._reload_lock:
            corpus = load_corpus(self.corpus_path)
            self._corpus = corpus
            self.generation += 1
            return corpus

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


async def list_models(request: Request) -> Response:
    """``GET /api/models``: filtered, sorted, keyset-paginated listing."""
    corpus = _state(request).corpus
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
        page = corpus.page(query, limit, params.get("cursor"))
    except CursorError as exc:
        return _error(400, str(exc))
    headers = {}
    if page.next_cursor is not None:
        items = [(key, value) for key, value in params.multi_items() if key != "cursor"]
        items.append(("cursor", page.next_cursor))
        headers["Link"] = f'<{request.url.replace(query=urlencode(items))}>; rel="next"'
    return Response(corpus.render(page.indices, fields), 200, headers, _JSON)


def _split_repo_path(path: str) -> tuple[str, str | None] | None:
    """``org/name`` or ``org/name/revision/<rev>`` → (repo id, revision); None if neither."""
    repo, sep, revision = path.partition("/revision/")
    if repo.count("/") > 1 or not repo or (sep and not revision):
        return None
    return repo, (revision or None)


def _commit_of(obj: dict) -> str:
    sha = obj.get("sha")
    if isinstance(sha, str) and sha:
        return sha
    return hashlib.sha1(f"hubgenome:{obj.get('id')}".encode()).hexdigest()


async def model_info(request: Request) -> Response:
    """``GET /api/models/{repo_id}[/revision/{rev}]``: the details object, else the listing one."""
    corpus = _state(request).corpus
    split = _split_repo_path(request.path_params["repo_path"])
    repo_id = split[0] if split else request.path_params["repo_path"]
    position = corpus.lookup(repo_id) if split else None
    if position is None:
        return _error(404, f"Repository not found: {repo_id}", "RepoNotFound")
    fields = _fields(request)
    if isinstance(fields, Response):
        return fields
    listing = corpus.model(position)
    revision = split[1] if split else None
    if revision is not None and revision not in ("main", _commit_of(listing)):
        return _error(404, f"Invalid rev id: {revision}", "RevisionNotFound")
    details = corpus.details_bytes(position)
    if details is not None and fields is None:
        return Response(details, 200, None, _JSON)  # verbatim
    raw = details if details is not None else corpus.lines[position]
    return Response(corpus.render_one(raw, position, fields), 200, None, _JSON)


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
    corpus = state.corpus
    repo_id = match["repo"]
    position = corpus.lookup(repo_id)
    if position is None:
        return _error(404, f"Repository not found: {repo_id}", "RepoNotFound")
    model = corpus.model(position)
    commit = _commit_of(model)
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
    card = corpus.card(position) if match["filename"] == "README.md" else None
    if card is None:
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


def build_app(state: HubState) -> HubFront:
    """The ASGI application serving ``state`` (the Hub routes behind :class:`HubFront`)."""
    app = Starlette(
        routes=[
            Route("/_hubgenome/stats", stats_route),
            Route("/_hubgenome/stats/reset", reset_stats_route, methods=["POST"]),
            Route("/_hubgenome/reload", reload_route, methods=["POST"]),
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


class HubFront:
    """ASGI wrapper: counts, rate-limits and fault-injects the Hub routes, then calls the app.

    ``/_hubgenome/*`` passes straight through (never counted, limited or faulted).
    """

    def __init__(self, app: Starlette, state: HubState) -> None:
        self.app = app
        self.state = state

    async def __call__(self, scope: dict, receive: Any, send: Any) -> None:
        path = scope.get("path", "")
        if scope["type"] != "http" or path.startswith("/_hubgenome/"):
            await self.app(scope, receive, send)
            return
        state = self.state
        stats = state.stats
        started = time.perf_counter()
        bucket = "resolvers" if RESOLVER_PATH.match(path) or DATASET_RESOLVER_PATH.match(path) else "api"
        limit = state.limiter.hit(bucket, _client_key(scope))
        stats.request(bucket)
        rate_headers = list(limit.headers)
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
