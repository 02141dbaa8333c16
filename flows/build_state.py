"""Where a warehouse build starts from: the previous build's state, and which landing rows are new.

Why: rebuilding the warehouse from the whole landing every night re-reads every crawl and every
night's counters sweep, a cost that grows with each night the product runs. An **incremental**
build instead starts from a copy of the published warehouse and has dbt's incremental models
process only the landing rows appended since that warehouse was built.

How the rows are told apart: the landing's raw tables are append-only (:data:`RAW_TABLES`; rows are
never updated nor deleted), so DuckDB's ``rowid`` is a stable append position. Each build records,
per table, the highest ``rowid`` it saw (``through``) in the warehouse table ``main.hubgenome_builds``
(:data:`BUILDS_TABLE`); the next build reads the newest row and tells dbt, per table, the window
``after < rowid <= through``: it writes the windows into the build file's table
``main.hubgenome_landing_window`` (:data:`LANDING_WINDOW_TABLE`, one row per raw table), which the
dbt project's ``landing_window`` macro reads at run time, before dbt runs, and drops it once dbt
has succeeded. A table rather than ``--vars``: dbt re-parses the whole project whenever its
``--vars`` change, which they would every night.

When a build starts over from the landing (a **full refresh**) instead, and says why
(:func:`plan_build`): asked to (``--full-refresh``); no published warehouse; a warehouse without
build state (made by an older hubgenome); a warehouse whose dbt project differs from this
version's (:func:`project_fingerprint`); a landing that is not the one the warehouse was built
from (another path, or a table with fewer rows than recorded: replaced or rebuilt); or new landing
rows observed before rows the warehouse already holds (a crawl resumed across builds), which the
incremental models, processing observations in time order, cannot slot in.

Examples
--------
>>> plan = BuildPlan.full_refresh("asked for (--full-refresh)", {"raw_models": 9}, fingerprint="f")
>>> plan.summary()
'Full refresh: asked for (--full-refresh)'
>>> plan.landing_window()["raw_models"]
{'after': -1, 'through': 9}
>>> plan.dbt_args()
['--full-refresh']
"""

from __future__ import annotations

import datetime as dt
import hashlib
import importlib.metadata
import json
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import duckdb

from hubgenome.core.paths import dbt_project_dir

#: The landing's append-only tables whose new rows an incremental build processes, in window order.
RAW_TABLES: tuple[str, ...] = ("raw_models", "raw_model_counters", "raw_id_sweeps", "raw_cards")

#: The warehouse table (schema ``main``) with one row per published build; the newest row is the
#: state the next build starts from.
BUILDS_TABLE = "hubgenome_builds"
#: The build file's table (schema ``main``) telling dbt the landing window of each raw table while
#: it runs: ``table_name``, ``after``, ``through``. Dropped before the warehouse is published.
LANDING_WINDOW_TABLE = "hubgenome_landing_window"
#: The raw tables whose rows are observations of a crawl, ordered by the crawl's start.
OBSERVATION_TABLES: tuple[str, ...] = ("raw_models", "raw_model_counters", "raw_id_sweeps")

#: What the fingerprint covers: the dbt project files that decide what the warehouse holds.
FINGERPRINT_FOLDERS: tuple[str, ...] = ("models", "macros", "seeds")
FINGERPRINT_SUFFIXES = frozenset({".sql", ".yml", ".yaml", ".md", ".csv"})

BuildMode = Literal["full_refresh", "incremental"]

