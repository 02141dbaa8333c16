"""Land the paper's published snapshot (``modelbiome/ai_ecosystem_withmodelcards``) as a crawl of its own.

Why it exists: "Anatomy of a Machine Learning Ecosystem" published its 1.86M-model snapshot of July
2025 (listing metadata plus each model's card) as a dataset repo. Landing it in the raw landing as
one succeeded crawl of mode ``snapshot`` lets ``hubgenome build`` rebuild the paper's warehouse
with the same dbt models as a live crawl, so its figures can be recomputed and compared.

The published files are flat tables (CSV as the authors wrote it with pandas, or Parquet): one
row per model with ``model_id, likes, trendingScore, private, downloads, tags, pipeline_tag,
library_name, createdAt, modelCard`` and columns the authors derived from the tags (``licenses``,
``parent_model``, ``languages``, ...). Each row becomes the listing object the crawler would have
landed, built here in one place:

- ``id`` and ``modelId`` are ``model_id``; ``author`` is the part of the id before the ``/`` (a
  legacy un-namespaced id has none), unless the file has an ``author`` column;
- list columns hold **Python-repr strings** (``"['a', \\"it's\\"]"``): they are parsed as literals,
  never evaluated (a string that is not a list literal is counted and the tags left out);
- counters, flags and dates are cast leniently (``"12.0"`` -> 12, ``"True"`` -> true, an
  unparseable date is left out rather than failing the build);
- ``cardData`` is the card's YAML front matter, parsed safely, as the Hub derives it;
- the derived columns are not copied: the warehouse derives the same facts from the tags.

A non-empty ``modelCard`` lands as a card fetched with status ``ok``; a model without one gets no
card row ("never fetched", as :mod:`hubgenome.flows.corpus_import` does), since the snapshot cannot tell a
missing README from one that was not scraped.

Memory stays flat however many rows and cards there are: the files are read in Arrow batches
through DuckDB (``read_parquet`` / ``read_csv``), converted in Python (tags, front matter) and
streamed into ``raw_models`` by a single INSERT, which DuckDB writes out as it goes; the cards go
from the file to ``raw_cards`` in SQL (a second read of the file, no Python). Everything lands in
one transaction: a bad file (no ``model_id`` column, unreadable, a malformed line halfway) leaves
the landing untouched.
"""

from __future__ import annotations

import ast
import datetime as dt
import os
import re
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path

import duckdb
import orjson
import pyarrow as pa
import yaml
from prefect import flow, task

from hubgenome.core.errors import (
    ConfigurationError,
    CorpusFormatError,
    HubCrawlError,
    HubRequestError,
    SnapshotFormatError,
)
from hubgenome.core.paths import paths
from hubgenome.core.settings import resolve_endpoint
from hubgenome.flows import landing
from hubgenome.flows.progress import progress_bars, progress_wanted
from hubgenome.flows.task_options import NETWORK_TASK_OPTIONS

SNAPSHOT_REPO = "modelbiome/ai_ecosystem_withmodelcards"
"""The dataset repo of the paper's published snapshot."""

SNAPSHOT_MODE = "snapshot"
"""The ``crawl_runs.mode`` of an imported snapshot."""

PAGE_SIZE = 1000
"""Rows per landed page (``crawl_pages``): a page never spans two files."""

BATCH_ROWS = 10 * PAGE_SIZE
"""Rows read, converted and inserted at a time."""

MAX_CSV_LINE_BYTES = 256 * 1024 * 1024
"""Longest CSV record accepted (a record holds a whole model card)."""

LANDING_MEMORY_LIMIT = "2GB"
"""DuckDB's memory cap while a snapshot lands (the rest spills to disk): memory stays flat at 1.86M rows."""

MAX_FRONT_MATTER_CHARS = 256 * 1024
"""Front matter longer than this is not parsed into ``cardData`` (the Hub caps it too)."""

