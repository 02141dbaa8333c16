"""A corpus folder loaded once and indexed for Hub-style listing, lookup and card serving.

The local Hub must page through 760,000 models at full speed, so nothing here re-scans the corpus
per request. On load every model's raw JSON line is kept as bytes (parsed again only for the
1,000 objects of a page, and only when fields must be dropped), and small numpy columns are built
for what queries need: one float per sort key, the ``_id`` tie-breaker, tag ids (CSR) for
``filter``. Sort orders are precomputed as argsorts; a keyset cursor is found again by binary
search, so it stays correct when the corpus changes between two pages. Filtered orderings are
computed once per query and kept in a small LRU.

Choices worth knowing:

* Sort order is descending on ``(value, _id)``, like the Hub; a model without the value sorts
  last. ``lastModified`` is *not* replaced by ``createdAt`` where a corpus lacks it
  (``hub-2024-07``): all values are then missing and the order falls back to ``_id`` descending,
  which is creation order since an ObjectId starts with its creation time.
* Models without ``_id`` (``cards-2022-02``) get a synthetic, deterministic ObjectId-like one:
  8 hex digits of ``createdAt`` (when known) then hex of the SHA-1 of the id.
* A later line for the same id (in the same or a later file) replaces the earlier one.
* Repo ids are matched case-insensitively, as the Hub does.
* Listing objects come from ``models-*`` files only; ``details-*`` objects are served by
  ``/api/models/{id}``.
"""

from __future__ import annotations

import base64
import binascii
import bisect
import gzip
import hashlib
import re
import threading
import time
import zlib
from collections import OrderedDict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import orjson

from hubgenome.core.errors import CorpusFormatError

#: Properties ``expand`` accepts on ``/api/models`` (the Hub's list; anything else is a 400).
EXPANDABLE_PROPERTIES: frozenset[str] = frozenset(
    {
        "author",
        "baseModels",
        "cardData",
        "childrenModelCount",
        "config",
        "createdAt",
        "disabled",
        "downloads",
        "downloadsAllTime",
        "evalResults",
        "gated",
        "gguf",
        "inference",
        "inferenceProviderMapping",
        "lastModified",
        "library_name",
        "likes",
        "mask_token",
        "model-index",
        "pipeline_tag",
        "private",
        "resourceGroup",
        "safetensors",
        "sha",
        "siblings",
        "spaces",
        "tags",
        "transformersInfo",
        "trendingScore",
        "widgetData",
        "usedStorage",
        "xetEnabled",
    }
)

#: Fields of a listing answered without ``expand`` or ``full`` (those the corpus has).
DEFAULT_LISTING_FIELDS: frozenset[str] = frozenset(
    {
        "_id",
        "id",
        "likes",
        "trendingScore",
        "private",
        "downloads",
        "tags",
        "pipeline_tag",
        "library_name",
        "createdAt",
        "modelId",
    }
)

#: Sort keys of ``/api/models``, with the aliases the Python client and users write.
SORT_ALIASES: dict[str, str] = {
    "createdAt": "createdAt",
    "created_at": "createdAt",
    "lastModified": "lastModified",
    "last_modified": "lastModified",
    "downloads": "downloads",
    "likes": "likes",
    "trendingScore": "trendingScore",
    "trending_score": "trendingScore",
    "id": "id",
    "modelId": "id",
    "_id": "_id",
}

_DATE_KEYS = ("createdAt", "lastModified")
_NUMBER_KEYS = ("downloads", "likes", "trendingScore")
_MISSING = -np.inf
_LAYOUT = (
    "expected a corpus folder holding models-NN.jsonl.gz (one Hub model object per line), "
    "optionally cards-NN.jsonl.gz ({'id', 'readme'} per line) and details-NN.jsonl.gz "
    "(verbatim /api/models/{id} answers), as described in shared/hubdata/README.md"
)


class CursorError(ValueError):
    """A pagination cursor that this server did not issue (or issued for another sort)."""


@dataclass(frozen=True)
class ListingQuery:
    """What selects and orders a listing: everything but the page size and the cursor."""

    sort: str = "_id"
    search: str | None = None
    author: str | None = None
    filters: tuple[str, ...] = ()


@dataclass(frozen=True)
class Page:
    """One page of a listing: model positions in serving order and the cursor of the next page."""

    indices: np.ndarray
    next_cursor: str | None


