"""A local, offline Hugging Face Hub: serve a corpus folder so real clients can crawl it.

The real ``huggingface_hub`` client and our crawler talk to it exactly as to huggingface.co
(``HfApi(endpoint=hub.url)``): listing with keyset ``Link`` pagination, model info, README.md
through the resolver, the Hub's rate-limit headers and 429s, plus seeded fault injection. It
holds the 760,000-model ``hub-2024-07`` corpus and pages through it at full speed.

Examples
--------
>>> from hubgenome.local_hub.server import HubBehaviour, LocalHub                     # doctest: +SKIP
>>> with LocalHub("../shared/hubdata/trees-2025-04", HubBehaviour(api_quota=500)) as hub:  # doctest: +SKIP
...     models = list(HfApi(endpoint=hub.url).list_models(sort="createdAt"))
...     hub.stats()["requests"]

Routes: ``GET /api/models``, ``GET /api/models/{id}[/revision/{rev}]``,
``GET|HEAD /{id}/resolve|raw/{rev}/README.md``; with ``datasets=DIR`` also dataset repos
(``GET /api/datasets/{id}[/revision/{rev}|/tree/{rev}]``, ``GET|HEAD /datasets/{id}/resolve/{rev}/{path}``,
see ``_datasets.py``); control routes (never limited or faulted)
``GET /_hubgenome/stats``, ``POST /_hubgenome/stats/reset``, ``POST /_hubgenome/reload``,
``GET|POST /_hubgenome/clock``, ``POST /_hubgenome/faults``, ``GET|POST /_hubgenome/events``,
``GET /_hubgenome/truth``.

A *living* Hub changes while it is crawled: a simulated clock (``_clock.py``) and events
(``_events.py``: create, commit, card edit, delete, rename, transfer, launch, make private, gate,
disable, counters) applied to a mutable overlay of the corpus (``_living.py``) before each
request is answered; private repos exist only for their owner's token; heavy pages answer 504.
All of that is one :class:`HubBehaviour` (``_behaviour.py``), whichever way the server is started.
``docs/living_hub.md`` tells how to drive it and how its default rates were calibrated.
"""

from __future__ import annotations

import os
import socket
import sys
import threading
import time
from collections.abc import Callable, Iterable
from types import TracebackType
from typing import Any

import uvicorn

from hubgenome.local_hub.server._app import MAX_PAGE_SIZE, HubState, HubTruth, build_app
from hubgenome.local_hub.server._behaviour import HubBehaviour
from hubgenome.local_hub.server._clock import HubClock
from hubgenome.local_hub.server._corpus import (
    DEFAULT_LISTING_FIELDS,
    EXPANDABLE_PROPERTIES,
    Corpus,
    check_layout,
    load_corpus,
)
from hubgenome.local_hub.server._events import (
    DEFAULT_RATES,
    EVENT_KINDS,
    HubEvent,
    format_rates,
    generate_events,
    parse_rates,
    read_events,
    write_events,
)
from hubgenome.local_hub.server._faults import FaultDecision, FaultSpec
from hubgenome.local_hub.server._living import LivingCorpus
from hubgenome.local_hub.server._ratelimit import UNLIMITED_QUOTA

__all__ = [
    "DEFAULT_LISTING_FIELDS",
    "DEFAULT_RATES",
    "EVENT_KINDS",
    "EXPANDABLE_PROPERTIES",
    "MAX_PAGE_SIZE",
    "UNLIMITED_QUOTA",
    "Corpus",
    "FaultDecision",
    "FaultSpec",
    "HubBehaviour",
    "HubClock",
    "HubEvent",
    "HubTruth",
    "LivingCorpus",
    "LocalHub",
    "format_rates",
    "generate_events",
    "load_corpus",
    "parse_rates",
    "read_events",
    "serve",
    "write_events",
]


def _http_implementation() -> str:
    """httptools when installed (a faster parser), else h11 (always there)."""
    try:
        import httptools  # noqa: F401
    except ImportError:
        return "h11"
    return "httptools"


class _Server(uvicorn.Server):
    """A uvicorn server that calls back once it is accepting connections."""

    def __init__(self, config: uvicorn.Config, on_started: Callable[[], None] | None = None) -> None:
        super().__init__(config)
        self._on_started = on_started

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        await super().startup(sockets)
        if self.started and self._on_started is not None:
            self._on_started()