#: Source columns read into the listing payload, with how each is cast. Everything else is ignored.
_COLUMN_KINDS: dict[str, str] = {
    "_id": "text",
    "author": "text",
    "sha": "text",
    "pipeline_tag": "text",
    "library_name": "text",
    "gated": "text",
    "likes": "int",
    "downloads": "int",
    "downloadsAllTime": "int",
    "trendingScore": "float",
    "private": "bool",
    "disabled": "bool",
    "createdAt": "time",
    "lastModified": "time",
    "tags": "list",
}
_ID_COLUMN = "model_id"
_CARD_COLUMN = "modelCard"
_FRONT_MATTER = re.compile(r"\A\ufeff?---[ \t]*\r?\n(.*?)\r?\n---[ \t]*(?:\r?\n|\Z)", re.S)
_YAML_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


# -- sources ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class SnapshotSource:
    """The data files of one snapshot and where they came from.

    ``endpoint`` is what ``crawl_runs.endpoint`` records (the repo at its revision, or the local
    path); ``file_urls`` are recorded on every ``crawl_pages`` row of the file.
    """

    files: tuple[Path, ...]
    names: tuple[str, ...]
    endpoint: str
    file_urls: tuple[str, ...]
    repo_id: str | None = None
    revision: str | None = None


def _file_format(name: str) -> str | None:
    lowered = name.lower()
    if lowered.endswith(".parquet"):
        return "parquet"
    if lowered.endswith((".csv", ".csv.gz")):
        return "csv"
    return None


def pick_data_files(names: Iterable[str]) -> list[str]:
    """The data files of a snapshot: every Parquet file if there is one, else every CSV file, sorted.

    A repo holding both formats holds the same rows twice; Parquet is preferred (typed, faster).

    Examples
    --------
    >>> pick_data_files(["README.md", "ai_ecosystem_withmodelcards.csv"])
    ['ai_ecosystem_withmodelcards.csv']
    >>> pick_data_files(["a.csv", "data/train-00000-of-00002.parquet", "data/train-00001-of-00002.parquet"])
    ['data/train-00000-of-00002.parquet', 'data/train-00001-of-00002.parquet']
    """
    names = sorted(set(names))
    parquet = [name for name in names if _file_format(name) == "parquet"]
    return parquet or [name for name in names if _file_format(name) == "csv"]


def local_source(path: str | os.PathLike[str]) -> SnapshotSource:
    """A snapshot already on disk: one CSV/Parquet file, or a folder (searched recursively).

    Raises
    ------
    SnapshotFormatError
        When the path does not exist, is not a CSV/Parquet file, or the folder holds none.
    """
    path = Path(path).expanduser().resolve()
    if path.is_file():
        if _file_format(path.name) is None:
            msg = f"{path} is neither a .parquet nor a .csv(.gz) file: point --from at the snapshot's data files."
            raise SnapshotFormatError(msg)
        names = [path.name]
        root = path.parent
    elif path.is_dir():
        found = [p.relative_to(path).as_posix() for p in path.rglob("*") if p.is_file()]
        names = pick_data_files(name for name in found if not name.startswith("."))
        if not names:
            msg = (
                f"No .parquet or .csv file under {path}: point --from at the folder holding the snapshot's data files."
            )
            raise SnapshotFormatError(msg)
        root = path
    else:
        msg = f"{path} does not exist: point --from at the downloaded snapshot (a file or a folder)."
        raise SnapshotFormatError(msg)
    files = tuple(root / name for name in names)
    return SnapshotSource(files, tuple(names), f"file://{path}", tuple(f"file://{file}" for file in files))