#: ``main.hubgenome_builds``: each column and its description (also written as DuckDB comments, so
#: the SQL console shows them).
BUILDS_COLUMNS: dict[str, tuple[str, str]] = {
    "build_id": ("varchar not null", "The build's id (the `<id>` of its `warehouse.duckdb.building-<id>` file)."),
    "built_at": ("timestamptz not null", "When the build's dbt run had succeeded (UTC)."),
    "build_mode": ("varchar not null", "`full_refresh` (rebuilt from the whole landing) or `incremental`."),
    "mode_reason": ("varchar not null", "Why this mode: the full refresh's reason, or the new landing rows."),
    "project_fingerprint": (
        "varchar not null",
        "sha256 (16 hex digits) of the dbt project's dbt_project.yml, models, macros and seeds.",
    ),
    "hubgenome_version": ("varchar not null", "The hubgenome version that built it."),
    "landing_window": (
        "varchar not null",
        'JSON text: per raw table, the rowid window dbt processed, {"raw_models": {"after": A, "through": T}, ...}; '
        "after = -1 on a full refresh.",
    ),
    "raw_db": ("varchar not null", "Path of the raw landing the build read."),
}
BUILDS_DESCRIPTION = (
    "One row per published warehouse build, appended by the build itself: full refresh or incremental, "
    "and which landing rows it processed. The newest row is where the next build starts from."
)


@dataclass(frozen=True)
class TableWindow:
    """The landing rows of one raw table a build processes: ``after < rowid <= through``."""

    after: int
    through: int

    @property
    def new_rows(self) -> int:
        return self.through - self.after

    def as_dict(self) -> dict[str, int]:
        return {"after": self.after, "through": self.through}


@dataclass(frozen=True)
class PreviousBuild:
    """The newest row of a published warehouse's ``hubgenome_builds``."""

    build_id: str
    project_fingerprint: str
    raw_db: str
    landing_window: dict[str, TableWindow]


@dataclass(frozen=True)
class BuildPlan:
    """How one build runs: its mode and why, and the landing window of each raw table."""

    mode: BuildMode
    reason: str
    windows: dict[str, TableWindow]
    fingerprint: str
    previous_build_id: str | None = None

    @classmethod
    def full_refresh(cls, reason: str, through: Mapping[str, int], *, fingerprint: str) -> BuildPlan:
        windows = {table: TableWindow(-1, through.get(table, -1)) for table in RAW_TABLES}
        return cls("full_refresh", reason, windows, fingerprint)

    @property
    def incremental(self) -> bool:
        return self.mode == "incremental"

    def landing_window(self) -> dict[str, dict[str, int]]:
        """``{"raw_models": {"after": A, "through": T}, ...}``: what dbt is told and the build records."""
        return {table: self.windows[table].as_dict() for table in RAW_TABLES}

    def dbt_args(self) -> list[str]:
        """The arguments added to ``dbt build``: ``--full-refresh`` on a full refresh, else none.

        The windows reach dbt through the build file (:func:`write_landing_window`), not ``--vars``.
        """
        return [] if self.incremental else ["--full-refresh"]

    def summary(self) -> str:
        """One line for the CLI and the logs: ``Incremental build (...)`` or ``Full refresh: <reason>``."""
        return f"Incremental build ({self.reason})" if self.incremental else f"Full refresh: {self.reason}"


def project_fingerprint(project_dir: Path | None = None) -> str:
    """sha256 (first 16 hex digits) of the dbt project's ``dbt_project.yml``, ``models/``, ``macros/``, ``seeds/``.

    Files are taken in sorted order of their relative paths, each as its path and its bytes; only
    the kinds of files the wheel ships (``.sql``, ``.yml``, ``.md``, ``.csv``) count, so an editor's
    swap file in a checkout does not force a full refresh, and a wheel and its checkout agree.
    """
    project_dir = project_dir or dbt_project_dir()
    files = [project_dir / "dbt_project.yml"]
    for folder in FINGERPRINT_FOLDERS:
        files.extend(
            path
            for path in (project_dir / folder).rglob("*")
            if path.is_file() and path.suffix in FINGERPRINT_SUFFIXES and "__pycache__" not in path.parts
        )
    digest = hashlib.sha256()
    for path in sorted(files, key=lambda p: p.relative_to(project_dir).as_posix()):
        relative = path.relative_to(project_dir).as_posix().encode()
        content = path.read_bytes()
        digest.update(len(relative).to_bytes(8, "big") + relative)
        digest.update(len(content).to_bytes(8, "big") + content)
    return digest.hexdigest()[:16]


