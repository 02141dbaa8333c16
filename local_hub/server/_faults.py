"""Seeded, reproducible fault injection for the local Hub server.

A crawler is only as good as its behaviour on a bad day: 503 storms, connections that die, bodies
cut short, a 429 on the very first page. This module turns a one-line spec into a
:class:`FaultSpec` and decides, for the n-th eligible request, which fault (if any) to inject.
Decisions come from a counter-based generator (a hash of ``(seed, n, stream)``), never from global
random state, so the same seed gives the same sequence of decisions on every run and machine.

Grammar (clauses separated by ``;``, whitespace ignored, every clause optional)::

    spec     := clause (";" clause)*          | "" | "none"
    clause   := "status=" share ":" code ("," share ":" code)*   a share of answers get HTTP <code>
              | "slow="   share ":" seconds                       a share of answers wait <seconds> first
              | "drop="   share                                   a share of connections close, no answer
              | "truncate=" share                                 a share of 200 JSON bodies cut in half
              | "first_page_429=" count                           the first <count> GET /api/models get 429
              | "seed="   integer                                 seed of the decision generator (default 0)
              | "on="     bucket ("," bucket)*                     where faults apply: api, resolvers (both)
    share    := a number in [0, 1]
    code     := an HTTP status code in 400..599

``first_page_429`` answers 429 with ``Retry-After: 1`` to the first listing requests of the server's
lifetime whatever ``on`` says; the other kinds draw for every request to a route in ``on``
(``/api/models...`` for api, ``/{id}/resolve|raw/...`` for resolvers), numbered in arrival order.
``truncate`` only cuts JSON answers (a card cut short could not be told from a short card).
``drop``, ``status`` and ``truncate`` exclude each other (one draw decides; their shares must add up
to at most 1); ``slow`` is drawn independently and delays whatever answer follows.
Example: ``status=0.1:503,0.05:500;slow=0.02:1.5;drop=0.01;truncate=0.02;first_page_429=1;seed=7``.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field

from hubgenome.core.errors import ConfigurationError

#: The rate-limit buckets faults can be limited to with ``on=``.
FAULT_BUCKETS: frozenset[str] = frozenset({"api", "resolvers"})

_GRAMMAR_HINT = (
    "expected clauses like 'status=0.1:503,0.05:500;slow=0.02:1.5;drop=0.01;truncate=0.02;"
    "first_page_429=1;seed=7;on=api,resolvers' (see local_hub/server/_faults.py)"
)


@dataclass(frozen=True)
class FaultDecision:
    """What to do to one request.

    Attributes
    ----------
    kind
        ``None`` (answer normally), ``"drop"``, ``"status"`` or ``"truncate"``.
    status
        The HTTP status to answer with when ``kind == "status"``.
    delay
        Seconds to sleep before answering (``0.0`` for no delay).
    """

    kind: str | None = None
    status: int | None = None
    delay: float = 0.0


_NO_FAULT = FaultDecision()


@dataclass(frozen=True)
class FaultSpec:
    """A parsed fault-injection spec (see the module docstring for the grammar).

    Examples
    --------
    >>> spec = FaultSpec.parse("status=0.1:503;drop=0.01;seed=7")
    >>> spec.status, spec.drop, spec.seed
    (((0.1, 503),), 0.01, 7)
    >>> spec.decide(0) == FaultSpec.parse(str(spec)).decide(0)
    True
    """

    status: tuple[tuple[float, int], ...] = ()
    slow: tuple[float, float] | None = None
    drop: float = 0.0
    truncate: float = 0.0
    first_page_429: int = 0
    seed: int = 0
    on: frozenset[str] = field(default=FAULT_BUCKETS)

    def __post_init__(self) -> None:
        shares = [self.drop, self.truncate, *(share for share, _ in self.status)]
        if self.slow is not None:
            shares.append(self.slow[0])
            if self.slow[1] < 0:
                msg = f"fault spec: slow delay must be >= 0 seconds, got {self.slow[1]}"
                raise ConfigurationError(msg)
        for share in shares:
            if not 0.0 <= share <= 1.0:
                msg = f"fault spec: every share must be between 0 and 1, got {share}"
                raise ConfigurationError(msg)
        exclusive = self.drop + self.truncate + sum(share for share, _ in self.status)
        if exclusive > 1.0 + 1e-9:
            msg = (
                f"fault spec: drop + truncate + status shares add up to {exclusive:g} > 1; "
                "they exclude each other, so lower them"
            )
            raise ConfigurationError(msg)
        for _, code in self.status:
            if not 400 <= code <= 599:
                msg = f"fault spec: status code {code} is not an HTTP error (use 400..599)"
                raise ConfigurationError(msg)
        if self.first_page_429 < 0:
            msg = f"fault spec: first_page_429 must be >= 0, got {self.first_page_429}"
            raise ConfigurationError(msg)
        unknown = set(self.on) - FAULT_BUCKETS
        if unknown or not self.on:
            msg = f"fault spec: 'on' takes a comma-separated subset of {sorted(FAULT_BUCKETS)}, got {sorted(unknown)}"
            raise ConfigurationError(msg)

    @classmethod
    def parse(cls, spec: str | FaultSpec | None) -> FaultSpec:
        """Parse a spec string (a :class:`FaultSpec` or ``None`` pass through / mean no faults).

        Raises
        ------
        hubgenome.core.errors.ConfigurationError
            With the offending clause and the expected grammar.
        """
        if isinstance(spec, FaultSpec):
            return spec
        if spec is None or spec.strip().lower() in ("", "none"):
            return cls()
        values: dict[str, object] = {"status": []}
        for raw_clause in spec.split(";"):
            clause = "".join(raw_clause.split())
            if not clause:
                continue
            name, sep, arg = clause.partition("=")
            if not sep or not arg:
                msg = f"fault spec: clause {raw_clause.strip()!r} is not name=value; {_GRAMMAR_HINT}"
                raise ConfigurationError(msg)
            if name != "status" and name in values:
                msg = f"fault spec: clause {name!r} given twice"
                raise ConfigurationError(msg)
            try:
                values[name] = _parse_clause(name, arg, values)
            except ValueError as exc:
                msg = f"fault spec: cannot read clause {raw_clause.strip()!r} ({exc}); {_GRAMMAR_HINT}"
                raise ConfigurationError(msg) from exc
        values["status"] = tuple(values["status"])  # type: ignore[arg-type]
        return cls(**values)  # type: ignore[arg-type]

    def __str__(self) -> str:
        clauses = []
        if self.status:
            clauses.append("status=" + ",".join(f"{share:g}:{code}" for share, code in self.status))
        if self.slow is not None:
            clauses.append(f"slow={self.slow[0]:g}:{self.slow[1]:g}")
        if self.drop:
            clauses.append(f"drop={self.drop:g}")
        if self.truncate:
            clauses.append(f"truncate={self.truncate:g}")
        if self.first_page_429:
            clauses.append(f"first_page_429={self.first_page_429}")
        clauses.append(f"seed={self.seed}")
        if self.on != FAULT_BUCKETS:
            clauses.append("on=" + ",".join(sorted(self.on)))
        return ";".join(clauses)

    @property
    def active(self) -> bool:
        """Whether this spec can inject anything at all."""
        return bool(self.status or self.slow or self.drop or self.truncate or self.first_page_429)

    def decide(self, sequence: int) -> FaultDecision:
        """The decision for the eligible request number ``sequence`` (0-based).

        Pure: the same spec and sequence number always give the same decision.
        ``first_page_429`` is not decided here (it depends on the route; the server applies it).
        """
        delay = 0.0
        if self.slow is not None and _uniform(self.seed, sequence, 1) < self.slow[0]:
            delay = self.slow[1]
        draw = _uniform(self.seed, sequence, 0)
        threshold = self.drop
        if draw < threshold:
            return FaultDecision("drop", None, delay)
        for share, code in self.status:
            threshold += share
            if draw < threshold:
                return FaultDecision("status", code, delay)
        if draw < threshold + self.truncate:
            return FaultDecision("truncate", None, delay)
        return FaultDecision(None, None, delay) if delay else _NO_FAULT


def _parse_clause(name: str, arg: str, values: dict[str, object]) -> object:
    if name == "status":
        entries = values["status"]
        assert isinstance(entries, list)
        for item in arg.split(","):
            share, sep, code = item.partition(":")
            if not sep:
                msg = f"status entry {item!r} is not share:code"
                raise ValueError(msg)
            entries.append((float(share), int(code)))
        return entries
    if name == "slow":
        share, sep, seconds = arg.partition(":")
        if not sep:
            msg = "slow takes share:seconds"
            raise ValueError(msg)
        return (float(share), float(seconds))
    if name in ("drop", "truncate"):
        return float(arg)
    if name in ("first_page_429", "seed"):
        return int(arg)
    if name == "on":
        return frozenset(arg.split(","))
    msg = f"unknown fault kind {name!r}"
    raise ValueError(msg)


def _uniform(seed: int, sequence: int, stream: int) -> float:
    """A uniform number in [0, 1) that depends only on (seed, sequence, stream)."""
    digest = hashlib.blake2b(f"{seed}:{sequence}:{stream}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big") / 18446744073709551616.0