def download_snapshot(
    repo_id: str = SNAPSHOT_REPO,
    *,
    revision: str | None = None,
    endpoint: str | None = None,
    token: str | None = None,
    cache_dir: str | os.PathLike[str] | None = None,
) -> SnapshotSource:
    """Download the data files of a dataset repo with ``huggingface_hub`` (into its cache) at one revision.

    Parameters
    ----------
    repo_id
        The dataset repo (default: the paper's, :data:`SNAPSHOT_REPO`).
    revision
        A branch, tag or commit (default ``main``); resolved to the commit sha, which is recorded.
    endpoint
        The Hub (default ``HF_ENDPOINT`` or https://huggingface.co).
    token
        A Hub token (default ``HF_TOKEN``); never stored.
    cache_dir
        Where ``huggingface_hub`` keeps the files (default: its own cache, ``HF_HUB_CACHE``).

    Raises
    ------
    HubRequestError
        The Hub refused (unknown repo or revision, gated, no access): retrying will not help.
    HubCrawlError
        The Hub could not be reached or failed.
    SnapshotFormatError
        The repo holds no ``.parquet`` or ``.csv`` file.
    """
    import httpx2
    from huggingface_hub import HfApi, snapshot_download
    from huggingface_hub.errors import HfHubHTTPError, LocalEntryNotFoundError, OfflineModeIsEnabled

    endpoint = resolve_endpoint(endpoint)
    token = token or os.environ.get("HF_TOKEN") or None
    where = f"dataset {repo_id}@{revision or 'main'} on {endpoint}"
    try:
        info = HfApi(endpoint=endpoint, token=token).dataset_info(repo_id, revision=revision)
        names = pick_data_files(sibling.rfilename for sibling in info.siblings or [])
        if not names:
            msg = f"The {where} holds no .parquet or .csv file; check the repo id and revision."
            raise SnapshotFormatError(msg)
        folder = snapshot_download(
            repo_id,
            repo_type="dataset",
            revision=info.sha,
            allow_patterns=names,
            endpoint=endpoint,
            token=token,
            cache_dir=cache_dir,
        )
    except HfHubHTTPError as exc:
        status = exc.response.status_code if exc.response is not None else None
        detail = str(exc).splitlines()[0]
        if status is not None and 400 <= status < 500 and status != 429:
            msg = (
                f"The Hub refused the {where} (HTTP {status}: {detail}). Check the repo id, --revision, "
                "the endpoint (--endpoint / HF_ENDPOINT) and your token (HF_TOKEN)."
            )
            raise HubRequestError(msg, status) from exc
        msg = f"Downloading the {where} failed ({detail}); try again later."
        raise HubCrawlError(msg) from exc
    except (LocalEntryNotFoundError, OfflineModeIsEnabled, httpx2.TransportError) as exc:
        msg = f"Could not reach {endpoint} to download the {where}: check the network and --endpoint / HF_ENDPOINT."
        raise HubCrawlError(msg) from exc
    except OSError as exc:  # connection refused, DNS, disk full while downloading
        msg = f"Downloading the {where} failed: {exc}. Check --endpoint / HF_ENDPOINT and the free disk space."
        raise HubCrawlError(msg) from exc
    files = tuple(Path(folder) / name for name in names)
    base = f"{endpoint}/datasets/{info.id}"
    return SnapshotSource(
        files=files,
        names=tuple(names),
        endpoint=f"{base}/tree/{info.sha}",
        file_urls=tuple(f"{base}/resolve/{info.sha}/{name}" for name in names),
        repo_id=info.id,
        revision=info.sha,
    )


# -- values ----------------------------------------------------------------------------------------


def parse_tags(value: object) -> list[str] | None:
    """A tag list from a Python-repr string (or a real list); None when it is not a list literal.

    Parsed with :func:`ast.literal_eval`, which builds literals and never runs code. Lists whose
    strings need no escaping take a JSON fast path (same result, several times faster).

    Examples
    --------
    >>> parse_tags("['transformers', 'base_model:org/parent']")
    ['transformers', 'base_model:org/parent']
    >>> parse_tags('["it\\'s", \\'a\\']')
    ["it's", 'a']
    >>> parse_tags("[]"), parse_tags(None), parse_tags("__import__('os')")
    ([], [], None)
    """
    if value is None:
        return []
    if isinstance(value, list | tuple):
        return [str(item) for item in value if item is not None]
    text = str(value).strip()
    if not text or text in ("nan", "None"):
        return []
    if not text.startswith("[") or len(text) > 10_000_000:
        return None
    if '"' not in text and "\\" not in text:
        # Every quote is a delimiter here: repr switches to double quotes (or escapes) when a
        # string holds a single quote, so swapping the quotes gives the same list as JSON.
        try:
            parsed = orjson.loads(text.replace("'", '"'))
        except orjson.JSONDecodeError:
            parsed = None
        if isinstance(parsed, list) and all(isinstance(item, str) for item in parsed):
            return parsed
    try:
        parsed = ast.literal_eval(text)
    except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError):
        return None
    if not isinstance(parsed, list | tuple):
        return None
    return [str(item) for item in parsed if item is not None]


