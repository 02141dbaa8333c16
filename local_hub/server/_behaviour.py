"""How a local Hub behaves, as one frozen object: limits, faults, gating, private repos, heavy pages, life.

The same settings reach the server from three doors (``LocalHub`` in tests, ``hubgenome serve-hub``,
``python -m hubgenome.local_hub.server``) and used to be threaded through each as sixteen keyword
arguments. A :class:`HubBehaviour` is built once at the door and handed to the server state whole;
where the server listens (host, port) stays apart, since it is not how the Hub behaves.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime

from hubgenome.local_hub.server._events import HubEvent
from hubgenome.local_hub.server._faults import FaultSpec


@dataclass(frozen=True)
class HubBehaviour:
    """How the local Hub answers, and how it changes while it is crawled; every default is the plain Hub.

    Rate limits and faults
    ----------------------
    api_quota, resolver_quota
        Requests per window allowed per client (token, else IP) on ``/api/...`` and on the file
        resolvers; None or 0: unlimited (the headers still announce a large quota).
    window_seconds
        Length of the fixed rate-limit window (the Hub uses 300 s; tests use ~1 s).
    faults
        A :class:`FaultSpec` or spec string (grammar in ``_faults.py``), or None for none.

    What a client may see
    ---------------------
    gated_status
        401 (the Hub's answer without a token) or 403 for cards of gated models.
    serve_gated_cards
        Serve gated models' cards anyway, as for a token with access.
    tokens
        ``{token: user}``: a private model exists only for its owner's ``Bearer`` token.
    heavy_page_budget
        Answer 504 to ``/api/models`` pages whose ``limit × properties`` exceeds this; None: never.
    datasets
        A folder of dataset repos (``<owner>/<name>/<files>``) to serve for ``huggingface_hub``'s
        dataset downloads, or None.

    A living Hub (``docs/living_hub.md``)
    -------------------------------------
    events
        :class:`HubEvent` s (or a JSONL file of them) to apply when the hub clock reaches them.
    event_rate, seed
        Draw events at these rates (a spec like ``"default"`` or ``"create=0.005,commit=0.01"``,
        fractions of the corpus per simulated day; see ``_events.py``), seeded, one simulated day
        at a time from the state the Hub is in.
    clock_start
        The hub clock's first moment (default: one day after the corpus's newest date).
    clock_speed
        Simulated seconds per real second (default 0: the clock moves only when told to).
    seconds_per_request
        Simulated seconds each request to a Hub route adds (events then happen during a crawl).

    Raises
    ------
    ValueError
        For a ``gated_status`` the Hub never answers, or a ``heavy_page_budget`` below 1.

    Examples
    --------
    >>> HubBehaviour(api_quota=500, faults="status=0.1:503;seed=7").window_seconds
    300.0
    """

    api_quota: int | None = None
    resolver_quota: int | None = None
    window_seconds: float = 300.0
    faults: FaultSpec | str | None = None
    gated_status: int = 401
    serve_gated_cards: bool = False
    tokens: Mapping[str, str] = field(default_factory=dict)
    heavy_page_budget: int | None = None
    datasets: str | os.PathLike[str] | None = None
    events: Iterable[HubEvent] | str | os.PathLike[str] | None = None
    event_rate: str | dict[str, float] | None = None
    seed: int = 0
    clock_start: datetime | str | None = None
    clock_speed: float = 0.0
    seconds_per_request: float = 0.0

    def __post_init__(self) -> None:
        if self.gated_status not in (401, 403):
            msg = f"gated_status must be 401 or 403 (the Hub's answers for gated files), got {self.gated_status}"
            raise ValueError(msg)
        if self.heavy_page_budget is not None and self.heavy_page_budget < 1:
            msg = f"heavy_page_budget must be a positive number of (models x fields), got {self.heavy_page_budget}"
            raise ValueError(msg)
        if self.events is not None and not isinstance(self.events, str | os.PathLike):
            # A generator would be spent by the first reader: keep the events themselves.
            object.__setattr__(self, "events", tuple(self.events))