@dataclass(frozen=True)
class _Ordering:
    key: str
    values: np.ndarray  # per model (full corpus), float64 or bytes
    order: np.ndarray  # intp model positions, ascending by (value, _id); served reversed


def _read_jsonl_gz(path: Path) -> list[bytes]:
    try:
        data = gzip.decompress(path.read_bytes())
    except (OSError, EOFError, zlib.error) as exc:
        msg = f"{path}: not a readable gzip file ({exc}); {_LAYOUT}"
        raise CorpusFormatError(msg) from exc
    return data.split(b"\n")


def _parse_line(line: bytes, path: Path, number: int) -> dict | None:
    if not line.strip():
        return None
    try:
        obj = orjson.loads(line)
    except orjson.JSONDecodeError as exc:
        msg = f"{path.name} line {number}: malformed JSON ({exc}); fix or drop that line ({path})"
        raise CorpusFormatError(msg) from exc
    if not isinstance(obj, dict):
        msg = f"{path.name} line {number}: expected a JSON object, got {type(obj).__name__} ({path})"
        raise CorpusFormatError(msg)
    return obj


def _timestamp_ms(value: object) -> float:
    if not isinstance(value, str) or not value:
        return _MISSING
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        return _MISSING
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.timestamp() * 1000.0


def _number(value: object) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return _MISSING
    number = float(value)
    return number if number == number else _MISSING  # NaN sorts as missing


def synthetic_object_id(repo_id: str, created_at: str | None = None) -> str:
    """A deterministic 24-hex ``_id`` for a corpus model that has none.

    Like a MongoDB ObjectId it starts with the creation time in seconds when ``created_at`` is
    known, so ordering by ``_id`` stays close to creation order.

    Examples
    --------
    >>> synthetic_object_id("gpt2") == synthetic_object_id("gpt2")
    True
    >>> synthetic_object_id("x/y", "2022-11-14T18:41:48.000Z")[:8]
    '63728bec'
    """
    digest = hashlib.sha1(repo_id.encode()).hexdigest()
    millis = _timestamp_ms(created_at)
    if millis == _MISSING or millis < 0:
        return digest[:24]
    return f"{int(millis // 1000) & 0xFFFFFFFF:08x}{digest[:16]}"


def encode_cursor(key: str, value: object, object_id: str) -> str:
    """The opaque cursor of a position in a listing sorted by ``key``."""
    payload = orjson.dumps([key, value, object_id])
    return base64.urlsafe_b64encode(payload).rstrip(b"=").decode()


def decode_cursor(cursor: str, key: str) -> tuple[object, str]:
    """The ``(value, _id)`` a cursor encodes; raises :class:`CursorError` if it is not ours."""
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        cursor_key, value, object_id = orjson.loads(raw)
    except (ValueError, TypeError, binascii.Error, orjson.JSONDecodeError) as exc:
        msg = "invalid cursor: pass back the cursor of a Link header unchanged"
        raise CursorError(msg) from exc
    if cursor_key != key:
        msg = f"invalid cursor: it was issued for sort={cursor_key!r}, not sort={key!r}"
        raise CursorError(msg)
    if not isinstance(object_id, str):
        msg = "invalid cursor: malformed position"
        raise CursorError(msg)
    return value, object_id


def _object_array(items: list) -> np.ndarray:
    array = np.empty(len(items), dtype=object)
    array[:] = items
    return array


class _SortKeys:
    """The (value, _id) keys of an ordering as a lazy sequence, for :func:`bisect.bisect_left`."""

    __slots__ = ("object_ids", "order", "values")

    def __init__(self, order: np.ndarray, values: np.ndarray, object_ids: np.ndarray) -> None:
        self.order = order
        self.values = values
        self.object_ids = object_ids

    def __len__(self) -> int:
        return len(self.order)

    def __getitem__(self, index: int) -> tuple[object, bytes]:
        position = self.order[index]
        return self.values[position], self.object_ids[position]