def hubgenome_version() -> str:
    try:
        return importlib.metadata.version("hubgenome")
    except importlib.metadata.PackageNotFoundError:  # pragma: no cover - run from an unbuilt tree
        return "unknown"


def landing_through(raw_db: Path) -> dict[str, int]:
    """``max(rowid)`` of each raw table of the landing (-1 when empty or absent), read now.

    A landing of views over Parquet (docs/operations.md) exports the landing's ``rowid`` as a
    column of that name, which stands in for it here as it does in staging.
    """
    with duckdb.connect(str(raw_db), read_only=True) as con:
        present = {
            name
            for (name,) in con.execute(
                "select table_name from duckdb_tables() union all select view_name from duckdb_views()"
            ).fetchall()
        }
        return {
            table: int(con.execute(f"select coalesce(max(rowid), -1) from {table}").fetchone()[0])
            if table in present
            else -1
            for table in RAW_TABLES
        }


class _NoBuildState(Exception):
    """The published warehouse has no build state to start from (the message says why)."""


def read_previous_build(warehouse: Path) -> PreviousBuild:
    """The newest row of ``main.hubgenome_builds`` in the published ``warehouse``.

    Raises :class:`_NoBuildState` with the full refresh's reason when there is none.
    """
    try:
        with duckdb.connect(str(warehouse), read_only=True) as con:
            has_table = con.execute(
                "select count(*) from duckdb_tables() where schema_name = 'main' and table_name = ?", [BUILDS_TABLE]
            ).fetchone()[0]
            if not has_table:
                msg = "the warehouse was made by an older hubgenome without build state; rebuilding from the landing"
                raise _NoBuildState(msg)
            row = con.execute(
                f"select build_id, project_fingerprint, raw_db, landing_window from main.{BUILDS_TABLE} "
                "order by rowid desc limit 1"
            ).fetchone()
    except duckdb.Error as exc:
        msg = f"the published warehouse could not be read ({exc}); rebuilding from the landing"
        raise _NoBuildState(msg) from exc
    if row is None:
        msg = "the warehouse has no recorded build; rebuilding from the landing"
        raise _NoBuildState(msg)
    build_id, fingerprint, raw_db, window_json = row
    try:
        windows = {
            table: TableWindow(int(window["after"]), int(window["through"]))
            for table, window in json.loads(window_json).items()
        }
    except (TypeError, ValueError, KeyError) as exc:
        msg = f"the warehouse's build state is unreadable ({exc}); rebuilding from the landing"
        raise _NoBuildState(msg) from exc
    return PreviousBuild(build_id, fingerprint, raw_db, windows)


def _resumed_crawl(raw_db: Path, windows: Mapping[str, TableWindow]) -> str | None:
    """Why the new landing rows cannot be appended to the warehouse's history, or None when they can.

    The incremental models take a build's observations (rows of listing crawls and sweeps, dated by
    their crawl's start) as coming after every observation already processed. That fails when a new
    row belongs to a crawl that started before one whose rows the warehouse holds: a crawl
    interrupted, a build run, then the crawl resumed. It also fails when a crawl's rows are split
    between builds (a build ran while it was landing): fct_model_counters ends the intervals of the
    models a succeeded counters sweep did not list, judged from the sweep's rows in one build. Reads
    only the new rows and, of the old ones, those of crawls started at or after the earliest new one
    (row groups are skipped on ``rowid`` and ``crawl_id``, so this stays cheap as the landing grows).
    """
    new_rows = " union ".join(
        f"select distinct crawl_id from {table} "
        f"where rowid > {windows[table].after} and rowid <= {windows[table].through}"
        for table in OBSERVATION_TABLES
    )
    with duckdb.connect(str(raw_db), read_only=True) as con:
        earliest = con.execute(
            f"select crawl_id, started_at from crawl_runs where crawl_id in ({new_rows}) order by started_at limit 1"
        ).fetchone()
        if earliest is None:
            return None
        later = [
            crawl_id
            for (crawl_id,) in con.execute(
                "select crawl_id from crawl_runs where started_at >= ? order by started_at", [earliest[1]]
            ).fetchall()
        ]
        if not later:
            return None
        placeholders = ", ".join("?" for _ in later)
        for table in OBSERVATION_TABLES:
            if windows[table].after < 0:
                continue
            held = con.execute(
                f"select crawl_id from {table} where rowid <= {windows[table].after} "
                f"and crawl_id in ({placeholders}) limit 1",
                later,
            ).fetchone()
            if held is not None and held[0] == earliest[0]:
                return (
                    f"crawl {earliest[0]} landed rows both before and after the previous build (a build ran "
                    "while it was landing): rebuilding from the landing"
                )
            if held is not None:
                return (
                    f"new landing rows of crawl {earliest[0]} were observed before rows of crawl {held[0]} "
                    "the warehouse already holds (a crawl resumed across builds): rebuilding from the landing"
                )
    return None