def card_data(card: str) -> dict | None:
    """The card's YAML front matter as a mapping (the Hub's ``cardData``), or None if it has none or it is malformed.

    Examples
    --------
    >>> card_data("---\\nlicense: mit\\nbase_model: org/parent\\n---\\n# Model")
    {'license': 'mit', 'base_model': 'org/parent'}
    >>> card_data("# no front matter"), card_data("---\\nlicense: [mit\\n---\\n")
    (None, None)
    """
    if not card.startswith(("---", "\ufeff---")):
        return None
    match = _FRONT_MATTER.match(card[: MAX_FRONT_MATTER_CHARS + 16])
    if match is None:
        return None
    try:
        parsed = yaml.load(match.group(1), Loader=_YAML_LOADER)  # a safe loader: builds plain data only
    except (yaml.YAMLError, ValueError, RecursionError):
        return None
    return parsed if isinstance(parsed, dict) and parsed else None


def _dumps(payload: dict) -> str:
    """The payload as JSON; a ``cardData`` JSON cannot hold (a 70-digit integer, ...) is dropped."""
    try:
        return orjson.dumps(payload, default=str, option=orjson.OPT_NON_STR_KEYS).decode()
    except (orjson.JSONEncodeError, RecursionError):
        payload.pop("cardData", None)
        return orjson.dumps(payload, default=str).decode()


def _gated(value: str | None) -> str | bool | None:
    if value is None:
        return None
    lowered = value.strip().lower()
    if lowered in ("auto", "manual"):
        return lowered
    return False if lowered in ("false", "0", "none", "") else None


# -- reading files ---------------------------------------------------------------------------------


def _reader_sql(path: Path) -> str:
    literal = "'" + str(path).replace("'", "''") + "'"
    if _file_format(path.name) == "parquet":
        return f"read_parquet({literal})"
    # Every column as text: pandas writes NaN as an empty field and ints with NaN as 12.0; the
    # casts below are lenient, a sniffed type would reject a 1.86M-row file on one odd value.
    options = f"header = true, all_varchar = true, quote = '\"', escape = '\"', max_line_size = {MAX_CSV_LINE_BYTES}"
    return f"read_csv({literal}, {options})"


def _column_sql(name: str, kind: str, column_type: str | None) -> str:
    if column_type is None:
        return f'null as "{name}"'
    quoted = f'"{name}"'
    text = f"cast({quoted} as varchar)"
    expressions = {
        "text": f"nullif(trim({text}), '')",
        "int": f"coalesce(try_cast({text} as bigint), try_cast(try_cast({text} as double) as bigint))",
        "float": f"case when isfinite(try_cast({text} as double)) then try_cast({text} as double) end",
        "bool": f"try_cast(trim({text}) as boolean)",
        "time": f"strftime(try_cast({quoted} as timestamptz), '%Y-%m-%dT%H:%M:%S.%gZ')",
        "list": (f"list_transform({quoted}, tag -> cast(tag as varchar))" if column_type.endswith("[]") else text),
    }
    if kind == "time" and column_type.startswith(("VARCHAR", "BLOB")):
        expressions["time"] = f"strftime(try_cast(trim({text}) as timestamptz), '%Y-%m-%dT%H:%M:%S.%gZ')"
    return f'{expressions[kind]} as "{name}"'