class Corpus:
    """One immutable, indexed snapshot of a corpus folder (build it with :func:`load_corpus`)."""

    def __init__(
        self,
        path: Path,
        lines: list[bytes],
        ids: list[str],
        object_ids: np.ndarray,
        sort_values: dict[str, np.ndarray],
        shapes: list[frozenset[str]],
        shape_of: np.ndarray,
        tag_vocab: dict[str, int],
        tag_flat: np.ndarray,
        tag_offsets: np.ndarray,
        cards: dict[str, bytes],
        details: dict[str, bytes],
        load_seconds: float,
    ) -> None:
        self.path = path
        # object arrays, not lists: the garbage collector does not traverse them, which keeps its
        # full collections at a few ms instead of ~100 ms with 760,000 models in memory
        self.lines = _object_array(lines)
        self.ids = _object_array(ids)
        self.object_ids = object_ids
        self.shapes = shapes
        self.shape_of = shape_of
        self.cards = cards
        self.details = details
        self.load_seconds = load_seconds
        self._tag_vocab = tag_vocab
        self._tag_flat = tag_flat
        self._tag_offsets = tag_offsets
        self._lock = threading.Lock()
        self._cache: OrderedDict[ListingQuery, _Ordering] = OrderedDict()
        self._search_text: tuple[str, np.ndarray] | None = None
        self._plans: dict[frozenset[str] | None, tuple[np.ndarray, list[tuple[str, ...]]]] = {}
        self._by_lower: dict[str, int] = {}
        self._by_exact: dict[str, int] = {}
        for position, repo_id in enumerate(ids):
            if self._by_lower.setdefault(repo_id.lower(), position) != position:
                self._by_exact[repo_id] = position
        self._values: dict[str, np.ndarray] = dict(sort_values)
        self._values["_id"] = object_ids
        by_id = np.argsort(object_ids, kind="stable").astype(np.intp)
        self._orders: dict[str, np.ndarray] = {"_id": by_id}
        for key, values in sort_values.items():
            if np.all(values == _MISSING):
                self._orders[key] = by_id
            else:
                self._orders[key] = np.lexsort((object_ids, values)).astype(np.intp)

    def __len__(self) -> int:
        return len(self.lines)

    # --- lookups -----------------------------------------------------------------------------

    def lookup(self, repo_id: str) -> int | None:
        """Position of a model by id (case-insensitive, exact match preferred), or None."""
        position = self._by_exact.get(repo_id)
        return position if position is not None else self._by_lower.get(repo_id.lower())

    def model(self, position: int) -> dict:
        """The parsed listing object of a model, with ``id`` and ``_id`` filled in."""
        return self._complete(orjson.loads(self.lines[position]), position)

    def details_bytes(self, position: int) -> bytes | None:
        """The verbatim ``/api/models/{id}`` answer the corpus holds for a model, if any."""
        return self.details.get(self.ids[position])

    def card(self, position: int) -> bytes | None:
        """The README.md bytes of a model, or None where the corpus has no card."""
        return self.cards.get(self.ids[position])

    # --- listing -----------------------------------------------------------------------------

    def _ordering(self, query: ListingQuery) -> _Ordering:
        key = query.sort
        if key == "id" and "id" not in self._orders:
            with self._lock:
                if "id" not in self._orders:
                    values = np.array([repo_id.encode() for repo_id in self.ids])
                    self._values["id"] = values
                    self._orders["id"] = np.lexsort((self.object_ids, values)).astype(np.intp)
        values = self._values[key]
        order = self._orders[key]
        if not (query.search or query.author or query.filters):
            return _Ordering(key, values, order)
        with self._lock:
            cached = self._cache.get(query)
            if cached is not None:
                self._cache.move_to_end(query)
                return cached
        mask = self._mask(query)
        ordering = _Ordering(key, values, order[mask[order]])
        with self._lock:
            self._cache[query] = ordering
            while len(self._cache) > 32:
                self._cache.popitem(last=False)
        return ordering

    def _mask(self, query: ListingQuery) -> np.ndarray:
        mask = np.ones(len(self), dtype=bool)
        for tag in query.filters:
            tag_id = self._tag_vocab.get(tag)
            if tag_id is None:
                return np.zeros(len(self), dtype=bool)
            entries = np.flatnonzero(self._tag_flat == tag_id)
            has_tag = np.zeros(len(self), dtype=bool)
            has_tag[np.searchsorted(self._tag_offsets, entries, side="right") - 1] = True
            mask &= has_tag
        if query.author:
            mask &= self._id_match("\n" + re.escape(query.author.lower()) + "/")
        if query.search:
            mask &= self._id_match(re.escape(query.search.lower()))
        return mask

    def _id_match(self, pattern: str) -> np.ndarray:
        """Mask of models whose lowercase id matches a regex (ids are joined, one per line)."""
        if self._search_text is None:
            with self._lock:
                if self._search_text is None:
                    text = "\n" + "\n".join(repo_id.lower() for repo_id in self.ids) + "\n"
                    lengths = np.fromiter((len(repo_id) + 1 for repo_id in self.ids), np.int64, len(self))
                    starts = np.concatenate(([0], np.cumsum(lengths)[:-1]))
                    self._search_text = (text, starts)
        text, starts = self._search_text
        hits = np.fromiter((match.start() for match in re.finditer(pattern, text)), np.int64)
        mask = np.zeros(len(self), dtype=bool)
        if len(hits):
            # a hit at text offset p lies in the id starting at the last start <= p - 1 (the "\n")
            mask[np.searchsorted(starts, hits, side="right") - 1] = True
        return mask

    def count(self, query: ListingQuery) -> int:
        """How many models a query selects."""
        return len(self._ordering(query).order)

    def page(self, query: ListingQuery, limit: int, cursor: str | None = None) -> Page:
        """The page of ``limit`` models after ``cursor`` (the first page without one).

        Raises
        ------
        CursorError
            When the cursor was not issued by this server for this sort key.
        """
        ordering = self._ordering(query)
        order = ordering.order
        values = ordering.values
        end = len(order)
        if cursor is not None:
            value, object_id = decode_cursor(cursor, ordering.key)
            probe = (self._cursor_value(ordering, value), object_id.encode())
            end = bisect.bisect_left(_SortKeys(order, values, self.object_ids), probe)
        start = max(0, end - limit)
        indices = order[start:end][::-1]
        next_cursor = None
        if start > 0 and len(indices):
            last = int(indices[-1])
            next_cursor = encode_cursor(ordering.key, self._json_value(ordering, last), self.object_ids[last].decode())
        return Page(indices, next_cursor)

    def _cursor_value(self, ordering: _Ordering, value: object) -> object:
        if ordering.values.dtype.kind == "S":
            if not isinstance(value, str):
                msg = "invalid cursor: malformed value"
                raise CursorError(msg)
            return value.encode()
        if value is None:
            return _MISSING
        if isinstance(value, bool) or not isinstance(value, int | float):
            msg = "invalid cursor: malformed value"
            raise CursorError(msg)
        return float(value)

    def _json_value(self, ordering: _Ordering, position: int) -> object:
        value = ordering.values[position]
        if ordering.values.dtype.kind == "S":
            return value.decode()
        return None if value == _MISSING else float(value)

    # --- rendering ---------------------------------------------------------------------------

    def _complete(self, obj: dict, position: int) -> dict:
        if "_id" in obj and "id" in obj:
            return obj
        head = {"_id": self.object_ids[position].decode(), "id": self.ids[position]}
        head.update(obj)
        return head

    def render(self, indices: Sequence[int] | np.ndarray, fields: frozenset[str] | None) -> bytes:
        """The JSON array of the models at ``indices``, each reduced to ``fields``.

        ``fields=None`` keeps every field. ``_id`` and ``id`` are always present. Objects whose
        fields are all wanted are copied as the corpus holds them, without parsing.
        """
        return orjson.dumps(self.render_objects(indices, fields))

    def render_objects(self, indices: Sequence[int] | np.ndarray, fields: frozenset[str] | None) -> list[object]:
        """What :meth:`render` serializes: one raw ``orjson.Fragment`` or reduced dict per model."""
        plan = self._plans.get(fields)
        if plan is None:
            # per shape (the exact key tuple of an object): copy it raw, or which keys to drop
            drops = [
                () if fields is None else tuple(key for key in shape if key not in fields) for shape in self.shapes
            ]
            raw = [
                not drop and "_id" in shape and "id" in shape for shape, drop in zip(self.shapes, drops, strict=True)
            ]
            plan = (np.array(raw or [False]), drops)
            if len(self._plans) > 64:
                self._plans.clear()
            self._plans[fields] = plan
        keep_raw, drops = plan
        positions = np.asarray(indices, dtype=np.intp)
        shape_of = self.shape_of[positions].tolist()
        lines = self.lines
        loads = orjson.loads
        fragment = orjson.Fragment
        objects: list[object] = []
        append = objects.append
        for position, raw, shape in zip(positions.tolist(), keep_raw[shape_of].tolist(), shape_of, strict=True):
            if raw:
                append(fragment(lines[position]))
                continue
            obj = loads(lines[position])
            if "_id" not in obj or "id" not in obj or obj["_id"] is None or obj["id"] is None:
                obj = self._project(obj, position, None)
            for key in drops[shape]:
                obj.pop(key, None)
            append(obj)
        return objects

    def render_one(self, raw: bytes, position: int, fields: frozenset[str] | None) -> bytes:
        """One object (a listing line or a details answer) reduced to ``fields``."""
        obj = orjson.loads(raw)
        return orjson.dumps(self._project(obj, position, fields))

    def _project(self, obj: dict, position: int, fields: frozenset[str] | None) -> dict:
        object_id = obj.get("_id") or self.object_ids[position].decode()
        repo_id = obj.get("id") or self.ids[position]
        projected = {"_id": object_id, "id": repo_id}
        if fields is None:
            projected.update(obj)
        else:
            projected.update((key, value) for key, value in obj.items() if key in fields)
        projected["_id"] = object_id
        projected["id"] = repo_id
        return projected