def plan_build(warehouse: Path, raw_db: Path, *, full_refresh: bool = False) -> BuildPlan:
    """Decide how the next build of ``warehouse`` from ``raw_db`` runs, and with which landing windows.

    Incremental when the published warehouse records a build of the same dbt project from the same
    landing, and the landing has at least the rows that build saw; a full refresh otherwise, or
    when ``full_refresh`` asks for one. The reason is in :attr:`BuildPlan.reason`.
    """
    through = landing_through(raw_db)
    fingerprint = project_fingerprint()
    if full_refresh:
        return BuildPlan.full_refresh("asked for (--full-refresh)", through, fingerprint=fingerprint)
    if not warehouse.exists():
        return BuildPlan.full_refresh(
            "no published warehouse yet; building from the landing", through, fingerprint=fingerprint
        )
    try:
        previous = read_previous_build(warehouse)
    except _NoBuildState as exc:
        return BuildPlan.full_refresh(str(exc), through, fingerprint=fingerprint)
    if previous.project_fingerprint != fingerprint:
        reason = (
            f"the warehouse's dbt project differs from this version's (fingerprint "
            f"{previous.project_fingerprint} vs {fingerprint}): rebuilding from the landing"
        )
        return BuildPlan.full_refresh(reason, through, fingerprint=fingerprint)
    if previous.raw_db != str(raw_db):
        reason = (
            f"the warehouse was built from another landing ({previous.raw_db}, now {raw_db}): "
            "rebuilding from the landing"
        )
        return BuildPlan.full_refresh(reason, through, fingerprint=fingerprint)
    shrunk = [
        f"{table} has rows up to {through[table]}, the warehouse saw up to {previous.landing_window[table].through}"
        for table in RAW_TABLES
        if table in previous.landing_window and through[table] < previous.landing_window[table].through
    ]
    if shrunk:
        reason = (
            f"the landing has fewer rows than the warehouse was built from ({'; '.join(shrunk)}): it was "
            "replaced or rebuilt; rebuilding from the landing"
        )
        return BuildPlan.full_refresh(reason, through, fingerprint=fingerprint)
    windows = {
        table: TableWindow(
            previous.landing_window[table].through if table in previous.landing_window else -1, through[table]
        )
        for table in RAW_TABLES
    }
    resumed = _resumed_crawl(raw_db, windows)
    if resumed:
        return BuildPlan.full_refresh(resumed, through, fingerprint=fingerprint)
    counts = ", ".join(f"{table} +{window.new_rows:,}" for table, window in windows.items())
    return BuildPlan(
        "incremental",
        f"landing rows since build {previous.build_id}: {counts}",
        windows,
        fingerprint,
        previous_build_id=previous.build_id,
    )