@dataclass(frozen=True)
class _FilePlan:
    path: Path
    columns: dict[str, str]
    rows: int | None

    @property
    def ignored_columns(self) -> list[str]:
        known = {_ID_COLUMN, _CARD_COLUMN, *_COLUMN_KINDS}
        return [name for name in self.columns if name not in known]

    def select_sql(self) -> str:
        parts = [f'trim(cast("{_ID_COLUMN}" as varchar)) as model_id']
        parts += [_column_sql(name, kind, self.columns.get(name)) for name, kind in _COLUMN_KINDS.items()]
        parts.append(self._card_sql())
        return f"select {', '.join(parts)} from {_reader_sql(self.path)}"

    def cards_sql(self) -> str:
        """The (model id, card text) of the rows that have both, straight from the file."""
        model_id = f'trim(cast("{_ID_COLUMN}" as varchar))'
        return (
            f"select {model_id} as model_id, {self._card_sql()} from {_reader_sql(self.path)} "
            f"where coalesce({model_id}, '') <> '' and card_text is not null"
        )

    def _card_sql(self) -> str:
        if _CARD_COLUMN not in self.columns:
            return "null::varchar as card_text"
        text = f'cast("{_CARD_COLUMN}" as varchar)'
        # An empty or blank card is no card (pandas writes a missing one as an empty field).
        return f"case when trim({text}, ' \t\r\n') <> '' then {text} end as card_text"


def _reader() -> duckdb.DuckDBPyConnection:
    con = duckdb.connect()
    con.execute("set timezone = 'UTC'")
    con.execute("set enable_progress_bar = false")
    return con


def inspect_file(path: Path) -> _FilePlan:
    """Read a data file's columns (and, for Parquet, its row count) without reading its rows.

    Raises :class:`SnapshotFormatError` when DuckDB cannot read it or it has no ``model_id`` column.
    """
    con = _reader()
    try:
        described = con.execute(f"describe select * from {_reader_sql(path)}").fetchall()
        columns = {row[0]: row[1] for row in described}
        rows = None
        if _file_format(path.name) == "parquet":
            rows = con.execute(f"select count(*) from {_reader_sql(path)}").fetchone()[0]
    except duckdb.Error as exc:
        msg = f"Cannot read {path} as {_file_format(path.name)}: {exc}. Is the file complete (re-download it)?"
        raise SnapshotFormatError(msg) from exc
    finally:
        con.close()
    if _ID_COLUMN not in columns:
        shown = ", ".join(list(columns)[:12]) + (", ..." if len(columns) > 12 else "")
        msg = (
            f"{path} has no {_ID_COLUMN!r} column (its columns: {shown}): it is not a file of the "
            f"{SNAPSHOT_REPO} snapshot, whose rows have model_id, tags, createdAt, modelCard, ..."
        )
        raise SnapshotFormatError(msg)
    return _FilePlan(path, columns, rows)


def _batches(plan: _FilePlan) -> Iterator[pa.RecordBatch]:
    con = _reader()
    try:
        relation = con.sql(plan.select_sql())
        # A streaming reader (DuckDB 2 calls it to_arrow_reader, 1.x fetch_arrow_reader).
        reader = (getattr(relation, "to_arrow_reader", None) or relation.fetch_arrow_reader)(BATCH_ROWS)
        yield from reader
    except (duckdb.Error, pa.ArrowException) as exc:
        msg = f"Reading {plan.path} failed part-way: {exc}. Nothing was landed; fix or re-download the file."
        raise SnapshotFormatError(msg) from exc
    finally:
        con.close()


# -- landing ---------------------------------------------------------------------------------------


@dataclass
class SnapshotSummary:
    """What one snapshot import landed, as printed by the CLI and returned by the flow."""

    crawl_id: str
    endpoint: str
    repo_id: str | None
    revision: str | None
    files: list[str]
    models: int = 0
    pages: int = 0
    cards: int = 0
    card_data: int = 0
    rows_without_id: int = 0
    tags_unparsed: int = 0
    ignored_columns: list[str] = field(default_factory=list)
    seconds: float = 0.0

    def as_dict(self) -> dict:
        return asdict(self)