def corpus_files(path: Path, kind: str) -> list[Path]:
    """The ``<kind>-NN.jsonl.gz`` files of a corpus folder, in name order."""
    return sorted(path.glob(f"{kind}-*.jsonl.gz"))


def check_layout(path: str | Path) -> Path:
    """The corpus folder as a Path, or :class:`~hubgenome.core.errors.CorpusFormatError` if it is not one."""
    folder = Path(path).expanduser()
    if not folder.is_dir():
        msg = f"corpus folder {folder} does not exist; {_LAYOUT}"
        raise CorpusFormatError(msg)
    if not corpus_files(folder, "models"):
        msg = f"corpus folder {folder} has no models-*.jsonl.gz file; {_LAYOUT}"
        raise CorpusFormatError(msg)
    return folder


def load_corpus(path: str | Path) -> Corpus:
    """Read and index a corpus folder.

    Parameters
    ----------
    path
        A folder in the ``shared/hubdata`` layout.

    Raises
    ------
    hubgenome.core.errors.CorpusFormatError
        If the folder is missing, has no ``models-*.jsonl.gz``, or a line is not a JSON object
        with an ``id`` (or ``modelId``); the message names the file and line.
    """
    started = time.perf_counter()
    folder = check_layout(path)
    lines: list[bytes] = []
    ids: list[str] = []
    given_ids: list[str | None] = []
    raw_values: dict[str, list] = {key: [] for key in (*_DATE_KEYS, *_NUMBER_KEYS)}
    shape_index: dict[tuple[str, ...], int] = {}
    shape_of: list[int] = []
    tag_vocab: dict[str, int] = {}
    tag_flat: list[int] = []
    tag_counts: list[int] = []
    seen: dict[str, int] = {}
    replaced: list[tuple[int, int]] = []

    for file in corpus_files(folder, "models"):
        for number, line in enumerate(_read_jsonl_gz(file), start=1):
            obj = _parse_line(line, file, number)
            if obj is None:
                continue
            repo_id = obj.get("id") or obj.get("modelId")
            if not isinstance(repo_id, str):
                msg = f"{file.name} line {number}: the model object has no string 'id' or 'modelId' ({file})"
                raise CorpusFormatError(msg)
            previous = seen.get(repo_id)
            seen[repo_id] = len(lines)
            if previous is not None:
                replaced.append((previous, len(lines)))
            lines.append(line.rstrip(b"\r"))
            ids.append(repo_id)
            object_id = obj.get("_id")
            given_ids.append(object_id if isinstance(object_id, str) and object_id else None)
            for key, column in raw_values.items():
                column.append(obj.get(key))
            shape = tuple(obj)
            if given_ids[-1] is None or not isinstance(obj.get("id"), str):
                shape = (*(key for key in shape if key not in ("_id", "id")), "\0needs-id")
            index = shape_index.get(shape)
            if index is None:
                index = shape_index[shape] = len(shape_index)
            shape_of.append(index)
            tags = obj.get("tags")
            if isinstance(tags, list):
                count = 0
                for tag in tags:
                    if isinstance(tag, str):
                        tag_id = tag_vocab.get(tag)
                        if tag_id is None:
                            tag_id = tag_vocab[tag] = len(tag_vocab)
                        tag_flat.append(tag_id)
                        count += 1
                tag_counts.append(count)
            else:
                tag_counts.append(0)

    object_ids_list = [
        given if given is not None else synthetic_object_id(repo_id, created)
        for given, repo_id, created in zip(given_ids, ids, raw_values["createdAt"], strict=True)
    ]
    counts = np.asarray(tag_counts, dtype=np.int64)
    flat = np.asarray(tag_flat, dtype=np.int32)
    keep: np.ndarray | None = None
    if replaced:
        keep = np.ones(len(lines), dtype=bool)
        keep[[old for old, _ in replaced]] = False
        flat = flat[np.repeat(keep, counts)]
        counts = counts[keep]
        kept = np.flatnonzero(keep).tolist()
        lines = [lines[i] for i in kept]
        ids = [ids[i] for i in kept]
        object_ids_list = [object_ids_list[i] for i in kept]
        shape_of = [shape_of[i] for i in kept]
        raw_values = {key: [column[i] for i in kept] for key, column in raw_values.items()}
    offsets = np.concatenate(([0], np.cumsum(counts)[:-1])) if len(counts) else np.zeros(0, np.int64)
    object_ids = np.array([object_id.encode() for object_id in object_ids_list] or [b""])[: len(lines)]
    _check_unique_object_ids(object_ids, ids)

    sort_values: dict[str, np.ndarray] = {}
    for key in _DATE_KEYS:
        sort_values[key] = np.fromiter(map(_timestamp_ms, raw_values[key]), np.float64, len(lines))
    for key in _NUMBER_KEYS:
        sort_values[key] = np.fromiter(map(_number, raw_values[key]), np.float64, len(lines))

    present = set(ids)
    cards: dict[str, bytes] = {}
    for file in corpus_files(folder, "cards"):
        for number, line in enumerate(_read_jsonl_gz(file), start=1):
            obj = _parse_line(line, file, number)
            if obj is None:
                continue
            repo_id, readme = obj.get("id"), obj.get("readme")
            if not isinstance(repo_id, str) or not isinstance(readme, str):
                msg = f"{file.name} line {number}: expected {{'id': str, 'readme': str}} ({file})"
                raise CorpusFormatError(msg)
            if repo_id in present:
                cards[repo_id] = readme.encode("utf-8", "surrogatepass")
    details: dict[str, bytes] = {}
    for file in corpus_files(folder, "details"):
        for number, line in enumerate(_read_jsonl_gz(file), start=1):
            obj = _parse_line(line, file, number)
            if obj is None:
                continue
            repo_id = obj.get("id") or obj.get("modelId")
            if not isinstance(repo_id, str):
                msg = f"{file.name} line {number}: the details object has no 'id' ({file})"
                raise CorpusFormatError(msg)
            if repo_id in present:
                details[repo_id] = line.rstrip(b"\r")

    shapes = [frozenset(shape) for shape in shape_index]
    return Corpus(
        path=folder,
        lines=lines,
        ids=ids,
        object_ids=object_ids,
        sort_values=sort_values,
        shapes=shapes,
        shape_of=np.asarray(shape_of, dtype=np.int32),
        tag_vocab=tag_vocab,
        tag_flat=flat,
        tag_offsets=offsets,
        cards=cards,
        details=details,
        load_seconds=time.perf_counter() - started,
    )


def _check_unique_object_ids(object_ids: np.ndarray, ids: Iterable[str]) -> None:
    if len(object_ids) < 2:
        return
    ordered = np.sort(object_ids)
    duplicated = ordered[1:][ordered[1:] == ordered[:-1]]
    if len(duplicated):
        clash = duplicated[0].decode()
        owners = [repo_id for repo_id, oid in zip(ids, object_ids, strict=True) if oid.decode() == clash]
        msg = (
            f"models {owners[:3]} share the _id {clash!r}; every model needs its own _id "
            "(drop the _id field to get a synthetic one)"
        )
        raise CorpusFormatError(msg)