def _bind(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    # proto=IPPROTO_TCP matters: asyncio only sets TCP_NODELAY on accepted sockets of that proto,
    # and without it every keep-alive answer waits ~40 ms for the client's delayed ACK.
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError as exc:
        sock.close()
        msg = f"cannot listen on {host}:{port} ({exc}); choose another --port (0 picks a free one)"
        raise OSError(msg) from exc
    sock.set_inheritable(True)
    return sock


def _url(host: str, port: int) -> str:
    shown = {"0.0.0.0": "127.0.0.1", "::": "::1", "": "127.0.0.1"}.get(host, host)
    if ":" in shown:
        shown = f"[{shown}]"
    return f"http://{shown}:{port}"


def _config(state: HubState) -> uvicorn.Config:
    return uvicorn.Config(
        build_app(state),
        loop="asyncio",
        http=_http_implementation(),
        lifespan="off",
        log_level="warning",
        access_log=False,
        timeout_keep_alive=65,  # longer than a rate-limit pause: no idle-close racing a request
        date_header=False,  # answers carry the hub clock's Date instead (see HubFront)
    )


class LocalHub:
    """A local Hub serving a corpus folder from a background thread.

    Parameters
    ----------
    corpus_path
        A folder in the ``shared/hubdata`` layout (``models-NN.jsonl.gz``, optional
        ``cards-NN.jsonl.gz`` and ``details-NN.jsonl.gz``). Loaded when the server starts.
    behaviour
        How the Hub answers and changes (:class:`HubBehaviour`: rate limits, faults, gating,
        tokens, heavy pages, datasets, events and clock); None: a plain, unlimited, still Hub.
    host, port
        Where to listen; ``port=0`` picks a free port (read it back from :attr:`url`).

    Raises
    ------
    hubgenome.core.errors.CorpusFormatError
        At construction if the folder is not a corpus; at :meth:`start` if a line is malformed.

    Examples
    --------
    >>> with LocalHub(corpus, HubBehaviour(resolver_quota=100, window_seconds=1)) as hub:  # doctest: +SKIP
    ...     api = HfApi(endpoint=hub.url)
    ...     api.model_info("gpt2")
    ...     hub.reload()  # pick up changes in the corpus folder
    ...     hub.stats()["by_bucket"]
    """

    def __init__(
        self,
        corpus_path: str | os.PathLike[str],
        behaviour: HubBehaviour | None = None,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
    ) -> None:
        self.corpus_path = check_layout(corpus_path)
        self.host = host
        self._requested_port = port
        self._state = HubState(str(self.corpus_path), behaviour)
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None
        self._socket: socket.socket | None = None
        self.port: int | None = None

    @property
    def url(self) -> str:
        """Base URL of the running server, e.g. ``http://127.0.0.1:54321`` (pass as endpoint)."""
        if self.port is None:
            msg = "the LocalHub is not running: use it as a context manager or call start() first"
            raise RuntimeError(msg)
        return _url(self.host, self.port)

    @property
    def corpus(self) -> Corpus:
        """The corpus snapshot in service."""
        return self._state.corpus

    @property
    def faults(self) -> FaultSpec:
        """The fault spec in force."""
        return self._state.faults

    def start(self, timeout: float = 120.0) -> LocalHub:
        """Load the corpus, start serving in a background thread and wait until it accepts."""
        if self._thread is not None:
            return self
        self._state.corpus  # noqa: B018 - load before listening, errors surface here
        sock = _bind(self.host, self._requested_port)
        self._socket = sock
        ready = threading.Event()
        server = _Server(_config(self._state), on_started=ready.set)
        self._server = server
        thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, name="hubgenome-hub", daemon=True)
        thread.start()
        self._thread = thread
        deadline = time.monotonic() + timeout
        while not ready.wait(0.05):
            if not thread.is_alive() or time.monotonic() > deadline:
                self.stop()
                msg = f"the local Hub did not start on {self.host}:{sock.getsockname()[1]}"
                raise RuntimeError(msg)
        self.port = sock.getsockname()[1]
        return self

    def stop(self) -> None:
        """Stop the server and wait for its thread."""
        if self._server is not None:
            self._server.should_exit = True
        if self._thread is not None:
            self._thread.join(timeout=30)
        if self._socket is not None:
            self._socket.close()
        self._server = self._thread = self._socket = None
        self.port = None

    def __enter__(self) -> LocalHub:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    def stats(self) -> dict[str, Any]:
        """Counters: ``requests``, ``by_bucket``, ``throttled_429``, ``over_quota``, ``faults_injected``, ...

        See :meth:`hubgenome.local_hub.server._app.HubStats.snapshot` for every key.
        """
        return self._state.stats.snapshot()

    def reset_stats(self) -> None:
        """Set every counter back to zero."""
        self._state.stats.reset()

    def reload(self) -> Corpus:
        """Re-read the corpus folder and swap the new index in atomically (applied events replayed)."""
        return self._state.reload()

    # --- the living Hub ----------------------------------------------------------------------

    @property
    def clock(self) -> HubClock:
        """The hub clock: ``now()``, ``advance(seconds)``, ``set(datetime)``."""
        return self._state.clock

    @property
    def living(self) -> LivingCorpus:
        """The corpus with every applied event overlaid (what the Hub routes serve)."""
        return self._state.living

    @property
    def event_log(self) -> list[HubEvent]:
        """The events applied so far, in the order applied (the ground truth of what happened)."""
        return self._state.event_log

    @property
    def skipped_events(self) -> list[HubEvent]:
        """Events that came due but could not apply (their model was gone, the id taken, ...)."""
        return self._state.skipped_events

    def schedule(self, events: Iterable[HubEvent]) -> None:
        """Add events; each applies before the first Hub request answered at or after its ``at``."""
        self._state.schedule(events)

    def apply_due_events(self) -> list[HubEvent]:
        """Apply the events due at the clock's now (without waiting for a request); returns them."""
        return self._state.apply_due_events()

    def advance(self, seconds: float) -> list[HubEvent]:
        """Move the clock forward and apply what became due; returns the events applied."""
        self._state.clock.advance(seconds)
        return self._state.apply_due_events()

    def truth(self) -> HubTruth:
        """The public state now: ``.models`` ``{id: info object}``, ``.cards`` ``{id: text}``, ``.at``."""
        return self._state.truth()

    def set_faults(self, faults: FaultSpec | str | None) -> FaultSpec:
        """Replace the fault spec at runtime (``None`` or ``"none"``: no faults)."""
        return self._state.set_faults(faults)