_MODEL_ROWS = pa.schema([("model_id", pa.string()), ("page_number", pa.int32()), ("payload", pa.string())])


def convert_batch(
    batch: pa.RecordBatch, first_row: int, page_offset: int, summary: SnapshotSummary
) -> tuple[pa.RecordBatch, dict[int, int]]:
    """Turn a batch of source rows (the columns of ``_FilePlan.select_sql``) into ``raw_models`` rows.

    ``first_row`` is the batch's first row number in its file; the page of a row is
    ``page_offset + row // PAGE_SIZE``. Returns the rows and the number of rows per page; counts
    rows without id, unparsed tags and parsed front matter into ``summary``.
    """
    columns = batch.to_pydict()
    ids, cards = columns["model_id"], columns["card_text"]
    fields = [(name, columns[name]) for name in _COLUMN_KINDS if name != "tags"]
    model_ids: list[str] = []
    pages: list[int] = []
    payloads: list[str] = []
    page_counts: dict[int, int] = {}
    for index, model_id in enumerate(ids):
        if not model_id:
            summary.rows_without_id += 1
            continue
        payload: dict = {"id": model_id, "modelId": model_id}
        for name, values in fields:
            value = values[index]
            if name == "gated":
                value = _gated(value)
            if value is not None:
                payload[name] = value
        if "author" not in payload and "/" in model_id:
            payload["author"] = model_id.split("/", 1)[0]
        tags = parse_tags(columns["tags"][index])
        if tags is None:
            summary.tags_unparsed += 1
        else:
            payload["tags"] = tags
        card = cards[index]
        data = card_data(card) if card is not None else None
        if data is not None:
            payload["cardData"] = data
            summary.card_data += 1
        page = page_offset + (first_row + index) // PAGE_SIZE
        page_counts[page] = page_counts.get(page, 0) + 1
        model_ids.append(model_id)
        pages.append(page)
        payloads.append(_dumps(payload))
    rows = pa.RecordBatch.from_arrays(
        [pa.array(model_ids, pa.string()), pa.array(pages, pa.int32()), pa.array(payloads, pa.string())],
        schema=_MODEL_ROWS,
    )
    return rows, page_counts