def write_landing_window(build_db: Path, plan: BuildPlan) -> None:
    """Write ``main.hubgenome_landing_window`` (one row per raw table) into the file dbt is about to build."""
    with duckdb.connect(str(build_db)) as con:
        con.execute(
            f'create or replace table main.{LANDING_WINDOW_TABLE} (table_name varchar primary key, "after" bigint '
            'not null, "through" bigint not null)'
        )
        con.executemany(
            f"insert into main.{LANDING_WINDOW_TABLE} values (?, ?, ?)",
            [[table, window.after, window.through] for table, window in plan.windows.items()],
        )
        con.execute("checkpoint")


def _quote(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _create_builds_table(con: duckdb.DuckDBPyConnection) -> None:
    columns = ", ".join(f"{name} {kind}" for name, (kind, _) in BUILDS_COLUMNS.items())
    con.execute(f"create table if not exists main.{BUILDS_TABLE} ({columns})")
    con.execute(f"comment on table main.{BUILDS_TABLE} is {_quote(BUILDS_DESCRIPTION)}")
    for name, (_, description) in BUILDS_COLUMNS.items():
        con.execute(f"comment on column main.{BUILDS_TABLE}.{name} is {_quote(description)}")


def _carry_over_history(con: duckdb.DuckDBPyConnection, published: Path) -> None:
    """Copy the earlier builds' rows of the published warehouse (a full refresh starts an empty file)."""
    try:
        con.execute(f"attach {_quote(str(published))} as previous_warehouse (read_only)")
    except duckdb.Error:
        return  # unreadable: the full refresh's reason already says so
    try:
        columns = {
            name
            for (name,) in con.execute(
                "select column_name from duckdb_columns() where database_name = 'previous_warehouse' "
                "and schema_name = 'main' and table_name = ?",
                [BUILDS_TABLE],
            ).fetchall()
        }
        shared = [name for name in BUILDS_COLUMNS if name in columns]
        if shared:
            listed = ", ".join(shared)
            con.execute(
                f"insert into main.{BUILDS_TABLE} ({listed}) "
                f"select {listed} from previous_warehouse.main.{BUILDS_TABLE} order by rowid"
            )
    except duckdb.Error as exc:
        print(f"The earlier builds' rows of {published} were not carried over: {exc}")
    finally:
        con.execute("detach previous_warehouse")


def record_build(
    build_db: Path,
    plan: BuildPlan,
    *,
    build_id: str,
    raw_db: Path,
    published: Path,
    built_at: dt.datetime,
) -> None:
    """Append this build's row to ``main.hubgenome_builds`` in the build file (created if missing).

    Also drops the build's ``main.hubgenome_landing_window``: the row keeps its windows.

    A full refresh first carries the earlier builds' rows over from the ``published`` warehouse, so
    the table stays the log of every build; an incremental build has them in its copy already.
    """
    with duckdb.connect(str(build_db)) as con:
        con.execute(f"drop table if exists main.{LANDING_WINDOW_TABLE}")  # dbt's, for this build only
        has_table = con.execute(
            "select count(*) from duckdb_tables() where schema_name = 'main' and table_name = ?", [BUILDS_TABLE]
        ).fetchone()[0]
        if not has_table:
            _create_builds_table(con)
            if published.exists():
                _carry_over_history(con, published)
        con.execute(
            f"insert into main.{BUILDS_TABLE} ({', '.join(BUILDS_COLUMNS)}) "
            f"values ({', '.join(['?'] * len(BUILDS_COLUMNS))})",
            [
                build_id,
                built_at,
                plan.mode,
                plan.reason,
                plan.fingerprint,
                hubgenome_version(),
                json.dumps(plan.landing_window()),
                str(raw_db),
            ],
        )
        con.execute("checkpoint")


__all__ = [
    "BUILDS_TABLE",
    "LANDING_WINDOW_TABLE",
    "OBSERVATION_TABLES",
    "RAW_TABLES",
    "BuildMode",
    "BuildPlan",
    "PreviousBuild",
    "TableWindow",
    "landing_through",
    "plan_build",
    "project_fingerprint",
    "read_previous_build",
    "record_build",
    "write_landing_window",
]
