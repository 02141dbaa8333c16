"""The published warehouse as every page reads it: one cached read-only connection, cached query results.

Why here: the domain modules (:mod:`~hubgenome.app.ecosystem`, :mod:`~hubgenome.app.models`,
:mod:`~hubgenome.app.families`, ...) hold the SQL, this module holds how it runs, so caching
follows one rule and no page opens a connection of its own.

Identity and caching
--------------------
The published warehouse is identified by :class:`WarehouseFile` (path, inode, mtime, size),
read with one ``stat`` per page run. A rebuild publishes with an atomic rename, so the identity
changes and:

* :func:`connection` (``st.cache_resource``, keyed on the identity) opens a new read-only instance
  on the new inode (see :mod:`hubgenome.app._connect` for why it attaches rather than
  ``connect(path)``); the old one is closed when it leaves the cache;
* every :func:`frame` result (``st.cache_data``) is keyed on the identity too, so results of the
  old file are never served for the new one: a new warehouse shows up on the next rerun, no restart.

DuckDB connections are not shared between threads: each Streamlit script thread takes its own
``cursor()`` of the cached connection (kept in a thread-local, per identity).

Old warehouses
--------------
A warehouse is published only with its ``analytics`` schema, but a file published by an older
hubgenome may lack it, or lack a mart added since (the nightly history marts). Readers of such
tables return ``None`` and the page says, in one sentence, to rebuild (:func:`missing_analytics`,
:func:`require_analytics`, :func:`missing_history`); nothing is computed in their place. A warehouse
built before the counters became validity intervals (issue 13) still has the day-by-day
``fct_model_daily_counters``: it is told to rebuild with ``--full-refresh`` (:data:`COUNTERS_HINT`).
"""

from __future__ import annotations

import contextlib
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb
import polars as pl
import streamlit as st

from hubgenome.app._connect import connect_read_only, use_warehouse
from hubgenome.core.paths import resolve_data_dir

#: How to get what an old warehouse lacks.
REBUILD = "rebuild it with `hubgenome build` (or `hubgenome demo` for the synthetic ecosystem)"
HISTORY_HINT = (
    "rebuild it with `hubgenome build` (the history marts arrived with the nightly pipeline), and let "
    "`hubgenome pipeline` run for a few nights to grow the time series"
)
#: How to replace the day-by-day counters of an older hubgenome (``fct_model_daily_counters``, one row
#: per model per night) with their validity intervals (``fct_model_counters``, issue 13).
COUNTERS_HINT = (
    "it was built by an older hubgenome, which kept one row per model per night in `fct_model_daily_counters`; "
    "rebuild it with `hubgenome build --full-refresh` to get the counters as validity intervals "
    "(`fct_model_counters`) and the daily sums in `fct_ecosystem_daily`"
)
#: The analytics table every analytics step writes: its presence says the schema was published.
_ANALYTICS_MARKER = "analytics.run_info"


@dataclass(frozen=True)
class WarehouseFile:
    """The identity of the published warehouse file: a new publish gives a new identity."""

    path: str
    inode: int
    mtime_ns: int
    size: int

    @property
    def name(self) -> str:
        return Path(self.path).name


def warehouse_path() -> Path:
    """``<data dir>/warehouse.duckdb`` (data dir from ``HUBGENOME_DATA_DIR``, default ``./data``)."""
    return resolve_data_dir() / "warehouse.duckdb"


def warehouse_file(path: Path | None = None) -> WarehouseFile | None:
    """The current identity of the warehouse file, or ``None`` when there is none (or it is empty)."""
    path = Path(path or warehouse_path())
    try:
        stat = path.stat()
    except FileNotFoundError:
        return None
    if stat.st_size == 0:
        return None
    return WarehouseFile(str(path), stat.st_ino, stat.st_mtime_ns, stat.st_size)


def close_quietly(con: Any) -> None:
    """Close a cached connection or console when it leaves the cache (it may already be closed)."""
    with contextlib.suppress(Exception):  # already closed, or the interpreter is shutting down
        con.close()


@st.cache_resource(max_entries=2, show_spinner=False, on_release=close_quietly)
def connection(wh: WarehouseFile) -> duckdb.DuckDBPyConnection:
    """The one read-only connection to the warehouse file ``wh`` (per identity, shared by sessions)."""
    return connect_read_only(wh.path)


_local = threading.local()


def cursor(wh: WarehouseFile) -> duckdb.DuckDBPyConnection:
    """This thread's cursor of :func:`connection` (DuckDB connections are not shared across threads)."""
    cached = getattr(_local, "cursor", None)
    if cached is None or cached[0] != wh:
        _local.cursor = (wh, use_warehouse(connection(wh).cursor()))
    return _local.cursor[1]


@st.cache_data(max_entries=1024, show_spinner=False)
def frame(wh: WarehouseFile, sql: str, params: tuple[Any, ...] = ()) -> pl.DataFrame:
    """The result of ``sql`` with ``params`` on warehouse ``wh``, cached per (identity, sql, params)."""
    return cursor(wh).sql(sql, params=list(params) if params else None).pl()


