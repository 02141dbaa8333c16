"""A living corpus: the immutable, numpy-indexed :class:`Corpus` plus a small mutable overlay.

Events (``_events.py``) change the Hub while it is crawled. Rebuilding the numpy index of 3
million models per event is out of the question, so the overlay keeps the base untouched and
records only what changed:

* ``alive``: one boolean per base position. A base model that an event touches is masked here
  (deleted, renamed away, or *materialized*: moved into the delta with its current object).
* the delta: every model that is not served from the base as loaded (created, changed, renamed,
  private), by ``_id``, with its current listing object, details object, card and owner; plus,
  per sort key, a sorted list of the delta's ``(value, _id)`` keys.
* redirects: old id → new id of renamed and transferred repos.

A listing page merges the two at page time: the base ordering is walked backwards from the
cursor skipping masked positions, the delta's sorted keys are bisected at the same cursor, and
the two runs are merged on ``(value, _id)``. A keyset cursor is a position in that order, not an
offset, so a cursor issued before an event stays valid after it: a model created since sorts
wherever its keys say (before the cursor in descending createdAt order: not on later pages), a
model committed to moves to the front of a lastModified listing, the others are neither
repeated nor skipped. A model touched by an event that does not move its keys (gating,
disabling) is materialized with the same keys, so it stays exactly where it was.

Private models exist only for their owner's token: absent from everybody else's listings, 404
on info and resolver. Every read and every event application holds one lock, so events can be
applied from the server thread and from tests at once.
"""

from __future__ import annotations

import bisect
import hashlib
import heapq
import threading
from collections import OrderedDict
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import numpy as np
import orjson

from hubgenome.local_hub.server._clock import iso_z
from hubgenome.local_hub.server._corpus import (
    _DATE_KEYS,
    _MISSING,
    _NUMBER_KEYS,
    Corpus,
    ListingQuery,
    Page,
    _number,
    _SortKeys,
    _timestamp_ms,
    decode_cursor,
    encode_cursor,
)
from hubgenome.local_hub.server._events import HubEvent, derived_object_id, derived_sha

#: Every key ``/api/models`` sorts on (the values of ``SORT_ALIASES``).
SORT_KEYS: tuple[str, ...] = ("_id", "id", *_DATE_KEYS, *_NUMBER_KEYS)

#: How many redirects a lookup follows (a repo renamed again and again).
_MAX_REDIRECTS = 16

#: Filtered views of the delta kept (and maintained on every event), least recently used dropped.
_FILTERED_VIEWS = 32


def namespace_of(repo_id: str) -> str:
    """The user or organization part of a repo id (the whole id for a legacy one like ``gpt2``)."""
    return repo_id.split("/", 1)[0]


def commit_of(obj: dict, origin_id: str | None = None) -> str:
    """The commit a model object is at: its ``sha``, else one derived from its (original) id."""
    sha = obj.get("sha")
    if isinstance(sha, str) and sha:
        return sha
    return hashlib.sha1(f"hubgenome:{origin_id or obj.get('id')}".encode()).hexdigest()


@dataclass
class LiveModel:
    """A model served from the delta: its current listing object, details object and card."""

    object_id: str
    obj: dict
    details: dict | None
    card: bytes | None
    owner: str
    origin_id: str  # the id its derived commit hash is computed from (stable across renames)
    base_position: int | None = None

    @property
    def id(self) -> str:
        return self.obj["id"]

    @property
    def private(self) -> bool:
        return self.obj.get("private") is True

    @property
    def commit(self) -> str:
        return commit_of(self.obj, self.origin_id)

    def visible_to(self, user: str | None) -> bool:
        """Whether ``user`` (None: anonymous) can see this model."""
        return not self.private or (user is not None and user == self.owner)

    def info(self) -> dict:
        """What ``/api/models/{id}`` answers: the details object where there is one."""
        return self.details if self.details is not None else self.obj

    def set(self, key: str, value: object) -> None:
        """Set a field in the listing object and (where there is one) the details object."""
        self.obj[key] = value
        if self.details is not None:
            self.details[key] = value


@dataclass(frozen=True)
class Found:
    """A lookup's answer: a base position, a live model, or a redirect to another id."""

    position: int | None = None
    live: LiveModel | None = None
    redirect: str | None = None


def _project(obj: dict, fields: frozenset[str] | None) -> dict:
    head = {"_id": obj["_id"], "id": obj["id"]}
    if fields is None:
        head.update(obj)
    else:
        head.update((key, value) for key, value in obj.items() if key in fields)
    return head