def import_snapshot(
    source: SnapshotSource,
    raw_db: str | os.PathLike[str],
    *,
    show_progress: bool = False,
    on_batch: Callable[[int], None] | None = None,
) -> SnapshotSummary:
    """Land every row of ``source``'s files into ``raw_db`` as one succeeded crawl of mode ``snapshot``.

    Every file is checked (readable, has ``model_id``) before the landing is opened; the rows then
    land in a single transaction, so any failure leaves the landing as it was.

    Parameters
    ----------
    source
        From :func:`local_source` or :func:`download_snapshot`.
    raw_db
        The raw landing (created if missing).
    show_progress
        Draw a progress bar on stderr.
    on_batch
        Called with the number of rows read so far after each batch (tests use it to interrupt).

    Raises
    ------
    SnapshotFormatError
        A file is unreadable or lacks ``model_id``; nothing was landed.
    LandingLockedError
        Another process (a crawl) holds the landing.

    Examples
    --------
    >>> source = local_source("ai_ecosystem_withmodelcards.csv")  # doctest: +SKIP
    >>> import_snapshot(source, Path("data/raw.duckdb")).models  # doctest: +SKIP
    1860411
    """
    started = time.perf_counter()
    plans = [inspect_file(path) for path in source.files]
    total = sum(plan.rows for plan in plans) if all(plan.rows is not None for plan in plans) else None
    started_at = landing.utcnow()
    crawl_id = landing.new_crawl_id(SNAPSHOT_MODE, started_at)
    summary = SnapshotSummary(
        crawl_id=crawl_id,
        endpoint=source.endpoint,
        repo_id=source.repo_id,
        revision=source.revision,
        files=list(source.names),
        ignored_columns=sorted({name for plan in plans for name in plan.ignored_columns}),
    )
    expand = ["id", "modelId", "author", *[name for name in _COLUMN_KINDS if name != "author"], "cardData"]
    con = landing.connect(Path(raw_db))
    try:
        # Bounded memory: what the transaction writes beyond this spills to <raw db>.tmp.
        con.execute(f"set memory_limit = '{LANDING_MEMORY_LIMIT}'")
        con.execute("begin transaction")
        con.execute(
            """
            insert into crawl_runs (crawl_id, mode, endpoint, sort_by, expand, started_at, state)
            values (?, ?, ?, null, ?, ?, 'running')
            """,
            [crawl_id, SNAPSHOT_MODE, source.endpoint, expand, started_at],
        )
        with progress_bars(show_progress) as progress:
            bar = progress.add_task("snapshot", total=total, rate="") if progress else None

            def tick(read: int) -> None:
                if progress is not None:
                    rate = read / max(time.perf_counter() - started, 1e-9)
                    progress.update(bar, completed=read, rate=f"{rate:,.0f} rows/s")
                if on_batch is not None:
                    on_batch(read)

            pages = _land_models(con, crawl_id, started_at, plans, summary, tick)
        con.executemany(
            "insert into crawl_pages values (?, ?, ?, null, ?, ?)",
            [
                [crawl_id, page, f"{source.file_urls[file_index]}#rows={first_row}-", count, started_at]
                for page, (file_index, first_row, count) in sorted(pages.items())
            ],
        )
        for plan in plans:
            try:
                con.execute(
                    f"""
                    insert into raw_cards
                    select ?, model_id, ?, null, 'ok', 200, card_text, sha256(card_text), null
                    from ({plan.cards_sql()})
                    """,
                    [crawl_id, started_at],
                )
            except duckdb.Error as exc:
                msg = (
                    f"Reading the cards of {plan.path} failed: {exc}. Nothing was landed; fix or re-download the file."
                )
                raise SnapshotFormatError(msg) from exc
        summary.models, summary.pages, summary.cards = con.execute(
            """
            select (select count(*) from raw_models where crawl_id = $1),
                   (select count(*) from crawl_pages where crawl_id = $1),
                   (select count(*) from raw_cards where crawl_id = $1)
            """,
            [crawl_id],
        ).fetchone()
        con.execute(
            "update crawl_runs set pages_landed = ?, models_landed = ? where crawl_id = ?",
            [summary.pages, summary.models, crawl_id],
        )
        landing.finish_run(con, crawl_id)
        con.execute("commit")
    except BaseException:
        con.execute("rollback")
        raise
    finally:
        con.close()
    summary.seconds = round(time.perf_counter() - started, 3)
    return summary