def serve(
    corpus_path: str | os.PathLike[str],
    behaviour: HubBehaviour | None = None,
    *,
    host: str = "127.0.0.1",
    port: int = 0,
    announce: Callable[[str], None] | None = None,
) -> None:
    """Serve a corpus in the foreground until interrupted (Ctrl-C / SIGTERM).

    Prints the URL alone on a line of stdout (flushed) once the server accepts connections, so a
    script can wait for it; progress and figures go to stderr. ``behaviour``, ``host`` and
    ``port`` are those of :class:`LocalHub`; ``announce`` replaces the URL printing.
    """
    folder = check_layout(corpus_path)
    state = HubState(str(folder), behaviour)
    print(f"loading corpus {folder} ...", file=sys.stderr, flush=True)
    corpus = state.corpus
    print(
        f"loaded {len(corpus):,} models, {len(corpus.cards):,} cards, {len(corpus.details):,} details "
        f"in {corpus.load_seconds:.1f} s",
        file=sys.stderr,
        flush=True,
    )
    sock = _bind(host, port)
    url = _url(host, sock.getsockname()[1])

    def started() -> None:
        if announce is not None:
            announce(url)
        else:
            print(url, flush=True)
        if state.faults.active:
            print(f"fault injection on: {state.faults}", file=sys.stderr, flush=True)
        clock = state.clock
        if state.event_rates is not None or state.pending_events:
            rates = format_rates(state.event_rates) if state.event_rates else "none"
            print(
                f"living Hub: clock at {clock.now().isoformat()} (speed {clock.speed:g}, "
                f"{clock.seconds_per_request:g} s per request), {state.pending_events} events scheduled, rates {rates}",
                file=sys.stderr,
                flush=True,
            )

    try:
        _Server(_config(state), on_started=started).run(sockets=[sock])
    finally:
        sock.close()