def _matches(obj: dict, query: ListingQuery) -> bool:
    tags = obj.get("tags")
    tag_set = {tag for tag in tags if isinstance(tag, str)} if isinstance(tags, list) else set()
    if any(tag not in tag_set for tag in query.filters):
        return False
    lower = obj["id"].lower()
    if query.author and not lower.startswith(query.author.lower() + "/"):
        return False
    return not (query.search and query.search.lower() not in lower)


class LivingCorpus:
    """A base :class:`Corpus` and the overlay of everything events changed since it was loaded.

    Parameters
    ----------
    base
        The immutable corpus snapshot (never modified).

    Examples
    --------
    >>> living = LivingCorpus(corpus)                              # doctest: +SKIP
    >>> living.apply(HubEvent(at, "delete", "acme/model-001"))     # doctest: +SKIP
    True
    >>> living.page(ListingQuery(sort="createdAt"), 100, None)     # doctest: +SKIP
    """

    def __init__(self, base: Corpus) -> None:
        self.base = base
        self.alive = np.ones(len(base), dtype=bool)
        self.masked = 0
        self.delta: dict[bytes, LiveModel] = {}
        self.version = 0
        self._by_exact: dict[str, bytes] = {}
        self._by_lower: dict[str, bytes] = {}
        self._redirects: dict[str, str] = {}
        self._sorted: dict[str, list[tuple[object, bytes]]] = {key: [] for key in SORT_KEYS}
        self._private = 0
        self._filtered: OrderedDict[ListingQuery, list[tuple[object, bytes]]] = OrderedDict()
        self.lock = threading.RLock()

    def __len__(self) -> int:
        """Models that exist now, public and private."""
        return len(self.base) - self.masked + len(self.delta)

    # --- keys and registration ---------------------------------------------------------------

    @staticmethod
    def _key(live: LiveModel, sort: str) -> tuple[object, bytes]:
        object_id = live.object_id.encode()
        if sort == "_id":
            return (object_id, object_id)
        if sort == "id":
            return (live.id.encode(), object_id)
        value = live.obj.get(sort)
        return (_timestamp_ms(value) if sort in _DATE_KEYS else _number(value), object_id)

    def _register(self, live: LiveModel) -> None:
        object_id = live.object_id.encode()
        self.delta[object_id] = live
        self._by_exact[live.id] = object_id
        self._by_lower[live.id.lower()] = object_id
        self._redirects.pop(live.id.lower(), None)
        for sort, keys in self._sorted.items():
            bisect.insort(keys, self._key(live, sort))
        for query, keys in self._filtered.items():  # filtered views stay current, never rebuilt
            if _matches(live.obj, query):
                bisect.insort(keys, self._key(live, query.sort))
        self._private += live.private

    def _unregister(self, live: LiveModel) -> None:
        object_id = live.object_id.encode()
        del self.delta[object_id]
        if self._by_exact.get(live.id) == object_id:
            del self._by_exact[live.id]
        if self._by_lower.get(live.id.lower()) == object_id:
            del self._by_lower[live.id.lower()]
        for sort, keys in self._sorted.items():
            key = self._key(live, sort)
            index = bisect.bisect_left(keys, key)
            assert index < len(keys) and keys[index] == key, f"delta key of {live.id} lost for sort {sort}"
            del keys[index]
        for query, keys in self._filtered.items():
            key = self._key(live, query.sort)
            index = bisect.bisect_left(keys, key)
            if index < len(keys) and keys[index] == key:
                del keys[index]
        self._private -= live.private

    def _mask(self, position: int) -> None:
        if self.alive[position]:
            self.alive[position] = False
            self.masked += 1

    def _materialize(self, position: int) -> LiveModel:
        """Move a base model into the delta (same keys: it stays where it sorts)."""
        base = self.base
        obj = base.model(position)
        details_raw = base.details_bytes(position)
        details = None
        if details_raw is not None:
            details = orjson.loads(details_raw)
            details.setdefault("_id", obj["_id"])
            details.setdefault("id", obj["id"])
        live = LiveModel(
            object_id=obj["_id"],
            obj=obj,
            details=details,
            card=base.card(position),
            owner=namespace_of(obj["id"]),
            origin_id=base.ids[position],
            base_position=position,
        )
        self._mask(position)
        self._register(live)
        return live

    # --- lookups -----------------------------------------------------------------------------

    def _find(self, repo_id: str) -> LiveModel | int | None:
        """The model under ``repo_id`` now, whoever may see it (no redirects)."""
        position = self.base.lookup(repo_id)
        exact_base = position is not None and self.alive[position] and self.base.ids[position] == repo_id
        if exact_base:
            return position
        object_id = self._by_exact.get(repo_id) or self._by_lower.get(repo_id.lower())
        if object_id is not None:
            return self.delta[object_id]
        if position is not None and self.alive[position]:
            return position
        return None

    def lookup(self, repo_id: str, user: str | None = None) -> Found | None:
        """What ``repo_id`` designates for ``user``: a base position, a live model, a redirect, or None.

        Case-insensitive (exact match preferred), as the Hub. A renamed repo's old id gives a
        redirect to its current id, if that one is visible to ``user``.
        """
        with self.lock:
            found = self._find(repo_id)
            if isinstance(found, LiveModel):
                return Found(live=found) if found.visible_to(user) else None
            if found is not None:
                return Found(position=found)
            target = self._redirects.get(repo_id.lower())
            hops = 0
            while target is not None and hops < _MAX_REDIRECTS:
                current = self._find(target)
                if current is not None:
                    if isinstance(current, LiveModel) and not current.visible_to(user):
                        return None
                    return Found(redirect=target)
                target = self._redirects.get(target.lower())
                hops += 1
            return None

    def _editable(self, repo_id: str) -> LiveModel | None:
        found = self._find(repo_id)
        if isinstance(found, LiveModel) or found is None:
            return found
        return self._materialize(found)

    # --- events ------------------------------------------------------------------------------

    def apply(self, event: HubEvent) -> bool:
        """Apply one event; False (and nothing changed) when it cannot apply to the current state.

        An event cannot apply when its model does not exist (``create``: already exists; a
        rename onto a taken id), or when it would change nothing (``launch`` of a public model,
        ``make_private`` of a private one).
        """
        with self.lock:
            applied = self._apply(event)
            if applied:
                self.version += 1
            return applied

    def _apply(self, event: HubEvent) -> bool:
        kind = event.kind
        if kind == "create":
            return self._create(event)
        if kind in ("rename", "transfer"):
            assert event.new_id is not None
            if self._find(event.new_id) is not None or self._find(event.model_id) is None:
                return False
        found = self._find(event.model_id)
        if found is None:
            return False
        if kind == "delete":
            if isinstance(found, LiveModel):
                self._unregister(found)
            else:
                self._mask(found)
            return True
        if kind == "launch" and (isinstance(found, int) or not found.private):
            return False  # base models are public
        if kind == "make_private" and isinstance(found, LiveModel) and found.private:
            return False
        live = self._editable(event.model_id)
        assert live is not None
        self._unregister(live)
        try:
            self._change(live, event)
        finally:
            self._register(live)
        return True

    def _change(self, live: LiveModel, event: HubEvent) -> None:
        kind = event.kind
        at = iso_z(event.at)
        if kind in ("commit", "card_edit"):
            live.set("sha", event.sha or derived_sha(event))
            live.set("lastModified", at)
            if event.tags is not None:
                live.set("tags", list(event.tags))
            if event.pipeline_tag is not None:
                live.set("pipeline_tag", event.pipeline_tag)
            if event.library_name is not None:
                live.set("library_name", event.library_name)
            if event.card_data is not None:
                live.set("cardData", event.card_data)
            if kind == "card_edit":
                text = event.card
                if text is None:
                    previous = live.card.decode("utf-8", "surrogatepass") if live.card else f"# {live.id}\n"
                    text = f"{previous.rstrip()}\n\n_Card edited at {at}._\n"
                live.card = text.encode("utf-8", "surrogatepass")
        elif kind in ("rename", "transfer"):
            assert event.new_id is not None
            old_id = live.id
            for target in (live.obj, live.details):
                if target is None:
                    continue
                target["id"] = event.new_id
                if "modelId" in target:
                    target["modelId"] = event.new_id
                if "author" in target or "/" in event.new_id:
                    target["author"] = namespace_of(event.new_id)
            live.owner = namespace_of(event.new_id)
            # re-point older redirects at the new id too, and the old id at the new one
            self._redirects[old_id.lower()] = event.new_id
        elif kind == "launch":
            live.set("private", False)
        elif kind == "make_private":
            live.set("private", True)
        elif kind == "gate":
            live.set("gated", event.gated)
        elif kind in ("disable", "enable"):
            live.set("disabled", kind == "disable")
        elif kind == "counters":
            for key, value in (
                ("downloads", event.downloads),
                ("downloadsAllTime", event.downloads_all_time),
                ("likes", event.likes),
                ("trendingScore", event.trending_score),
            ):
                if value is not None:
                    live.set(key, value)

    def _create(self, event: HubEvent) -> bool:
        if self._find(event.model_id) is not None:
            return False
        object_id = event.object_id or derived_object_id(event)
        if object_id.encode() in self.delta:
            return False
        at = iso_z(event.at)
        obj: dict[str, Any] = {
            "_id": object_id,
            "id": event.model_id,
            "modelId": event.model_id,
            "author": namespace_of(event.model_id),
            "sha": event.sha or derived_sha(event),
            "createdAt": at,
            "lastModified": at,
            "private": bool(event.private),
            "gated": False,
            "disabled": False,
            "downloads": 0,
            "likes": 0,
            "trendingScore": 0,
            "tags": list(event.tags or ()),
        }
        if event.pipeline_tag is not None:
            obj["pipeline_tag"] = event.pipeline_tag
        if event.library_name is not None:
            obj["library_name"] = event.library_name
        if event.card_data is not None:
            obj["cardData"] = event.card_data
        card = event.card
        if card is None:
            card = f"---\nlicense: apache-2.0\n---\n\n# {event.model_id}\n\nCreated on the living Hub at {at}.\n"
        obj["siblings"] = [{"rfilename": ".gitattributes"}, {"rfilename": "README.md"}]
        live = LiveModel(
            object_id=object_id,
            obj=obj,
            details=None,
            card=card.encode("utf-8", "surrogatepass"),
            owner=event.owner or namespace_of(event.model_id),
            origin_id=event.model_id,
        )
        self._register(live)
        return True

    # --- listing -----------------------------------------------------------------------------

    def _delta_keys(self, query: ListingQuery) -> list[tuple[object, bytes]]:
        """The delta's keys for a query's sort, restricted to its filters (built once, then maintained)."""
        keys = self._sorted[query.sort]
        if not (query.search or query.author or query.filters):
            return keys
        cached = self._filtered.get(query)
        if cached is not None:
            self._filtered.move_to_end(query)
            return cached
        delta = self.delta
        selected = [key for key in keys if _matches(delta[key[1]].obj, query)]
        self._filtered[query] = selected
        while len(self._filtered) > _FILTERED_VIEWS:
            self._filtered.popitem(last=False)
        return selected

    def _base_run(self, order: np.ndarray, end: int, need: int) -> np.ndarray:
        """Up to ``need`` alive base positions before index ``end`` of ``order``, descending."""
        if not self.masked:
            return order[max(0, end - need) : end][::-1]
        runs: list[np.ndarray] = []
        got = 0
        step = max(2 * need, 1024)
        while end > 0 and got < need:
            start = max(0, end - step)
            chunk = order[start:end][::-1]
            chunk = chunk[self.alive[chunk]][: need - got]
            runs.append(chunk)
            got += len(chunk)
            end = start
            step *= 2
        return np.concatenate(runs) if runs else order[:0]

    def page(self, query: ListingQuery, limit: int, cursor: str | None = None, user: str | None = None) -> LivingPage:
        """The page of ``limit`` models after ``cursor`` that ``user`` can see, in Hub order.

        Raises
        ------
        hubgenome.local_hub.server._corpus.CursorError
            When the cursor was not issued by this server for this sort key.
        """
        base = self.base
        with self.lock:
            if not self.delta and not self.masked:
                page = base.page(query, limit, cursor)
                return LivingPage(self, [(int(p), None) for p in page.indices.tolist()], page.next_cursor, page)
            ordering = base._ordering(query)
            order, values = ordering.order, ordering.values
            probe = None
            end = len(order)
            if cursor is not None:
                value, object_id = decode_cursor(cursor, ordering.key)
                probe = (base._cursor_value(ordering, value), object_id.encode())
                end = bisect.bisect_left(_SortKeys(order, values, base.object_ids), probe)
            need = limit + 1
            positions = self._base_run(order, end, need)
            base_values = values[positions].tolist()
            base_items = zip(base_values, base.object_ids[positions].tolist(), positions.tolist(), strict=True)
            keys = self._delta_keys(query)
            delta_end = len(keys) if probe is None else bisect.bisect_left(keys, probe)
            delta_items = list(self._visible_delta(keys, delta_end, need, user))
            merged = heapq.merge(
                ((value, object_id, position, None) for value, object_id, position in base_items),
                delta_items,
                key=lambda item: (item[0], item[1]),
                reverse=True,
            )
            chosen = [item for _, item in zip(range(need), merged, strict=False)]
            more = len(chosen) > limit
            chosen = chosen[:limit]
            next_cursor = None
            if more and chosen:
                value, object_id = chosen[-1][0], chosen[-1][1]
                if isinstance(value, bytes):
                    shown: object = value.decode()
                else:
                    shown = None if value == _MISSING else float(value)
                next_cursor = encode_cursor(ordering.key, shown, object_id.decode())
            return LivingPage(self, [(item[2], item[3]) for item in chosen], next_cursor, None)

    def _visible_delta(
        self, keys: list[tuple[object, bytes]], end: int, need: int, user: str | None
    ) -> Iterator[tuple[object, bytes, None, LiveModel]]:
        delta = self.delta
        taken = 0
        index = end - 1
        while index >= 0 and taken < need:
            value, object_id = keys[index]
            live = delta[object_id]
            if live.visible_to(user):
                yield (value, object_id, None, live)
                taken += 1
            index -= 1

    def render(self, items: list[tuple[int | None, LiveModel | None]], fields: frozenset[str] | None) -> bytes:
        """The JSON array of a page's models (base positions and live models), reduced to ``fields``."""
        positions = [position for position, live in items if live is None]
        rendered = iter(self.base.render_objects(positions, fields)) if positions else iter(())
        objects = [next(rendered) if live is None else _project(live.obj, fields) for _, live in items]
        return orjson.dumps(objects)

    # --- ground truth and generator support --------------------------------------------------

    def truth(self, *, serve_gated_cards: bool = False) -> tuple[dict[str, dict], dict[str, str]]:
        """Every public model as ``/api/models/{id}`` serves it, and the cards anonymous clients get.

        Cards of gated models are left out unless ``serve_gated_cards``, and those of disabled
        models always (the resolver refuses both to an anonymous client).
        """
        base = self.base
        models: dict[str, dict] = {}
        cards: dict[str, str] = {}
        with self.lock:
            positions = np.flatnonzero(self.alive).tolist()
            lives = [live for live in self.delta.values() if not live.private]
        for position in positions:
            details = base.details_bytes(position)
            obj = base.model(position) if details is None else base._project(orjson.loads(details), position, None)
            models[obj["id"]] = obj
            card = base.card(position)
            if card is not None and _card_public(obj, serve_gated_cards):
                cards[obj["id"]] = card.decode("utf-8", "surrogatepass")
        for live in lives:
            obj = orjson.loads(orjson.dumps(live.info()))  # a copy the caller may keep
            models[live.id] = obj
            if live.card is not None and _card_public(obj, serve_gated_cards):
                cards[live.id] = live.card.decode("utf-8", "surrogatepass")
        return models, cards

    def live_ids(self) -> tuple[list[str], list[str], list[str]]:
        """Ids of the public, private and disabled models now (for the event generator)."""
        with self.lock:
            public = [self.base.ids[p] for p in np.flatnonzero(self.alive).tolist()]
            private: list[str] = []
            disabled: list[str] = []
            for live in self.delta.values():
                (private if live.private else public).append(live.id)
                if live.obj.get("disabled") is True:
                    disabled.append(live.id)
        return public, private, disabled

    def current(self, repo_id: str) -> dict | None:
        """The current listing object of a model (a copy), whoever may see it."""
        with self.lock:
            found = self._find(repo_id)
            if found is None:
                return None
            if isinstance(found, LiveModel):
                return dict(found.obj)
            return self.base.model(found)

    def newest_moment(self) -> float | None:
        """The newest createdAt / lastModified in the base corpus, in epoch milliseconds."""
        newest = None
        for key in _DATE_KEYS:
            values = self.base._values[key]
            present = values[values != _MISSING]
            if len(present):
                top = float(present.max())
                newest = top if newest is None else max(newest, top)
        return newest


def _card_public(obj: dict, serve_gated_cards: bool) -> bool:
    if obj.get("disabled") is True:
        return False
    return obj.get("gated") in (None, False, "false") or serve_gated_cards


@dataclass(frozen=True)
class LivingPage:
    """One page of a living listing: ``(base position, None)`` or ``(None, live model)`` per model."""

    living: LivingCorpus
    items: list[tuple[int | None, LiveModel | None]]
    next_cursor: str | None
    base_page: Page | None  # the base corpus's own page when nothing has changed (fast path)

    def render(self, fields: frozenset[str] | None) -> bytes:
        """The page's JSON array."""
        if self.base_page is not None:
            return self.living.base.render(self.base_page.indices, fields)
        return self.living.render(self.items, fields)


def moment_from_ms(millis: float) -> datetime:
    """An aware UTC datetime from epoch milliseconds."""
    return datetime.fromtimestamp(millis / 1000.0, tz=UTC)
