"""The raw landing: append-only DuckDB tables holding exactly what the Hub answered, crawl by crawl.

Why a separate database: the landing is the one place the crawler writes, the warehouse build
attaches it read-only, and nothing downstream ever writes back. Rows are never updated or deleted
except the ``crawl_runs`` bookkeeping row of a crawl while it is running, so the history of every
crawl stays queryable. The warehouse build relies on it: the raw tables being append-only, a row's
DuckDB ``rowid`` is its append position, and an incremental build processes only the rows appended
since the previous build (:mod:`hubgenome.flows.build_state`). A landing whose rows were deleted,
rewritten or reordered needs ``hubgenome build --full-refresh``.

Tables (the contract the dbt sources rely on):

``crawl_runs``   one row per crawl: mode, endpoint, state, watermark and the checkpoint
                 ``next_url`` (saved in the same transaction as the page it follows), and the Hub's
                 own clock (``Date``) when it answered the crawl's first page.
``crawl_pages``  one row per listing page landed (the checkpoint log).
``raw_models``   one row per model object per crawl: the verbatim JSON the listing returned.
``raw_cards``    one row per README fetch: status, HTTP status, text and the model sha it belongs to.
``raw_model_counters``  one row per model per counters sweep (mode ``counters``): the four counters only.
``raw_id_sweeps``       one row per model per id sweep (mode ``ids``): the id, the Hub's object id, and
                        what tells a stale landing apart (sha, lastModified, gated, disabled).
                        Reconciliation runs (mode ``reconcile``) land what a sweep found missing or
                        stale in ``raw_models`` like any crawl.
``reconcile_gone``      one row per model an id sweep listed that was gone (404) when reconciliation
                        asked for it: deleted or made private in between, not missing.
``pipeline_runs``       one row per nightly pipeline run: its stages, counts and outcome (a bookkeeping
                        row, rewritten while the run goes on, like ``crawl_runs``).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pyarrow as pa

from hubgenome.core.errors import LandingLockedError

SCHEMA_VERSION = 2

_DDL = """
create table if not exists landing_meta (
    key varchar primary key,
    value varchar
);
create table if not exists crawl_runs (
    crawl_id varchar primary key,
    mode varchar not null,
    endpoint varchar not null,
    sort_by varchar,
    expand varchar[],
    started_at timestamptz not null,
    finished_at timestamptz,
    state varchar not null,
    stop_before timestamptz,
    watermark timestamptz,
    next_url varchar,
    pages_landed integer not null default 0,
    models_landed bigint not null default 0,
    error varchar,
    hub_started_at timestamptz
);
create table if not exists crawl_pages (
    crawl_id varchar not null,
    page_number integer not null,
    url varchar not null,
    next_url varchar,
    model_count integer not null,
    fetched_at timestamptz not null
);
create table if not exists raw_models (
    crawl_id varchar not null,
    model_id varchar not null,
    page_number integer not null,
    fetched_at timestamptz not null,
    payload json not null
);
create table if not exists raw_cards (
    crawl_id varchar not null,
    model_id varchar not null,
    fetched_at timestamptz not null,
    model_sha varchar,
    status varchar not null,
    http_status integer,
    card_text varchar,
    card_sha256 varchar,
    error varchar
);
create table if not exists raw_model_counters (
    crawl_id varchar not null,
    model_id varchar not null,
    model_object_id varchar,
    page_number integer not null,
    fetched_at timestamptz not null,
    downloads bigint,
    downloads_all_time bigint,
    likes bigint,
    trending_score double
);
create table if not exists raw_id_sweeps (
    crawl_id varchar not null,
    model_id varchar not null,
    model_object_id varchar,
    page_number integer not null,
    fetched_at timestamptz not null,
    model_sha varchar,
    last_modified_at timestamptz,
    gated varchar,
    is_disabled boolean
);
create table if not exists reconcile_gone (
    crawl_id varchar not null,
    model_id varchar not null,
    fetched_at timestamptz not null
);
create table if not exists safety_imports (
    import_id varchar primary key,
    source_file varchar not null,
    file_sha256 varchar not null,
    rows_landed integer not null,
    imported_at timestamptz not null
);
create table if not exists user_safety_evaluations (
    import_id varchar not null,
    row_number integer not null,
    model_id varchar not null,
    method varchar not null,
    attack_or_benchmark varchar not null,
    metric varchar not null,
    value double not null,
    unit varchar,
    evaluated_on date,
    source varchar not null
);
create table if not exists pipeline_runs (
    pipeline_run_id varchar primary key,
    endpoint varchar not null,
    started_at timestamptz not null,
    finished_at timestamptz,
    state varchar not null,
    failed_stage varchar,
    error varchar,
    crawl_id varchar,
    crawl_mode varchar,
    crawl_resumed boolean,
    counters_crawl_id varchar,
    id_sweep_crawl_id varchar,
    models_listed bigint,
    models_new bigint,
    models_changed bigint,
    models_deleted bigint,
    counters_landed bigint,
    ids_landed bigint,
    cards_ok integer,
    cards_missing integer,
    cards_gated integer,
    cards_error integer,
    dbt_models_built integer,
    dbt_tests_passed integer,
    dbt_tests_failed integer,
    requests bigint,
    retries bigint,
    throttled_429 bigint,
    rate_limit_wait_seconds double,
    pacing_wait_seconds double,
    stages json,
    models_reconciled bigint,
    models_skipped_private bigint,
    cards_backlog_fetched integer,
    cards_backlog_remaining bigint,
    cards_backlog_sample varchar[],
    audit_missing bigint,
    audit_stale bigint,
    audit_extra bigint,
    audit_private bigint
);
"""

#: Columns added after a table first shipped: ``connect`` adds them to an older landing (nullable, so
#: rows landed before read as unknown).
_ADDED_COLUMNS: dict[str, tuple[tuple[str, str], ...]] = {
    "crawl_runs": (("hub_started_at", "timestamptz"),),
    "raw_id_sweeps": (
        ("model_sha", "varchar"),
        ("last_modified_at", "timestamptz"),
        ("gated", "varchar"),
        ("is_disabled", "boolean"),
    ),
    "pipeline_runs": (
        ("models_reconciled", "bigint"),
        ("models_skipped_private", "bigint"),
        ("cards_backlog_fetched", "integer"),
        ("cards_backlog_remaining", "bigint"),
        ("cards_backlog_sample", "varchar[]"),
        ("audit_missing", "bigint"),
        ("audit_stale", "bigint"),
        ("audit_extra", "bigint"),
        ("audit_private", "bigint"),
    ),
}

CARD_STATUSES = ("ok", "missing", "gated", "error")

#: Every table of the landing, in the order of the DDL.
TABLES: tuple[str, ...] = tuple(re.findall(r"create table if not exists (\w+)", _DDL))


@dataclass(frozen=True)
class CrawlRun:
    """The bookkeeping of one crawl, as stored in ``crawl_runs``."""

    crawl_id: str
    mode: str
    endpoint: str
    state: str
    started_at: dt.datetime
    next_url: str | None
    stop_before: dt.datetime | None
    pages_landed: int
    models_landed: int


@dataclass(frozen=True)
class CardFetch:
    """The outcome of one README fetch."""

    model_id: str
    model_sha: str | None
    status: str
    http_status: int | None
    card_text: str | None
    error: str | None = None


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def connect(path: Path, *, read_only: bool = False) -> duckdb.DuckDBPyConnection:
    """Open the landing database, creating its tables when opened for writing.

    Raises :class:`LandingLockedError` with what to do when another process holds it.
    """
    if read_only and not path.exists():
        msg = f"No raw landing at {path}: run `hubgenome crawl` (or `hubgenome demo`) first."
        raise FileNotFoundError(msg)
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        con = duckdb.connect(str(path), read_only=read_only)
    except duckdb.IOException as exc:
        if "lock" in str(exc).lower():
            msg = (
                f"The raw landing {path} is open in another process (a crawl still running?). "
                "Wait for it to finish, or stop it, then try again."
            )
            raise LandingLockedError(msg) from exc
        raise
    if not read_only:
        con.execute(_DDL)
        for table, columns in _ADDED_COLUMNS.items():
            for name, kind in columns:
                con.execute(f"alter table {table} add column if not exists {name} {kind}")
        con.execute("insert or replace into landing_meta values ('schema_version', ?)", [str(SCHEMA_VERSION)])
    return con


def ensure_tables(path: Path) -> list[str]:
    """Create the tables an older landing lacks (empty); returns their names.

    A landing written before a table existed (``raw_model_counters``, ``raw_id_sweeps`` and
    ``pipeline_runs`` came with the nightly operations) has no such source for dbt. When every table
    is there, as a table or a view (a landing of views over Parquet), the file is only opened
    read-only, so a read-only landing builds too. Raises :class:`LandingLockedError` when another
    process holds the file.
    """
    con = connect(path, read_only=True)
    try:
        present = {
            name
            for (name,) in con.execute(
                "select table_name from duckdb_tables() union all select view_name from duckdb_views()"
            ).fetchall()
        }
        base_tables = {name for (name,) in con.execute("select table_name from duckdb_tables()").fetchall()}
        columns = set(con.execute("select table_name, column_name from duckdb_columns()").fetchall())
    finally:
        con.close()
    missing = [table for table in TABLES if table not in present]
    # Columns are added to tables only: a view (a landing over Parquet) shows what its files hold.
    lacks_columns = any(
        (table, name) not in columns
        for table, added in _ADDED_COLUMNS.items()
        if table in base_tables
        for name, _ in added
    )
    if missing or lacks_columns:
        connect(path).close()
    return missing


def new_crawl_id(mode: str, started_at: dt.datetime) -> str:
    return f"{started_at:%Y%m%dT%H%M%SZ}-{mode}-{uuid.uuid4().hex[:6]}"


def start_run(
    con: duckdb.DuckDBPyConnection,
    *,
    mode: str,
    endpoint: str,
    sort_by: str | None,
    expand: Sequence[str],
    first_url: str,
    stop_before: dt.datetime | None = None,
) -> CrawlRun:
    """Register a new crawl whose checkpoint points at its first page."""
    started_at = utcnow()
    crawl_id = new_crawl_id(mode, started_at)
    con.execute(
        """
        insert into crawl_runs (crawl_id, mode, endpoint, sort_by, expand, started_at, state,
                                stop_before, next_url)
        values (?, ?, ?, ?, ?, ?, 'running', ?, ?)
        """,
        [crawl_id, mode, endpoint, sort_by, list(expand), started_at, stop_before, first_url],
    )
    return get_run(con, crawl_id)


def get_run(con: duckdb.DuckDBPyConnection, crawl_id: str) -> CrawlRun:
    row = con.execute(
        """
        select crawl_id, mode, endpoint, state, started_at, next_url, stop_before,
               pages_landed, models_landed
        from crawl_runs where crawl_id = ?
        """,
        [crawl_id],
    ).fetchone()
    if row is None:
        msg = f"No crawl {crawl_id!r} in the landing."
        raise KeyError(msg)
    return CrawlRun(*row)


def find_resumable_run(con: duckdb.DuckDBPyConnection, *, mode: str, endpoint: str) -> CrawlRun | None:
    """The newest unfinished crawl of this mode and endpoint, if no later crawl of it succeeded.

    Unfinished means its listing or its cards were interrupted: a crawl whose listing is complete
    (``next_url`` is null) but whose cards were not all fetched is resumed at the cards.
    """
    row = con.execute(
        """
        select crawl_id from crawl_runs
        where mode = ? and endpoint = ? and state in ('running', 'failed')
          and not exists (
              select 1 from crawl_runs later
              where later.mode = crawl_runs.mode and later.endpoint = crawl_runs.endpoint
                and later.state = 'succeeded' and later.started_at > crawl_runs.started_at
          )
        order by started_at desc
        limit 1
        """,
        [mode, endpoint],
    ).fetchone()
    return get_run(con, row[0]) if row else None


def mark_running(con: duckdb.DuckDBPyConnection, crawl_id: str) -> None:
    con.execute("update crawl_runs set state = 'running', error = null where crawl_id = ?", [crawl_id])


_PAGE_SCHEMA = pa.schema([("model_id", pa.string()), ("payload", pa.string())])


def land_page(
    con: duckdb.DuckDBPyConnection,
    *,
    crawl_id: str,
    page_number: int,
    url: str,
    next_url: str | None,
    model_ids: Sequence[str],
    payloads: Sequence[str],
    fetched_at: dt.datetime | None = None,
    hub_date: dt.datetime | None = None,
) -> None:
    """Append one listing page and move the crawl's checkpoint past it, in a single transaction.

    A crash before the commit leaves neither the rows nor the new checkpoint; after it, both.
    ``hub_date`` (the Hub's ``Date`` of the page) is kept as the crawl's ``hub_started_at`` when it is
    the crawl's first page: see :func:`finish_run`.
    """
    page_rows = pa.Table.from_arrays(
        [pa.array(model_ids, pa.string()), pa.array(payloads, pa.string())], schema=_PAGE_SCHEMA
    )
    _land_page_rows(
        con,
        "raw_models",
        page_rows,
        crawl_id=crawl_id,
        page_number=page_number,
        url=url,
        next_url=next_url,
        fetched_at=fetched_at or utcnow(),
        hub_date=hub_date,
    )


def _land_page_rows(
    con: duckdb.DuckDBPyConnection,
    table: str,
    page_rows: pa.Table,
    *,
    crawl_id: str,
    page_number: int,
    url: str,
    next_url: str | None,
    fetched_at: dt.datetime,
    hub_date: dt.datetime | None = None,
) -> None:
    """Append ``page_rows`` (the landing ``table``'s columns after crawl id, page number and fetch
    time) and move the crawl's checkpoint past the page, in a single transaction.

    A crash before the commit leaves neither the rows nor the new checkpoint; after it, both.
    """
    count = page_rows.num_rows
    columns = ", ".join(page_rows.column_names)
    con.execute("begin transaction")
    try:
        con.register("page_rows", page_rows)
        con.execute(
            f"insert into {table} (crawl_id, page_number, fetched_at, {columns}) "
            f"select ?, ?, ?, {columns} from page_rows",
            [crawl_id, page_number, fetched_at],
        )
        con.unregister("page_rows")
        con.execute(
            "insert into crawl_pages values (?, ?, ?, ?, ?, ?)",
            [crawl_id, page_number, url, next_url, count, fetched_at],
        )
        con.execute(
            """
            update crawl_runs
            set next_url = ?, pages_landed = pages_landed + 1, models_landed = models_landed + ?,
                hub_started_at = case when pages_landed = 0 then coalesce(hub_started_at, ?)
                                      else hub_started_at end
            where crawl_id = ?
            """,
            [next_url, count, hub_date, crawl_id],
        )
        con.execute("commit")
    except BaseException:
        con.execute("rollback")
        raise


def save_checkpoint(con: duckdb.DuckDBPyConnection, crawl_id: str, next_url: str) -> None:
    """Point a crawl's checkpoint at another URL for the same page (a smaller ``limit``, same cursor)."""
    con.execute("update crawl_runs set next_url = ? where crawl_id = ?", [next_url, crawl_id])


def finish_run(con: duckdb.DuckDBPyConnection, crawl_id: str) -> None:
    """Mark a crawl succeeded and store its watermark, where the next incremental crawl starts.

    The watermark is the *earlier* of the newest modification time the crawl saw and the Hub's clock
    when it answered the crawl's first page (``hub_started_at``, else our own start time). The newest
    time seen alone is too new: a crawl that runs for hours, or is resumed the next night, lands
    models modified near its end while models created after its first page (and not modified
    since) sit ahead of where it started reading; the next incremental crawl would stop before
    them and no crawl would ever land them. Everything modified after the first page is newer than
    this watermark, so the next crawl's listing reaches it.
    """
    con.execute(
        """
        update crawl_runs
        set state = 'succeeded', finished_at = ?, next_url = null, error = null,
            watermark = least(
                (
                    select max(coalesce(try_cast(payload ->> 'lastModified' as timestamptz),
                                        try_cast(payload ->> 'createdAt' as timestamptz)))
                    from raw_models where crawl_id = ?
                ),
                coalesce(hub_started_at, started_at)
            )
        where crawl_id = ?
        """,
        [utcnow(), crawl_id, crawl_id],
    )


def fail_run(con: duckdb.DuckDBPyConnection, crawl_id: str, error: str) -> None:
    """Mark a crawl failed, keeping its checkpoint so the next run resumes it."""
    con.execute(
        "update crawl_runs set state = 'failed', finished_at = ?, error = ? where crawl_id = ?",
        [utcnow(), error[:2000], crawl_id],
    )


def last_watermark(con: duckdb.DuckDBPyConnection, endpoint: str) -> dt.datetime | None:
    """The watermark of the newest successful listing crawl (full or incremental) of this endpoint."""
    row = con.execute(
        """
        select watermark from crawl_runs
        where endpoint = ? and state = 'succeeded' and mode in ('full', 'incremental')
          and watermark is not null
        order by started_at desc limit 1
        """,
        [endpoint],
    ).fetchone()
    return row[0] if row else None


#: When a card fetch settles the card of its sha: an answer (``ok``, ``missing``, ``gated``), or an
#: error that asking again cannot cure (a 4xx other than 429: a disabled repo, a sha no longer
#: served; an undecodable README, recorded with HTTP 200). 5xx, 429 and dropped connections are
#: transient: the card stays owed.
SETTLED_CARD_SQL = (
    "(status in ('ok', 'missing', 'gated') "
    "or (status = 'error' and (http_status = 200 or (http_status between 400 and 499 and http_status <> 429))))"
)


def models_needing_cards(con: duckdb.DuckDBPyConnection, crawl_id: str) -> list[tuple[str, str | None]]:
    """(model id, sha) of this crawl's models whose card was never settled for their current sha.

    A card counts as settled once a fetch for that sha ended ``ok``, ``missing`` or ``gated``, or
    failed in a way asking again cannot cure (:data:`SETTLED_CARD_SQL`); transient errors are tried
    again by the card backlog.
    """
    rows = con.execute(
        f"""
        with crawled as (
            select model_id, any_value(payload ->> 'sha') as model_sha
            from raw_models where crawl_id = ?
            group by model_id
        ),
        settled as (
            select distinct model_id, model_sha from raw_cards
            where {SETTLED_CARD_SQL}
        )
        select crawled.model_id, crawled.model_sha
        from crawled
        left join settled
          on settled.model_id = crawled.model_id
         and settled.model_sha is not distinct from crawled.model_sha
        where settled.model_id is null
        order by crawled.model_id
        """,
        [crawl_id],
    ).fetchall()
    return [(model_id, sha) for model_id, sha in rows]


def card_backlog(
    con: duckdb.DuckDBPyConnection,
    *,
    limit: int | None = None,
    include_private: bool = False,
    tried_in_crawl_id: str | None = None,
    endpoint: str | None = None,
) -> tuple[list[tuple[str, str | None]], int]:
    """Models of the whole landing whose card is unsettled for their latest sha, oldest first; and how many.

    Unsettled: never fetched for that sha, or only ``error`` outcomes so far (a resolver outage
    longer than the crawl's retries, a model landed by reconciliation). Only a model's *latest*
    landed sighting counts, so a model changed since is owed the card of its new sha. Oldest first:
    by the first failed fetch for that sha, else by when that sha was landed. Disabled models are
    left out (the Hub refuses their files until they are enabled again, which reconciliation
    notices), private ones unless ``include_private``, and with ``endpoint`` those whose latest
    sighting came from another source (an imported snapshot, say); so are cards already tried by
    the crawl ``tried_in_crawl_id``
    (tonight's own failures wait for the next night instead of being asked twice in a row).
    Returns (the first ``limit`` entries, the size of the whole backlog, those tried tonight included).
    """
    con.execute(
        f"""
        create or replace temporary table owed_cards as
        with latest_rows as (
            select raw_models.model_id,
                   arg_max(raw_models.rowid, (crawl_runs.started_at, raw_models.rowid)) as row_id,
                   arg_max(crawl_runs.endpoint, (crawl_runs.started_at, raw_models.rowid)) as endpoint
            from raw_models
            inner join crawl_runs on raw_models.crawl_id = crawl_runs.crawl_id
            group by 1
        ),
        sightings as (
            select latest_rows.model_id, latest_rows.endpoint,
                   rows.payload ->> 'sha' as model_sha,
                   coalesce(rows.payload ->> 'private', 'false') as private_flag,
                   coalesce(rows.payload ->> 'disabled', 'false') = 'true' as is_disabled,
                   rows.fetched_at as landed_at
            from latest_rows
            inner join (select rowid as row_id, payload, fetched_at from raw_models) as rows
                on latest_rows.row_id = rows.row_id
        ),
        fetches as (
            select model_id, model_sha,
                   bool_or({SETTLED_CARD_SQL}) as is_settled,
                   bool_or(crawl_id = ?) as is_tried_tonight,
                   min(fetched_at) as first_fetched_at
            from raw_cards
            group by 1, 2
        ),
        owed as (
            select sightings.model_id, sightings.model_sha,
                   coalesce(fetches.is_tried_tonight, false) as is_tried_tonight,
                   coalesce(fetches.first_fetched_at, sightings.landed_at) as owed_since
            from sightings
            left join fetches
              on fetches.model_id = sightings.model_id
             and fetches.model_sha is not distinct from sightings.model_sha
            where not coalesce(fetches.is_settled, false)
              and not sightings.is_disabled
              and (? or sightings.private_flag <> 'true')
              and (? is null or sightings.endpoint = ?)
        )
        select model_id, model_sha, is_tried_tonight, owed_since
        from owed
        """,
        [tried_in_crawl_id or "", include_private, endpoint, endpoint],
    )
    try:
        total = con.execute("select count(*) from owed_cards").fetchone()[0]
        due = con.execute(
            "select model_id, model_sha from owed_cards where not is_tried_tonight "
            "order by owed_since, model_id limit ?",
            [limit if limit is not None else 2**62],
        ).fetchall()
    finally:
        con.execute("drop table if exists owed_cards")
    return [(model_id, sha) for model_id, sha in due], int(total)


def models_without_ok_card(con: duckdb.DuckDBPyConnection, crawl_id: str) -> list[tuple[str, str | None]]:
    """(model id, sha) of this crawl's models with no ``ok`` card for their sha (``gated``/``missing`` included).

    For reconciliation: a model whose gating was lifted, or that was enabled again, now serves the
    card it refused before, though that card counted as settled.
    """
    rows = con.execute(
        """
        with crawled as (
            select model_id, any_value(payload ->> 'sha') as model_sha
            from raw_models where crawl_id = ? and coalesce(payload ->> 'disabled', 'false') <> 'true'
            group by model_id
        ),
        fetched_ok as (
            select distinct model_id, model_sha from raw_cards where status = 'ok'
        )
        select crawled.model_id, crawled.model_sha
        from crawled
        anti join fetched_ok
          on fetched_ok.model_id = crawled.model_id
         and fetched_ok.model_sha is not distinct from crawled.model_sha
        order by crawled.model_id
        """,
        [crawl_id],
    ).fetchall()
    return [(model_id, sha) for model_id, sha in rows]


_RAW_CARDS_SCHEMA = pa.schema(
    [
        ("crawl_id", pa.string()),
        ("model_id", pa.string()),
        ("fetched_at", pa.timestamp("us", tz="UTC")),
        ("model_sha", pa.string()),
        ("status", pa.string()),
        ("http_status", pa.int32()),
        ("card_text", pa.string()),
        ("card_sha256", pa.string()),
        ("error", pa.string()),
    ]
)


def land_cards(con: duckdb.DuckDBPyConnection, crawl_id: str, fetches: Iterable[CardFetch]) -> int:
    """Append a batch of card fetches; returns how many rows were written."""
    fetched_at = utcnow()
    columns: dict[str, list] = {name: [] for name in _RAW_CARDS_SCHEMA.names}
    for fetch in fetches:
        if fetch.status not in CARD_STATUSES:
            msg = f"Unknown card status {fetch.status!r}; expected one of {CARD_STATUSES}."
            raise ValueError(msg)
        columns["crawl_id"].append(crawl_id)
        columns["model_id"].append(fetch.model_id)
        columns["fetched_at"].append(fetched_at)
        columns["model_sha"].append(fetch.model_sha)
        columns["status"].append(fetch.status)
        columns["http_status"].append(fetch.http_status)
        columns["card_text"].append(fetch.card_text)
        columns["card_sha256"].append(
            hashlib.sha256(fetch.card_text.encode()).hexdigest() if fetch.card_text is not None else None
        )
        columns["error"].append(fetch.error)
    if not columns["model_id"]:
        return 0
    batch = pa.Table.from_pydict(columns, schema=_RAW_CARDS_SCHEMA)
    con.register("card_rows", batch)
    try:
        con.execute("insert into raw_cards select * from card_rows")
    finally:
        con.unregister("card_rows")
    return batch.num_rows


# -- sweeps and pipeline runs (nightly operations) -------------------------------------------------

SWEEP_TABLES: dict[str, str] = {"counters": "raw_model_counters", "ids": "raw_id_sweeps"}
"""The landing table of each sweep mode."""


def land_sweep_page(
    con: duckdb.DuckDBPyConnection,
    *,
    crawl_id: str,
    mode: str,
    page_number: int,
    url: str,
    next_url: str | None,
    rows: pa.Table,
    fetched_at: dt.datetime | None = None,
) -> None:
    """Append one page of a counters or id sweep and move its checkpoint, in a single transaction.

    ``rows`` holds the sweep table's columns after ``crawl_id``, ``page_number`` and ``fetched_at``
    (``model_id``, ``model_object_id`` and, for counters, the four counters).
    """
    table = SWEEP_TABLES.get(mode)
    if table is None:
        msg = f"Unknown sweep mode {mode!r}; expected one of {sorted(SWEEP_TABLES)}."
        raise ValueError(msg)
    _land_page_rows(
        con,
        table,
        rows,
        crawl_id=crawl_id,
        page_number=page_number,
        url=url,
        next_url=next_url,
        fetched_at=fetched_at or utcnow(),
    )


def last_succeeded_at(con: duckdb.DuckDBPyConnection, *, mode: str, endpoint: str) -> dt.datetime | None:
    """When the newest succeeded crawl of this mode and endpoint started (None if there was none)."""
    row = con.execute(
        "select max(started_at) from crawl_runs where mode = ? and endpoint = ? and state = 'succeeded'",
        [mode, endpoint],
    ).fetchone()
    return row[0] if row else None


def model_changes(con: duckdb.DuckDBPyConnection, crawl_id: str) -> tuple[int, int]:
    """(new, changed) models of a listing crawl against every earlier crawl of the landing.

    New: never listed before. Changed: listed before with another ``sha`` than now.
    """
    row = con.execute(
        """
        with this_crawl as (
            select crawl_id, started_at from crawl_runs where crawl_id = ?
        ),
        now_listed as (
            select model_id, arg_max(payload ->> 'sha', rowid) as model_sha
            from raw_models where crawl_id = ? group by 1
        ),
        before as (
            select raw_models.model_id, arg_max(raw_models.payload ->> 'sha', crawl_runs.started_at) as model_sha
            from raw_models
            inner join crawl_runs on raw_models.crawl_id = crawl_runs.crawl_id
            where crawl_runs.started_at < (select started_at from this_crawl)
              and raw_models.model_id in (select model_id from now_listed)
            group by 1
        )
        select
            count(*) filter (where before.model_id is null),
            count(*) filter (where before.model_id is not null
                             and before.model_sha is distinct from now_listed.model_sha)
        from now_listed left join before on now_listed.model_id = before.model_id
        """,
        [crawl_id, crawl_id],
    ).fetchone()
    return int(row[0]), int(row[1])


def newly_disappeared(con: duckdb.DuckDBPyConnection, sweep_crawl_id: str) -> list[str]:
    """Ids present before a completed id sweep and absent from it, not already absent from an earlier one.

    "Present before": listed by the previous succeeded id sweep of the endpoint, or sighted by any
    listing crawl or counters sweep that started after it (every sighting, when there was none).
    Nothing is deleted: the dbt mart ``dim_model_lifecycle`` dates these from the same tables.
    """
    run = con.execute("select endpoint, started_at from crawl_runs where crawl_id = ?", [sweep_crawl_id]).fetchone()
    if run is None:
        msg = f"No crawl {sweep_crawl_id!r} in the landing."
        raise KeyError(msg)
    endpoint, started_at = run
    previous = con.execute(
        """
        select crawl_id, started_at from crawl_runs
        where mode = 'ids' and state = 'succeeded' and endpoint = ? and started_at < ?
        order by started_at desc limit 1
        """,
        [endpoint, started_at],
    ).fetchone()
    since = previous[1] if previous else dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
    rows = con.execute(
        """
        with later_crawls as (
            select crawl_id from crawl_runs
            where endpoint = ? and started_at > ? and started_at < ? and crawl_id <> ?
        ),
        present_before as (
            select model_id from raw_id_sweeps where crawl_id = ?
            union
            select model_id from raw_models where crawl_id in (select crawl_id from later_crawls)
            union
            select model_id from raw_model_counters where crawl_id in (select crawl_id from later_crawls)
        )
        select model_id from present_before
        where model_id not in (select model_id from raw_id_sweeps where crawl_id = ?)
        order by model_id
        """,
        [endpoint, since, started_at, sweep_crawl_id, previous[0] if previous else "", sweep_crawl_id],
    ).fetchall()
    return [model_id for (model_id,) in rows]


@dataclass(frozen=True)
class ReconcileCandidate:
    """A model an id sweep listed that the landing lacks or holds in an older state."""

    model_id: str
    reason: str  # new (never landed), renamed (its object id was landed under another id) or stale
    previous_model_id: str | None = None


def reconcile_candidates(con: duckdb.DuckDBPyConnection, sweep_crawl_id: str) -> list[ReconcileCandidate]:
    """What a completed id sweep saw that the landing does not hold as the sweep saw it.

    * ``new``: an id never landed by a listing crawl (a private repo made public keeps its old
      ``createdAt``/``lastModified``, so no incremental crawl sorted by ``lastModified`` meets it);
    * ``renamed``: a new id whose Hub object id (``_id``) was landed under another id (renames and
      transfers keep ``_id`` and ``lastModified``);
    * ``stale``: landed, but the sweep saw another ``sha``, ``gated`` or ``disabled`` than the model's
      latest landed object, and that object is not newer than the sweep's (gating and disabling do
      not move ``lastModified`` either).

    Ordered by id. Sweep rows that carry none of the compared fields (an older sweep) only ever
    yield ``new`` and ``renamed``.
    """
    rows = con.execute(
        """
        with swept as (
            select model_id, any_value(model_object_id) as model_object_id, any_value(model_sha) as model_sha,
                   any_value(last_modified_at) as last_modified_at, any_value(gated) as gated,
                   any_value(is_disabled) as is_disabled
            from raw_id_sweeps where crawl_id = ? group by 1
        ),
        latest_rows as (
            select raw_models.model_id, arg_max(raw_models.rowid, (crawl_runs.started_at, raw_models.rowid)) as row_id
            from raw_models
            inner join crawl_runs on raw_models.crawl_id = crawl_runs.crawl_id
            where raw_models.model_id in (select model_id from swept)
            group by 1
        ),
        landed as (
            select latest_rows.model_id, rows.payload
            from latest_rows
            inner join (select rowid as row_id, payload from raw_models) as rows on latest_rows.row_id = rows.row_id
        ),
        landed_object_ids as (
            select payload ->> '_id' as model_object_id, any_value(model_id) as model_id
            from raw_models
            where payload ->> '_id' in (
                select model_object_id from swept where model_id not in (select model_id from landed)
            )
            group by 1
        )
        select swept.model_id,
               case when landed.model_id is not null then 'stale'
                    when landed_object_ids.model_id is not null then 'renamed'
                    else 'new' end as reason,
               landed_object_ids.model_id as previous_model_id
        from swept
        left join landed on swept.model_id = landed.model_id
        left join landed_object_ids on swept.model_object_id = landed_object_ids.model_object_id
        where landed.model_id is null
           or (
               coalesce(try_cast(landed.payload ->> 'lastModified' as timestamptz), '-infinity'::timestamptz)
                   <= coalesce(swept.last_modified_at, 'infinity'::timestamptz)
               and (
                   (swept.model_sha is not null and swept.model_sha is distinct from landed.payload ->> 'sha')
                   or (swept.gated is not null and swept.gated is distinct from landed.payload ->> 'gated')
                   or (swept.is_disabled is not null
                       and swept.is_disabled is distinct from try_cast(landed.payload ->> 'disabled' as boolean))
               )
           )
        order by swept.model_id
        """,
        [sweep_crawl_id],
    ).fetchall()
    return [ReconcileCandidate(model_id, reason, previous) for model_id, reason, previous in rows]


def record_gone(con: duckdb.DuckDBPyConnection, crawl_id: str, model_ids: Sequence[str]) -> None:
    """Note models a reconciliation found gone (404) although its id sweep had listed them."""
    if model_ids:
        fetched_at = utcnow()
        con.executemany("insert into reconcile_gone values (?, ?, ?)", [[crawl_id, m, fetched_at] for m in model_ids])


def last_succeeded_run(con: duckdb.DuckDBPyConnection, *, mode: str, endpoint: str) -> str | None:
    """The id of the newest succeeded crawl of this mode and endpoint, or None."""
    row = con.execute(
        """
        select crawl_id from crawl_runs where mode = ? and endpoint = ? and state = 'succeeded'
        order by started_at desc limit 1
        """,
        [mode, endpoint],
    ).fetchone()
    return row[0] if row else None


PIPELINE_RUN_COLUMNS: tuple[str, ...] = (
    "pipeline_run_id",
    "endpoint",
    "started_at",
    "finished_at",
    "state",
    "failed_stage",
    "error",
    "crawl_id",
    "crawl_mode",
    "crawl_resumed",
    "counters_crawl_id",
    "id_sweep_crawl_id",
    "models_listed",
    "models_new",
    "models_changed",
    "models_deleted",
    "counters_landed",
    "ids_landed",
    "cards_ok",
    "cards_missing",
    "cards_gated",
    "cards_error",
    "dbt_models_built",
    "dbt_tests_passed",
    "dbt_tests_failed",
    "requests",
    "retries",
    "throttled_429",
    "rate_limit_wait_seconds",
    "pacing_wait_seconds",
    "stages",
    "models_reconciled",
    "models_skipped_private",
    "cards_backlog_fetched",
    "cards_backlog_remaining",
    "cards_backlog_sample",
    "audit_missing",
    "audit_stale",
    "audit_extra",
    "audit_private",
)


def record_pipeline_run(con: duckdb.DuckDBPyConnection, row: dict) -> None:
    """Insert or rewrite the bookkeeping row of one pipeline run (keys: :data:`PIPELINE_RUN_COLUMNS`)."""
    unknown = set(row) - set(PIPELINE_RUN_COLUMNS)
    if unknown:
        msg = f"Unknown pipeline_runs columns {sorted(unknown)}."
        raise ValueError(msg)
    names = [name for name in PIPELINE_RUN_COLUMNS if name in row]
    placeholders = ", ".join("?" for _ in names)
    con.execute(
        f"insert or replace into pipeline_runs ({', '.join(names)}) values ({placeholders})",
        [row[name] for name in names],
    )