def _land_models(
    con: duckdb.DuckDBPyConnection,
    crawl_id: str,
    fetched_at: dt.datetime,
    plans: Sequence[_FilePlan],
    summary: SnapshotSummary,
    tick: Callable[[int], None],
) -> dict[int, tuple[int, int, int]]:
    """Stream every file's converted rows into ``raw_models`` as one INSERT; returns page -> (file, first row, rows).

    One INSERT over a stream (not one per batch): DuckDB then writes the rows out as they come
    instead of holding the whole uncommitted import in memory.
    """
    pages: dict[int, tuple[int, int, int]] = {}
    failure: list[BaseException] = []

    def batches() -> Iterator[pa.RecordBatch]:
        read = 0
        page_offset = 0
        try:
            for file_index, plan in enumerate(plans):
                file_rows = 0
                for batch in _batches(plan):
                    rows, counts = convert_batch(batch, file_rows, page_offset, summary)
                    for page, count in counts.items():
                        first_row = (page - page_offset) * PAGE_SIZE
                        pages[page] = (file_index, first_row, pages.get(page, (0, 0, 0))[2] + count)
                    file_rows += batch.num_rows
                    read += batch.num_rows
                    yield rows
                    tick(read)
                page_offset += -(-file_rows // PAGE_SIZE)
        except BaseException as exc:
            failure.append(exc)
            raise

    stream = pa.RecordBatchReader.from_batches(_MODEL_ROWS, batches())
    con.register("snapshot_models", stream)
    try:
        con.execute(
            "insert into raw_models select ?, model_id, page_number, ?, payload from snapshot_models",
            [crawl_id, fetched_at],
        )
    except duckdb.Error as exc:  # the transaction is aborted: the caller rolls back and closes
        if failure:
            raise failure[0] from exc
        raise
    con.unregister("snapshot_models")
    if failure:  # raised while DuckDB was not looking (after its last batch)
        raise failure[0]
    return pages


# -- Prefect ---------------------------------------------------------------------------------------


def _retry_download(task, task_run, state) -> bool:
    """Retry network trouble only: not a refusal (4xx), a bad option or a repo without data files."""
    try:
        state.result()
    except (ConfigurationError, HubRequestError, CorpusFormatError):
        return False
    except Exception:
        return True
    return True


@task(name="download-snapshot", retries=3, **{**NETWORK_TASK_OPTIONS, "retry_condition_fn": _retry_download})
def download_snapshot_task(
    repo_id: str, revision: str | None, endpoint: str | None, cache_dir: str | None
) -> SnapshotSource:
    """Download the snapshot's data files (the token comes from ``HF_TOKEN``, never a parameter)."""
    return download_snapshot(repo_id, revision=revision, endpoint=endpoint, cache_dir=cache_dir)


# One local transaction over files already on disk: a re-run would read the same bytes and fail the
# same way, so it is not retried.
@task(name="land-snapshot", retries=0, cache_policy=NETWORK_TASK_OPTIONS["cache_policy"])
def land_snapshot_task(source: SnapshotSource, raw_db: Path, show_progress: bool) -> SnapshotSummary:
    """Land the snapshot's rows into the raw landing as one crawl."""
    return import_snapshot(source, raw_db, show_progress=show_progress)


@flow(name="import-snapshot", log_prints=True)
def import_snapshot_flow(
    source_path: str | None = None,
    repo_id: str = SNAPSHOT_REPO,
    revision: str | None = None,
    endpoint: str | None = None,
    data_dir: str | None = None,
    cache_dir: str | None = None,
    show_progress: bool | None = None,
) -> dict:
    """Import the paper's published snapshot (``modelbiome/ai_ecosystem_withmodelcards``) into the raw landing.

    Downloads the dataset's Parquet (else CSV) files with ``huggingface_hub`` from ``endpoint``
    (default ``HF_ENDPOINT`` or huggingface.co; token from ``HF_TOKEN``), or reads them from
    ``source_path`` (a file or folder already downloaded), and lands every row as one succeeded crawl
    of mode ``snapshot``; ``hubgenome build`` then builds the paper's warehouse.
    """
    if source_path is not None and revision is not None:
        msg = "--revision applies to a download; a local --from path has no revision."
        raise ConfigurationError(msg)
    if source_path is not None:
        source = local_source(source_path)
    else:
        source = download_snapshot_task(repo_id, revision, endpoint, cache_dir)
    show = progress_wanted() if show_progress is None else show_progress
    summary = land_snapshot_task(source, paths(data_dir).raw_db, show)
    print(
        f"Snapshot {summary.crawl_id}: {summary.models:,} models and {summary.cards:,} cards from "
        f"{len(summary.files)} file(s) of {summary.endpoint} in {summary.seconds:.1f} s"
        + (f"; {summary.rows_without_id:,} rows without model_id skipped" if summary.rows_without_id else "")
        + (f"; {summary.tags_unparsed:,} unparseable tag lists left out" if summary.tags_unparsed else "")
    )
    return summary.as_dict()


__all__ = [
    "SNAPSHOT_MODE",
    "SNAPSHOT_REPO",
    "SnapshotSource",
    "SnapshotSummary",
    "card_data",
    "download_snapshot",
    "import_snapshot",
    "import_snapshot_flow",
    "local_source",
    "parse_tags",
    "pick_data_files",
]
