"""What happens on the living Hub: typed events, their JSONL form, rates, and a seeded generator.

The real Hub never stands still while it is crawled: models are created, committed to, renamed,
deleted, launched from private, gated and re-counted between two pages of a listing. A crawler
can only be proven to lose nothing against a Hub that does the same, reproducibly. This module
describes those changes as :class:`HubEvent` records (written and read as JSONL, one event a
line), parses a rate spec into per-kind rates, and draws a seeded event stream for a corpus with
:func:`generate_events`. Applying events is the job of ``_living.py``.

Rates
-----
A rate is a *fraction of the current corpus size per simulated day*: ``create=0.0025`` on a
760,000-model Hub means ~1,900 new models a day. The spec grammar follows the fault spec's
(``kind=number`` clauses, comma or semicolon separated); the word ``default`` stands for
:data:`DEFAULT_RATES` and later clauses override it::

    default
    create=0.005,commit=0.01,card_edit=0.002,delete=0.0005,rename=0.0003,launch=0.0005
    default,counters=0,commit=0.05

:data:`DEFAULT_RATES` are calibrated from the real corpora by ``_calibrate.py`` (run
``python -m hubgenome.local_hub.server._calibrate``); ``docs/living_hub.md`` gives the figures and how they
were obtained. In short: ``create`` (0.0025) from ``hub-2024-07``'s createdAt in the 28 days
before its snapshot; ``commit`` (0.0008) from the share of models created before the last 30
days whose lastModified falls in them (``hub-2024-07``'s details; ``trees-2025-04`` gives
0.00055); ``counters`` (0.12) as the expected share of models downloaded at least once a day
given their 30-day download counts. ``card_edit`` (a fifth of the commits), deletions, renames,
transfers, launches, making private, gating and disabling leave no trace in a snapshot: those
rates are chosen, small, and said to be so.
"""

from __future__ import annotations

import hashlib
import heapq
import itertools
import random
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field, fields
from datetime import datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

import orjson

from hubgenome.core.errors import ConfigurationError
from hubgenome.local_hub.server._clock import iso_z, parse_moment

if TYPE_CHECKING:
    from hubgenome.local_hub.server._corpus import Corpus


@runtime_checkable
class LiveState(Protocol):
    """What the generator reads of a Hub that has already changed (``_living.LivingCorpus`` has it).

    A protocol rather than the class itself: ``_living`` applies the events this module describes,
    so it imports this module, and the generator must not import it back.
    """

    def live_ids(self) -> tuple[list[str], list[str], list[str]]:
        """Ids of the public, private and disabled models now."""
        ...

    def current(self, repo_id: str) -> dict | None:
        """The current listing object of a model, or None when it is gone."""
        ...


#: Every kind of event, in the order rate specs print them.
EVENT_KINDS: tuple[str, ...] = (
    "create",
    "commit",
    "card_edit",
    "delete",
    "rename",
    "transfer",
    "launch",
    "make_private",
    "gate",
    "disable",
    "enable",
    "counters",
)

#: Kinds that make a new commit (new ``sha``, ``lastModified`` = the event's moment).
COMMIT_KINDS: frozenset[str] = frozenset({"create", "commit", "card_edit"})

#: Calibrated default rates (fractions of the corpus per simulated day); see ``_calibrate.py``.
#: Measured: create, commit, counters. Chosen (a snapshot cannot show them): the rest.
DEFAULT_RATES: dict[str, float] = {
    "create": 0.0025,  # measured: 1,889 a day in the 28 days before hub-2024-07's snapshot / 760,000
    "commit": 0.0008,  # measured: 2.4% of older models committed to in 30 days (hub-2024-07 details)
    "card_edit": 0.00016,  # chosen: a fifth of the commits touch the card
    "delete": 0.0003,
    "rename": 0.0001,
    "transfer": 0.00005,
    "launch": 0.0002,
    "make_private": 0.00005,
    "gate": 0.00005,
    "disable": 0.00002,
    "enable": 0.00001,
    "counters": 0.12,  # measured: mean P(>= 1 download a day) from 30-day downloads (hub-2024-07)
}