def scalar(wh: WarehouseFile, sql: str, params: tuple[Any, ...] = ()) -> Any:
    """The first column of the first row of :func:`frame`, or ``None`` when there is no row."""
    result = frame(wh, sql, params)
    return result.item(0, 0) if result.height else None


def row(wh: WarehouseFile, sql: str, params: tuple[Any, ...] = ()) -> dict[str, Any] | None:
    """The first row of :func:`frame` as a dict (every column), or ``None`` when there is no row."""
    result = frame(wh, sql, params)
    return result.row(0, named=True) if result.height else None


@st.cache_data(max_entries=8, show_spinner=False)
def tables(wh: WarehouseFile) -> frozenset[str]:
    """``schema.table`` of every table and view in the warehouse."""
    listed = (
        cursor(wh)
        .sql(
            "select schema_name || '.' || table_name from duckdb_tables() where database_name = 'warehouse' "
            "union all select schema_name || '.' || view_name from duckdb_views() "
            "where database_name = 'warehouse' and not internal"
        )
        .fetchall()
    )
    return frozenset(row[0] for row in listed)


def has_table(wh: WarehouseFile, name: str) -> bool:
    """``name`` (``schema.table``; ``main.`` for marts) exists in the warehouse."""
    return (name if "." in name else f"main.{name}") in tables(wh)


@st.cache_data(max_entries=8, show_spinner=False)
def _columns(wh: WarehouseFile) -> frozenset[str]:
    listed = (
        cursor(wh)
        .sql(
            "select schema_name || '.' || table_name || '.' || column_name from duckdb_columns() "
            "where database_name = 'warehouse'"
        )
        .fetchall()
    )
    return frozenset(row[0] for row in listed)


def has_column(wh: WarehouseFile, table: str, column: str) -> bool:
    """``table`` (as for :func:`has_table`) exists and has ``column`` (a mart from an older build may not)."""
    return f"{table if '.' in table else f'main.{table}'}.{column}" in _columns(wh)


def missing_history(wh: WarehouseFile, what: str) -> str:
    """The sentence a page shows in place of the history ``what`` (``"`fct_model_counters` table"``) the
    warehouse lacks.

    A warehouse with the day-by-day counters of an older hubgenome is told to rebuild with
    ``--full-refresh`` (:data:`COUNTERS_HINT`); one from before the nightly pipeline, to rebuild and
    let the pipeline run (:data:`HISTORY_HINT`).
    """
    hint = COUNTERS_HINT if has_table(wh, "fct_model_daily_counters") else HISTORY_HINT
    return f"This warehouse has no {what}: {hint}."


def require_warehouse() -> WarehouseFile:
    """The warehouse identity, or an ``st.info`` saying how to build one followed by ``st.stop()``."""
    path = warehouse_path()
    wh = warehouse_file(path)
    if wh is None:
        st.info(
            f"No warehouse at `{path}` yet. Build one with `hubgenome demo` (a synthetic ecosystem, offline) "
            "or `hubgenome crawl` then `hubgenome build`; point the app at another data directory with "
            "`HUBGENOME_DATA_DIR`. This page refreshes on its own once the warehouse is published."
        )
        st.stop()
    try:
        ok = has_table(wh, "main.dim_models")
    except (duckdb.Error, OSError) as error:
        st.info(
            f"`{path}` could not be opened as a warehouse ({error}). Rebuild it with `hubgenome build`; "
            "if a build is running, wait for it to publish."
        )
        st.stop()
    if not ok:
        st.info(
            f"`{path}` has no `dim_models` table, so it is not a finished hubgenome warehouse. "
            "Run `hubgenome build` to build and publish one."
        )
        st.stop()
    return wh


# --- the analytics schema ------------------------------------------------------------------------------


def has_analytics(wh: WarehouseFile) -> bool:
    """The warehouse was published with its ``analytics`` schema (every build since they became required)."""
    return has_table(wh, _ANALYTICS_MARKER)


def analytics_table(wh: WarehouseFile, table: str, order_by: str | None = None) -> pl.DataFrame | None:
    """Every row of ``analytics.<table>`` (all columns, so new ones show up), or ``None`` when absent."""
    if not has_table(wh, f"analytics.{table}"):
        return None
    order = f" order by {order_by}" if order_by else ""
    return frame(wh, f"select * from analytics.{table}{order}")


def missing_analytics(what: str = "analytics") -> None:
    """The one sentence a page shows in place of analytics an old warehouse lacks."""
    st.info(f"This warehouse has no {what}: it was published by an older hubgenome; {REBUILD}.")


def require_analytics(wh: WarehouseFile) -> None:
    """For pages made of analytics only: :func:`missing_analytics` then ``st.stop()`` when the schema is absent."""
    if not has_analytics(wh):
        missing_analytics()
        st.stop()