#: Share of created models that start private (chosen: the public listings cannot show it).
PRIVATE_SHARE_OF_CREATES = 0.2

_RATE_HINT = (
    "expected 'kind=fraction' clauses separated by ',' or ';' (fractions of the corpus per simulated day), "
    f"kinds: {', '.join(EVENT_KINDS)}; 'default' stands for the calibrated rates, e.g. "
    "'create=0.005,commit=0.01,delete=0.0005' or 'default,counters=0'"
)


@dataclass(frozen=True)
class HubEvent:
    """One change to the living Hub.

    ``at``, ``kind`` and ``model_id`` are always set; the other fields depend on the kind and
    ``None`` means "not given" (derived deterministically when the event is applied, or unchanged).

    Attributes
    ----------
    at
        When it happens (aware UTC datetime).
    kind
        One of :data:`EVENT_KINDS`.
    model_id
        The repo it happens to (for ``create``, the new repo's id).
    new_id
        ``rename`` / ``transfer``: the id the repo moves to.
    private, owner
        ``create``: a private repo and the user who owns it (default: the id's namespace).
    object_id, sha
        ``create``: the new ``_id``; ``create`` / ``commit`` / ``card_edit``: the new commit.
    tags, pipeline_tag, library_name, card_data
        ``create`` / ``commit`` / ``card_edit``: new values (``None`` = unchanged).
    card
        ``create`` / ``card_edit``: the new README.md text (``None``: a generated text).
    gated
        ``gate``: ``False``, ``"auto"`` or ``"manual"``.
    downloads, downloads_all_time, likes, trending_score
        ``counters``: the new values (``None`` = unchanged).
    """

    at: datetime
    kind: str
    model_id: str
    new_id: str | None = None
    private: bool | None = None
    owner: str | None = None
    object_id: str | None = None
    sha: str | None = None
    tags: tuple[str, ...] | None = None
    pipeline_tag: str | None = None
    library_name: str | None = None
    card_data: dict | None = field(default=None, hash=False, compare=True)
    card: str | None = None
    gated: bool | str | None = None
    downloads: int | None = None
    downloads_all_time: int | None = None
    likes: int | None = None
    trending_score: float | None = None

    def __post_init__(self) -> None:
        if self.kind not in EVENT_KINDS:
            msg = f"unknown event kind {self.kind!r}: use one of {', '.join(EVENT_KINDS)}"
            raise ConfigurationError(msg)
        if not isinstance(self.model_id, str) or not self.model_id:
            msg = f"a {self.kind} event needs a model_id"
            raise ConfigurationError(msg)
        object.__setattr__(self, "at", parse_moment(self.at))
        if self.kind in ("rename", "transfer") and not self.new_id:
            msg = f"a {self.kind} event needs new_id (the id {self.model_id} moves to)"
            raise ConfigurationError(msg)
        if self.kind == "gate" and self.gated not in (False, "auto", "manual"):
            msg = f"a gate event sets gated to false, 'auto' or 'manual', got {self.gated!r}"
            raise ConfigurationError(msg)
        if self.tags is not None and not isinstance(self.tags, tuple):
            object.__setattr__(self, "tags", tuple(self.tags))

    def to_json(self) -> dict[str, Any]:
        """The event as a JSON object: ``at`` in the API's ISO form, unset fields left out."""
        payload: dict[str, Any] = {"at": iso_z(self.at), "kind": self.kind, "model_id": self.model_id}
        for spec in fields(self)[3:]:
            value = getattr(self, spec.name)
            if value is not None:
                payload[spec.name] = list(value) if isinstance(value, tuple) else value
        return payload

    @classmethod
    def from_json(cls, payload: dict[str, Any]) -> HubEvent:
        """Read back :meth:`to_json`'s output (unknown keys are an error)."""
        known = {spec.name for spec in fields(cls)}
        unknown = set(payload) - known
        if unknown:
            msg = f"event has unknown fields {sorted(unknown)}; known: {sorted(known)}"
            raise ConfigurationError(msg)
        try:
            return cls(**payload)
        except (TypeError, ValueError) as exc:
            msg = f"malformed event {payload!r}: {exc}"
            raise ConfigurationError(msg) from exc


def write_events(path: str | Path, events: Iterable[HubEvent]) -> int:
    """Write events as JSONL (one object a line); returns how many were written."""
    count = 0
    with Path(path).open("wb") as handle:
        for event in events:
            handle.write(orjson.dumps(event.to_json()) + b"\n")
            count += 1
    return count


def read_events(path: str | Path) -> list[HubEvent]:
    """Read a JSONL file of events (blank lines skipped), sorted by ``at`` (stable).

    Raises
    ------
    hubgenome.core.errors.ConfigurationError
        Naming the line that is not a valid event.
    """
    events = []
    with Path(path).open("rb") as handle:
        for number, line in enumerate(handle, start=1):
            if not line.strip():
                continue
            try:
                events.append(HubEvent.from_json(orjson.loads(line)))
            except (orjson.JSONDecodeError, ConfigurationError) as exc:
                msg = f"{path} line {number}: not an event ({exc})"
                raise ConfigurationError(msg) from exc
    return sorted(events, key=lambda event: event.at)


def parse_rates(spec: str | dict[str, float] | None) -> dict[str, float]:
    """Per-kind rates (fractions of the corpus per simulated day) from a spec string.

    Examples
    --------
    >>> parse_rates("create=0.005, commit=0.01")["commit"]
    0.01
    >>> parse_rates("default,counters=0")["counters"], parse_rates("default")["create"] > 0
    (0.0, True)
    """
    if isinstance(spec, dict):
        rates = dict.fromkeys(EVENT_KINDS, 0.0)
        clauses = [f"{kind}={value}" for kind, value in spec.items()]
    else:
        rates = dict.fromkeys(EVENT_KINDS, 0.0)
        clauses = [] if spec is None else spec.replace(";", ",").split(",")
    for raw in clauses:
        clause = "".join(raw.split())
        if not clause or clause == "none":
            continue
        if clause == "default":
            rates.update(DEFAULT_RATES)
            continue
        kind, sep, value = clause.partition("=")
        if not sep or kind not in EVENT_KINDS:
            msg = f"event rates: cannot read clause {raw.strip()!r}; {_RATE_HINT}"
            raise ConfigurationError(msg)
        try:
            rate = float(value)
        except ValueError as exc:
            msg = f"event rates: {value!r} is not a number in clause {raw.strip()!r}; {_RATE_HINT}"
            raise ConfigurationError(msg) from exc
        if not rate >= 0 or rate > 1000:
            msg = f"event rates: {kind} must be a fraction per day >= 0, got {value}"
            raise ConfigurationError(msg)
        rates[kind] = rate
    return rates


def format_rates(rates: dict[str, float]) -> str:
    """The spec string of ``rates`` (non-zero kinds only), readable back by :func:`parse_rates`."""
    return ",".join(f"{kind}={rates[kind]:g}" for kind in EVENT_KINDS if rates.get(kind))


# --- the seeded generator ----------------------------------------------------------------------


class _Bag:
    """A set of ids with O(1) add, remove and uniform random choice."""

    def __init__(self, items: Iterable[str] = ()) -> None:
        self.items: list[str] = list(items)
        self.where = {item: index for index, item in enumerate(self.items)}

    def __len__(self) -> int:
        return len(self.items)

    def add(self, item: str) -> None:
        if item not in self.where:
            self.where[item] = len(self.items)
            self.items.append(item)

    def remove(self, item: str) -> None:
        index = self.where.pop(item)
        last = self.items.pop()
        if index < len(self.items):
            self.items[index] = last
            self.where[last] = index

    def choice(self, rng: random.Random) -> str:
        return self.items[rng.randrange(len(self.items))]


_WORDS = ("llama", "mistral", "bert", "qwen", "gemma", "phi", "whisper", "vit", "t5", "sdxl", "lora", "gguf")
_SUFFIXES = ("finetuned", "instruct", "chat", "base", "merged", "awq", "4bit", "v2", "dpo", "sft")
_PIPELINES = ("text-generation", "text-classification", "text-to-image", "automatic-speech-recognition", None)


def _hex(rng: random.Random, digits: int) -> str:
    return f"{rng.getrandbits(4 * digits):0{digits}x}"


def generate_events(
    corpus: Corpus | LiveState | Sequence[str],
    start: datetime | str,
    end: datetime | str,
    rates: str | dict[str, float] | None = "default",
    seed: int = 0,
) -> list[HubEvent]:
    """A seeded stream of plausible events between ``start`` and ``end``, sorted by time.

    Events of all kinds form one Poisson process whose intensity is ``sum(rates) × live models``
    per day, re-evaluated after every event (so creations and deletions feed back into the rate);
    each event's kind is drawn in proportion to its rate and its target uniformly among the models
    it can apply to at that moment (``launch``: private models; ``enable``: disabled ones;
    ``make_private``: public ones; others: any live public model, commits also private ones). A
    kind with no possible target at its moment is skipped. The generator replays its own events
    on a light model of the Hub state, so every event is valid when applied in order to the same
    corpus: it never commits to a deleted model or renames onto a taken id.

    Parameters
    ----------
    corpus
        The base corpus, a living corpus (start from its current state), or just model ids.
    start, end
        The simulated interval (aware or UTC datetimes, or ISO strings).
    rates
        A rate spec (see :func:`parse_rates`) or a ``{kind: rate}`` dict.
    seed
        The same seed (and corpus, interval and rates) always gives the same events.

    Examples
    --------
    >>> events = generate_events(["a/x", "b/y"], "2024-07-12", "2024-07-22", "commit=0.5", seed=3)
    >>> events == generate_events(["a/x", "b/y"], "2024-07-12", "2024-07-22", "commit=0.5", seed=3)
    True
    >>> {event.kind for event in events}
    {'commit'}
    """
    started, ended = parse_moment(start), parse_moment(end)
    parsed = parse_rates(rates)
    kinds = [kind for kind in EVENT_KINDS if parsed[kind] > 0]
    if not kinds or ended <= started:
        return []
    weights = list(itertools.accumulate(parsed[kind] for kind in kinds))
    total_rate = weights[-1]
    rng = random.Random(f"hubgenome-events:{seed}")

    read_object: Any = None
    private_ids: list[str] = []
    disabled_ids: list[str] = []
    if isinstance(corpus, LiveState):  # a living corpus: start from its current state
        ids, private_ids, disabled_ids = corpus.live_ids()
        read_object = corpus.current
    elif isinstance(corpus, Sequence):
        ids = list(corpus)
    else:
        ids = list(corpus.ids)

        def read_object(repo_id: str) -> dict | None:
            position = corpus.lookup(repo_id)  # type: ignore[union-attr]
            return None if position is None else corpus.model(position)  # type: ignore[union-attr]

    public = _Bag(ids)
    private = _Bag(private_ids)
    disabled = _Bag(disabled_ids)
    taken = {repo_id.lower() for bag in (public, private) for repo_id in bag.items}
    namespaces = sorted({repo_id.split("/", 1)[0] for repo_id in ids if "/" in repo_id}) or ["user"]
    state: dict[str, dict[str, Any]] = {}  # what the generator knows or changed, by current id

    def current(repo_id: str) -> dict[str, Any]:
        known = state.get(repo_id)
        if known is None:
            obj = read_object(repo_id) if read_object is not None else None
            keys = ("downloads", "downloadsAllTime", "likes", "trendingScore", "gated")
            known = {key: obj.get(key) for key in keys} if obj else {}
            state[repo_id] = known
        return known

    def fresh_id(namespace: str, stem: str) -> str:
        for attempt in itertools.count():
            candidate = f"{namespace}/{stem}" if attempt == 0 else f"{namespace}/{stem}-{attempt + 1}"
            if candidate.lower() not in taken:
                return candidate
        raise AssertionError  # pragma: no cover - count() never ends

    def any_live() -> str | None:
        total = len(public) + len(private)
        if not total:
            return None
        bag = public if rng.randrange(total) < len(public) else private
        return bag.choice(rng)

    events: list[HubEvent] = []
    moment = started
    while True:
        live = len(public) + len(private)
        per_second = total_rate * max(live, 1) / 86_400.0
        moment = moment + timedelta(seconds=rng.expovariate(per_second))
        if moment >= ended:
            break
        moment = moment.replace(microsecond=(moment.microsecond // 1000) * 1000)
        draw = rng.random() * total_rate
        kind = kinds[next(index for index, bound in enumerate(weights) if draw < bound)]
        event = _draw_event(kind, moment, rng, public, private, disabled, namespaces, fresh_id, any_live, current)
        if event is None:
            continue
        events.append(event)
        # replay on the generator's own state
        if kind == "create":
            taken.add(event.model_id.lower())
            (private if event.private else public).add(event.model_id)
            state[event.model_id] = {"downloads": 0, "likes": 0, "trendingScore": 0, "gated": False}
        elif kind == "delete":
            for bag in (public, private, disabled):
                if event.model_id in bag.where:
                    bag.remove(event.model_id)
            state.pop(event.model_id, None)
        elif kind in ("rename", "transfer"):
            assert event.new_id is not None
            taken.add(event.new_id.lower())
            for bag in (public, private, disabled):
                if event.model_id in bag.where:
                    bag.remove(event.model_id)
                    bag.add(event.new_id)
            state[event.new_id] = current(event.model_id)
            state.pop(event.model_id, None)
        elif kind == "launch":
            private.remove(event.model_id)
            public.add(event.model_id)
        elif kind == "make_private":
            public.remove(event.model_id)
            private.add(event.model_id)
        elif kind == "disable":
            disabled.add(event.model_id)
        elif kind == "enable":
            disabled.remove(event.model_id)
        elif kind == "gate":
            current(event.model_id)["gated"] = event.gated
        elif kind == "counters":
            values = current(event.model_id)
            values.update(
                downloads=event.downloads,
                likes=event.likes,
                trendingScore=event.trending_score,
                downloadsAllTime=event.downloads_all_time,
            )
    return events


def _draw_event(
    kind: str,
    moment: datetime,
    rng: random.Random,
    public: _Bag,
    private: _Bag,
    disabled: _Bag,
    namespaces: list[str],
    fresh_id: Any,
    any_live: Any,
    current: Any,
) -> HubEvent | None:
    if kind == "create":
        namespace = rng.choice(namespaces) if rng.random() < 0.7 else f"user-{_hex(rng, 6)}"
        stem = f"{rng.choice(_WORDS)}-{rng.choice(_SUFFIXES)}"
        is_private = rng.random() < PRIVATE_SHARE_OF_CREATES
        pipeline = rng.choice(_PIPELINES)
        tags = ("transformers", "safetensors", *((pipeline,) if pipeline else ()), "license:apache-2.0")
        return HubEvent(
            moment,
            "create",
            fresh_id(namespace, stem),
            private=True if is_private else None,
            object_id=f"{int(moment.timestamp()) & 0xFFFFFFFF:08x}{_hex(rng, 16)}",
            sha=_hex(rng, 40),
            tags=tags,
            pipeline_tag=pipeline,
            library_name="transformers",
        )
    if kind == "launch":
        return HubEvent(moment, kind, private.choice(rng)) if len(private) else None
    if kind == "enable":
        return HubEvent(moment, kind, disabled.choice(rng)) if len(disabled) else None
    if kind in ("commit", "card_edit"):
        target = any_live()
        if target is None:
            return None
        tags = None
        if kind == "commit" and rng.random() < 0.1:
            tags = ("transformers", "safetensors", "endpoints_compatible", f"region:{rng.choice(('us', 'eu'))}")
        return HubEvent(moment, kind, target, sha=_hex(rng, 40), tags=tags)
    if not len(public):
        return None
    target = public.choice(rng)
    if kind in ("delete", "make_private", "disable"):
        if kind == "disable" and target in disabled.where:
            return None
        return HubEvent(moment, kind, target)
    if kind == "rename":
        namespace, _, name = target.rpartition("/")
        new_id = fresh_id(namespace, f"{name}-{rng.choice(_SUFFIXES)}") if namespace else fresh_id("user", name)
        return HubEvent(moment, kind, target, new_id=new_id)
    if kind == "transfer":
        name = target.rpartition("/")[2]
        namespace = rng.choice(namespaces) if rng.random() < 0.5 else f"org-{_hex(rng, 6)}"
        return HubEvent(moment, kind, target, new_id=fresh_id(namespace, name))
    if kind == "gate":
        was = current(target).get("gated") or False
        gated = False if was else rng.choice(("auto", "auto", "manual"))
        return HubEvent(moment, kind, target, gated=gated)
    assert kind == "counters"
    values = current(target)
    downloads = _int(values.get("downloads"))
    likes = _int(values.get("likes"))
    gained = 1 + int(rng.expovariate(1 / max(1.0, downloads / 30)))
    all_time = values.get("downloadsAllTime")
    return HubEvent(
        moment,
        kind,
        target,
        downloads=downloads + gained,
        downloads_all_time=None if all_time is None else _int(all_time) + gained,
        likes=likes + (1 if rng.random() < 0.05 else 0),
        trending_score=_int(values.get("trendingScore")) + (1 if rng.random() < 0.02 else 0),
    )


def _int(value: object) -> int:
    return int(value) if isinstance(value, int | float) and not isinstance(value, bool) and value == value else 0


def derived_sha(event: HubEvent) -> str:
    """The commit sha of an event that did not give one (deterministic)."""
    return hashlib.sha1(f"hubgenome-commit:{event.kind}:{event.model_id}:{iso_z(event.at)}".encode()).hexdigest()


def derived_object_id(event: HubEvent) -> str:
    """The ``_id`` of a created model whose event did not give one: time first, as an ObjectId."""
    digest = hashlib.sha1(f"hubgenome-create:{event.model_id}:{iso_z(event.at)}".encode()).hexdigest()
    return f"{int(event.at.timestamp()) & 0xFFFFFFFF:08x}{digest[:16]}"


class EventQueue:
    """Events not yet applied, in time order (ties keep the order they were scheduled in)."""

    def __init__(self, events: Iterable[HubEvent] = ()) -> None:
        self._heap: list[tuple[datetime, int, HubEvent]] = []
        self._counter = itertools.count()
        self.extend(events)

    def __len__(self) -> int:
        return len(self._heap)

    def extend(self, events: Iterable[HubEvent]) -> None:
        for event in events:
            heapq.heappush(self._heap, (event.at, next(self._counter), event))

    def pop_due(self, now: datetime) -> Iterator[HubEvent]:
        """Remove and yield every event with ``at <= now``, oldest first."""
        while self._heap and self._heap[0][0] <= now:
            yield heapq.heappop(self._heap)[2]

    def peek(self) -> HubEvent | None:
        """The next event due, if any."""
        return self._heap[0][2] if self._heap else None
