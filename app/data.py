"""Every read the dashboard makes: one cached read-only connection and the loaders the pages call.

Why here and not in the pages: pages stay layout only, every SQL string the app runs is in this
file (so a faster or renamed mart is one edit), and caching follows one rule.

Identity and caching
--------------------
The published warehouse is identified by :class:`WarehouseFile` (path, inode, mtime, size),
read with one ``stat`` per page run. A rebuild publishes with an atomic rename, so the identity
changes and:

* :func:`connection` (``st.cache_resource``, keyed on the identity) opens a new read-only instance
  on the new inode (see :mod:`hubgenome.app._connect` for why it attaches rather than ``connect(path)``); the
  old one is closed when it leaves the cache;
* every loader's ``st.cache_data`` entry is keyed on the identity too, so results of the old file
  are never served for the new one: a new warehouse shows up on the next rerun, no restart.

DuckDB connections are not shared between threads: each Streamlit script thread takes its own
``cursor()`` of the cached connection (kept in a thread-local, per identity).

Absent analytics tables (``analytics.*`` from the build's analytics step) are normal: loaders
return ``None`` and the pages say how to compute them (:func:`has_table`, :data:`BUILD_HINT`).
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
from hubgenome.app.sql import SqlConsole

from hubgenome.core.paths import resolve_data_dir

BUILD_HINT = "run `hubgenome build` (or `hubgenome demo` for the synthetic ecosystem) to compute it"
SYNTHETIC_TAG = "hubgenome-synthetic"
RELATIONS = ("finetune", "adapter", "quantized", "merge")
RELATION_COLOURS = {
    "finetune": "#1f77b4",
    "adapter": "#2ca02c",
    "quantized": "#ff7f0e",
    "merge": "#d62728",
    "root": "#7f7f7f",
}
#: Fuzzy search scores model ids of the most downloaded models only (prefix and substring search cover all).
FUZZY_CANDIDATES = 100_000


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


def _close(con: Any) -> None:
    with contextlib.suppress(Exception):  # already closed, or the interpreter is shutting down
        con.close()


@st.cache_resource(max_entries=2, show_spinner=False, on_release=_close)
def connection(wh: WarehouseFile) -> duckdb.DuckDBPyConnection:
    """The one read-only connection to the warehouse file ``wh`` (per identity, shared by sessions)."""
    return connect_read_only(wh.path)


@st.cache_resource(max_entries=2, show_spinner=False, on_release=_close)
def sql_console(wh: WarehouseFile) -> SqlConsole:
    """The SQL console's own, separately locked DuckDB instance for ``wh``."""
    return SqlConsole(wh.path)


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
    result = frame(wh, sql, params)
    return result.item(0, 0) if result.height else None


# --- the warehouse itself ----------------------------------------------------------------------------


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


def analytics(wh: WarehouseFile, table: str, order_by: str | None = None) -> pl.DataFrame | None:
    """Every row of ``analytics.<table>`` (all columns, so new ones show up), or ``None`` when absent."""
    if not has_table(wh, f"analytics.{table}"):
        return None
    order = f" order by {order_by}" if order_by else ""
    return frame(wh, f"select * from analytics.{table}{order}")


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


def build_hint(what: str) -> None:
    """The standard message for an analytics table the warehouse does not have yet."""
    st.info(f"This warehouse has no {what} yet: {BUILD_HINT}.")


# --- overview ----------------------------------------------------------------------------------------


def snapshot(wh: WarehouseFile) -> dict[str, Any]:
    """Snapshot facts for the sidebar and overview: newest model, last crawl, corpus, synthetic share."""
    facts = frame(
        wh,
        """
        select
            count(*) as models,
            max(created_at) as newest_created_at,
            max(last_seen_at) as last_seen_at,
            count(*) filter (where starts_with(author, 'synth-') or starts_with(author, 'synthlab-'))
                as synthetic_authors
        from dim_models
        """,
    ).row(0, named=True)
    # the demo's marker: synth-/synthlab- authors AND the hubgenome-synthetic tag; the tag scan (wide
    # column) only runs when such authors exist, and stops at the first hit
    facts["is_synthetic"] = False
    facts["synthetic_models"] = int(facts["synthetic_authors"] or 0)
    if facts["synthetic_models"] >= 0.5 * max(facts["models"], 1):
        facts["is_synthetic"] = bool(
            scalar(
                wh,
                "select exists (select 1 from staging.stg_hub__models where list_contains(tags, ?))",
                (SYNTHETIC_TAG,),
            )
        )
    facts["snapshot_date"] = facts["newest_created_at"].date() if facts["newest_created_at"] else None
    info = analytics(wh, "run_info")
    facts["corpus"] = None
    if info is not None:
        values = dict(zip(info["key"].to_list(), info["value"].to_list(), strict=True))
        facts["corpus"] = values.get("corpus")
        facts["as_of"] = values.get("as_of")
    return facts


def crawls(wh: WarehouseFile) -> pl.DataFrame:
    return frame(
        wh,
        """
        select crawl_id, crawl_mode, crawl_state, endpoint, models_landed, started_at, finished_at
        from staging.stg_hub__crawls
        order by started_at desc
        """,
    )


def headline_counts(wh: WarehouseFile) -> dict[str, Any]:
    """Models, edges by relation, families, dangling parents."""
    counts = frame(
        wh,
        """
        select
            count(*) filter (where not is_dangling) as edges,
            count(*) filter (where not is_dangling and relation = 'finetune') as finetune_edges,
            count(*) filter (where not is_dangling and relation = 'adapter') as adapter_edges,
            count(*) filter (where not is_dangling and relation = 'quantized') as quantized_edges,
            count(*) filter (where not is_dangling and relation = 'merge') as merge_edges,
            count(*) filter (where is_dangling) as dangling_edges,
            count(distinct parent_model_id) filter (where is_dangling) as dangling_parents
        from fct_lineage_edges
        """,
    ).row(0, named=True)
    families = frame(
        wh,
        """
        select
            count(*) as families,
            count(*) filter (where not is_singleton) as multi_model_families,
            max(family_size) as largest_family,
            max(max_depth) as deepest_family
        from dim_families
        """,
    ).row(0, named=True)
    models = scalar(wh, "select count(*) from dim_models")
    return {"models": models, **counts, **families}


def monthly_growth(wh: WarehouseFile) -> pl.DataFrame:
    """Models created per month and the cumulative count (from ``dim_models.created_at``)."""
    return frame(
        wh,
        """
        select
            cast(date_trunc('month', created_at) as date) as month,
            count(*) as new_models,
            sum(count(*)) over (order by date_trunc('month', created_at)) as models
        from dim_models
        where created_at is not null
        group by date_trunc('month', created_at)
        order by 1
        """,
    )


def ecosystem_daily(wh: WarehouseFile) -> pl.DataFrame:
    return frame(wh, "select * from fct_ecosystem_daily order by crawl_date")


_TOP_VALUES = {
    "license": "select unnest(license_ids) as value from dim_models",
    "task": "select pipeline_tag as value from dim_models where pipeline_tag is not null",
    "language": "select unnest(language_names) as value from dim_models",
    "library": "select library_name as value from dim_models where library_name is not null",
}


def top_values(wh: WarehouseFile, trait: str, n: int = 10) -> pl.DataFrame:
    """The ``n`` most common values of a trait (license, task, language, library) with model counts."""
    source = _TOP_VALUES[trait]
    return frame(
        wh,
        f"select value, count(*) as models from ({source}) group by value order by models desc, value limit ?",
        (n,),
    )


def top_parents(wh: WarehouseFile, n: int = 10) -> pl.DataFrame:
    """Most-derived parents over all relations (``analytics.top_parents`` if built, else from the edges)."""
    if has_table(wh, "analytics.top_parents"):
        return frame(
            wh,
            "select parent_model_id, n_children from analytics.top_parents where relation = 'all' "
            "order by rank limit ?",
            (n,),
        )
    return frame(
        wh,
        """
        select parent_model_id, count(distinct child_model_id) as n_children
        from fct_lineage_edges
        group by 1
        order by n_children desc, parent_model_id
        limit ?
        """,
        (n,),
    )


# --- nightly history (fct_pipeline_runs, fct_model_daily_counters, fct_family_daily, dim_model_lifecycle) -

HISTORY_HINT = (
    "rebuild it with `hubgenome build` (the history marts arrived with the nightly pipeline), and let "
    "`hubgenome pipeline` run for a few nights to grow the time series"
)
#: Licence categories of ``fct_family_daily``, in display order.
LICENSE_CATEGORIES = (
    "permissive",
    "copyleft",
    "use_restricted",
    "commercial_custom",
    "other_unknown",
    "unlicensed",
)


def pipeline_runs(wh: WarehouseFile, limit: int = 200) -> pl.DataFrame | None:
    """The newest ``limit`` nightly runs (``fct_pipeline_runs``), newest first; ``None`` when the mart is absent."""
    if not has_table(wh, "fct_pipeline_runs"):
        return None
    return frame(
        wh,
        """
        select pipeline_run_id, run_state, failed_stage, crawl_mode, started_at, duration_seconds,
            audit_missing, audit_stale, audit_extra, audit_private, cards_backlog_remaining,
            crawl_seconds, counters_seconds, id_sweep_seconds, reconcile_seconds, build_seconds, audit_seconds,
            models_listed, models_new, models_changed, models_deleted, models_reconciled, models_skipped_private,
            counters_landed, ids_landed, cards_ok, cards_missing, cards_gated, cards_error, cards_backlog_fetched,
            dbt_models_built, dbt_tests_passed, dbt_tests_failed,
            requests, retries, throttled_429, rate_limit_wait_seconds, pacing_wait_seconds,
            is_crawl_resumed, build_state, error_message, finished_at
        from fct_pipeline_runs
        order by started_at desc
        limit ?
        """,
        (limit,),
    )


def pipeline_stage_seconds(wh: WarehouseFile, limit: int = 60) -> pl.DataFrame:
    """(pipeline_run_id, started_at, stage, seconds) of the newest ``limit`` runs; stages not run are left out."""
    return frame(
        wh,
        """
        with runs as (
            select pipeline_run_id, started_at, crawl_seconds as crawl, counters_seconds as counters,
                id_sweep_seconds as id_sweep, reconcile_seconds as reconcile, build_seconds as build,
                audit_seconds as audit
            from fct_pipeline_runs
            order by started_at desc
            limit ?
        )
        select pipeline_run_id, started_at, stage, seconds
        from (unpivot runs on crawl, counters, id_sweep, reconcile, build, audit into name stage value seconds)
        order by started_at, stage
        """,
        (limit,),
    )


def ecosystem_counters_daily(wh: WarehouseFile) -> pl.DataFrame | None:
    """Per UTC day with observations: models observed and their summed downloads and likes; ``None`` when absent."""
    if not has_table(wh, "fct_model_daily_counters"):
        return None
    return frame(
        wh,
        """
        select counter_date, count(*) as models_observed,
            sum(downloads_30d) as downloads_30d, sum(downloads_all_time) as downloads_all_time,
            sum(likes) as likes,
            count(*) filter (where observation_source = 'counters_sweep') as from_counters_sweep
        from fct_model_daily_counters
        group by counter_date
        order by counter_date
        """,
    )


def model_daily_counters(wh: WarehouseFile, model_id: str) -> pl.DataFrame | None:
    """The model's counters per observed day (``fct_model_daily_counters``); ``None`` when the mart is absent."""
    if not has_table(wh, "fct_model_daily_counters"):
        return None
    return frame(
        wh,
        """
        select counter_date, downloads_30d, downloads_all_time, likes, trending_score,
            downloads_all_time_delta, likes_delta, days_since_previous, observation_source
        from fct_model_daily_counters
        where model_id = ?
        order by counter_date
        """,
        (model_id,),
    )


def model_lifecycle(wh: WarehouseFile, model_id: str) -> dict[str, Any] | None:
    """The model's ``dim_model_lifecycle`` row plus ``renamed_from`` (ids renamed to it); ``None`` when absent."""
    if not has_table(wh, "dim_model_lifecycle"):
        return None
    row = frame(wh, "select * from dim_model_lifecycle where model_id = ?", (model_id,))
    if not row.height:
        return None
    lifecycle = row.row(0, named=True)
    lifecycle["renamed_from"] = (
        frame(
            wh,
            "select model_id from dim_model_lifecycle where renamed_to_model_id = ? order by model_id",
            (model_id,),
        )
        .get_column("model_id")
        .to_list()
    )
    return lifecycle


#: A family's series per observed day. fct_family_daily holds families of two or more models; a
#: single-model family's series is its model's rows of fct_model_daily_counters, with the licence
#: category of the fct_model_history version valid at each observation (as the mart computes it).
#: Parameters: the family id, twice.
_FAMILY_DAILY_SQL = """
    select counter_date, models_observed, downloads_30d, downloads_all_time, likes,
        permissive_models, copyleft_models, use_restricted_models, commercial_custom_models,
        other_unknown_models, unlicensed_models
    from fct_family_daily
    where family_id = ?
    union all
    select
        counters.counter_date,
        1::bigint as models_observed,
        counters.downloads_30d::hugeint as downloads_30d,
        counters.downloads_all_time::hugeint as downloads_all_time,
        counters.likes::hugeint as likes,
        (history.license_category = 'permissive')::bigint as permissive_models,
        (history.license_category = 'copyleft')::bigint as copyleft_models,
        (history.license_category = 'use_restricted')::bigint as use_restricted_models,
        (history.license_category = 'commercial_custom')::bigint as commercial_custom_models,
        (history.license_category = 'other_unknown')::bigint as other_unknown_models,
        (history.license_category is null)::bigint as unlicensed_models
    from fct_model_daily_counters as counters
    semi join dim_families
        on dim_families.family_id = counters.model_id and dim_families.is_singleton
    left join fct_model_history as history
        on history.model_id = counters.model_id
            and counters.observed_at >= history.valid_from
            and (history.valid_to is null or counters.observed_at < history.valid_to)
    where counters.model_id = ?
"""


def family_daily(wh: WarehouseFile, family_id: str) -> pl.DataFrame | None:
    """The family's series per observed day (``fct_family_daily``, or its model's counters for a
    single-model family); ``None`` when the mart is absent."""
    if not has_table(wh, "fct_family_daily"):
        return None
    return frame(wh, f"{_FAMILY_DAILY_SQL} order by counter_date", (family_id, family_id))


def family_license_mix_daily(wh: WarehouseFile, family_id: str) -> pl.DataFrame:
    """(counter_date, license_category, models) of the family per observed day, categories with no model left out."""
    columns = ", ".join(f"{category}_models as {category}" for category in LICENSE_CATEGORIES)
    return frame(
        wh,
        f"""
        with days as (select counter_date, {columns} from ({_FAMILY_DAILY_SQL}))
        select counter_date, license_category, models
        from (unpivot days on {", ".join(LICENSE_CATEGORIES)} into name license_category value models)
        where models > 0
        order by counter_date, license_category
        """,
        (family_id, family_id),
    )


# --- model lookup ------------------------------------------------------------------------------------


def search_models(wh: WarehouseFile, text: str, limit: int = 20) -> pl.DataFrame:
    """Models whose id starts with (first) or contains ``text``, case-insensitive, most downloaded first."""
    text = text.strip()
    if not text:
        return pl.DataFrame(schema={"model_id": pl.String, "downloads": pl.Int64, "match": pl.String})
    return frame(
        wh,
        """
        select model_id, downloads,
            case when starts_with(lower(model_id), lower(?)) then 'prefix'
                 when starts_with(lower(split_part(model_id, '/', 2)), lower(?)) then 'name prefix'
                 else 'contains' end as match
        from dim_models
        where contains(lower(model_id), lower(?))
        order by case match when 'prefix' then 0 when 'name prefix' then 1 else 2 end,
            downloads desc nulls last, model_id
        limit ?
        """,
        (text, text, text, limit),
    )


@st.cache_resource(max_entries=2, show_spinner=False)
def _fuzzy_candidates(wh: WarehouseFile) -> list[str]:
    """Read-only list shared by sessions (``cache_resource``: no copy per call, unlike ``cache_data``)."""
    return (
        frame(
            wh,
            "select model_id from dim_models order by downloads desc nulls last limit ?",
            (FUZZY_CANDIDATES,),
        )
        .get_column("model_id")
        .to_list()
    )


@st.cache_data(max_entries=256, show_spinner=False)
def fuzzy_models(wh: WarehouseFile, text: str, limit: int = 10) -> pl.DataFrame:
    """Closest model ids by rapidfuzz's WRatio among the most downloaded :data:`FUZZY_CANDIDATES`."""
    from rapidfuzz import fuzz, process, utils

    text = text.strip()
    if len(text) < 2:
        return pl.DataFrame(schema={"model_id": pl.String, "score": pl.Float64})
    matches = process.extract(
        text,
        _fuzzy_candidates(wh),
        scorer=fuzz.WRatio,
        processor=utils.default_process,
        limit=limit,
        score_cutoff=60,
    )
    return pl.DataFrame(
        {"model_id": [m[0] for m in matches], "score": [float(m[1]) for m in matches]},
        schema={"model_id": pl.String, "score": pl.Float64},
    )


def resolve_model_id(wh: WarehouseFile, text: str) -> str | None:
    """The exact model id for ``text`` (case-insensitive), or ``None``."""
    return scalar(
        wh,
        "select model_id from dim_models where lower(model_id) = lower(?) order by model_id = ? desc limit 1",
        (text.strip(), text.strip()),
    )


def model(wh: WarehouseFile, model_id: str) -> dict[str, Any] | None:
    """Every column of the model's ``dim_models`` row (new columns included), or ``None``."""
    row = frame(wh, "select * from dim_models where model_id = ?", (model_id,))
    return row.row(0, named=True) if row.height else None


def ancestors(wh: WarehouseFile, model_id: str) -> pl.DataFrame:
    """The model's tree path up to its family root: step 0 is the model, the last row the root."""
    return frame(
        wh,
        """
        with recursive family as materialized (
            -- the tree path never leaves the family: walk a few hundred rows, not 3M per step
            select model_id, tree_parent_model_id, tree_parent_relation, depth
            from dim_models
            where family_id = (select family_id from dim_models where model_id = ?)
        ),
        chain(step, model_id, tree_parent_model_id, relation, depth) as (
            select 0, model_id, tree_parent_model_id, tree_parent_relation, depth
            from family where model_id = ?
            union all
            select chain.step + 1, m.model_id, m.tree_parent_model_id, m.tree_parent_relation, m.depth
            from chain
            inner join family as m on m.model_id = chain.tree_parent_model_id
            where chain.step < 200
        )
        select step, model_id, relation as relation_to_parent, depth from chain order by step
        """,
        (model_id, model_id),
    )


def parents(wh: WarehouseFile, model_id: str) -> pl.DataFrame:
    return frame(
        wh,
        """
        select parent_model_id, relation, relation_basis, parent_match, is_tree_edge, is_dangling,
            parent_license_ids, child_license_ids
        from fct_lineage_edges where child_model_id = ? order by parent_position
        """,
        (model_id,),
    )


def children(wh: WarehouseFile, model_id: str, limit: int = 500) -> pl.DataFrame:
    return frame(
        wh,
        """
        select child_model_id, relation, child_downloads as downloads, child_license_ids as license_ids,
            child_created_at as created_at
        from fct_lineage_edges where parent_model_id = ?
        order by relation, child_downloads desc nulls last, child_model_id
        limit ?
        """,
        (model_id, limit),
    )


def children_by_relation(wh: WarehouseFile, model_id: str) -> pl.DataFrame:
    return frame(
        wh,
        "select relation, count(*) as children from fct_lineage_edges where parent_model_id = ? "
        "group by 1 order by children desc",
        (model_id,),
    )


def model_conflicts(wh: WarehouseFile, model_id: str) -> pl.DataFrame:
    """Licence conflicts on the edges into and out of the model."""
    return frame(
        wh,
        """
        select case when child_model_id = ? then 'as child' else 'as parent' end as role,
            rule_id, severity, parent_model_id, child_model_id, parent_license_id, child_license_ids, explanation
        from fct_license_conflicts
        where child_model_id = ? or parent_model_id = ?
        order by role, rule_id, child_model_id
        limit 200
        """,
        (model_id, model_id, model_id),
    )


def model_history(wh: WarehouseFile, model_id: str) -> pl.DataFrame:
    return frame(wh, "select * from fct_model_history where model_id = ? order by version_number", (model_id,))


def card_text(wh: WarehouseFile, model_id: str, max_chars: int = 4000) -> str | None:
    """The first ``max_chars`` of the model's card (shown as plain text only)."""
    return scalar(
        wh,
        "select left(card_text, ?) from staging.stg_hub__cards where model_id = ? and has_card_text",
        (max_chars, model_id),
    )


# --- families ----------------------------------------------------------------------------------------


def largest_families(wh: WarehouseFile, limit: int = 200) -> pl.DataFrame:
    return frame(
        wh,
        """
        select family_id, family_size, max_depth, max_width, total_downloads
        from dim_families
        order by family_size desc, family_id
        limit ?
        """,
        (limit,),
    )


def search_families(wh: WarehouseFile, text: str, limit: int = 50) -> pl.DataFrame:
    """Families whose root id contains ``text``, or that contain a model whose id contains it."""
    return frame(
        wh,
        """
        with hits as (
            select family_id from dim_families where contains(lower(family_id), lower(?))
            union
            select family_id from (
                select family_id from dim_models where contains(lower(model_id), lower(?)) limit 500
            )
        )
        select f.family_id, f.family_size, f.max_depth
        from dim_families as f inner join hits using (family_id)
        order by f.family_size desc, f.family_id
        limit ?
        """,
        (text, text, limit),
    )


def family(wh: WarehouseFile, family_id: str) -> dict[str, Any] | None:
    row = frame(wh, "select * from dim_families where family_id = ?", (family_id,))
    return row.row(0, named=True) if row.height else None


def family_members(wh: WarehouseFile, family_id: str) -> pl.DataFrame:
    """Every member with its tree parent and relation (the tree drawing's input)."""
    return frame(
        wh,
        """
        select model_id, tree_parent_model_id, tree_parent_relation as relation, depth, downloads,
            license_category, pipeline_tag, created_at
        from dim_models
        where family_id = ?
        order by depth, downloads desc nulls last, model_id
        """,
        (family_id,),
    )


def family_growth(wh: WarehouseFile, family_id: str) -> pl.DataFrame:
    return frame(
        wh,
        """
        select cast(date_trunc('month', created_at) as date) as month, count(*) as new_members,
            sum(count(*)) over (order by date_trunc('month', created_at)) as members
        from dim_models
        where family_id = ? and created_at is not null
        group by date_trunc('month', created_at)
        order by 1
        """,
        (family_id,),
    )


def family_conflicts(wh: WarehouseFile, family_id: str) -> int:
    return int(
        scalar(
            wh,
            """
            select count(*) from fct_license_conflicts as c
            inner join dim_models as m on m.model_id = c.child_model_id
            where m.family_id = ?
            """,
            (family_id,),
        )
        or 0
    )


# --- drift -------------------------------------------------------------------------------------------

TRAITS = {
    "license_ids": ("Licence", "license"),
    "language_codes": ("Language", "language"),
    "pipeline_tag": ("Task", "task"),
    "library_name": ("Library", "library"),
}


def transitions(wh: WarehouseFile, trait: str, top: int = 15) -> tuple[pl.DataFrame, str]:
    """(source, target, n_transitions) among the ``top`` busiest values of ``trait``, and where it came from.

    From ``analytics.trait_transitions`` (the paper's counting) when built, else from the
    ``fct_trait_transitions`` mart (finetune edges whose value changed, value sets as written).
    """
    if has_table(wh, "analytics.trait_transitions"):
        source = "analytics.trait_transitions"
        base = "select source, target, n_transitions from analytics.trait_transitions where trait = ?"
        params: tuple[Any, ...] = (trait,)
    else:
        source = "fct_trait_transitions (mart; value sets as written)"
        mart_trait = TRAITS[trait][1]
        base = """
            select parent_value as source, child_value as target, count(*) as n_transitions
            from fct_trait_transitions
            where trait = ? and relation = 'finetune' and is_both_present and is_changed
            group by 1, 2
        """
        params = (mart_trait,)
    sql = f"""
        with t as ({base}),
        busiest as (
            select value from (
                select source as value, n_transitions from t
                union all select target, n_transitions from t
            ) group by value order by sum(n_transitions) desc, value limit ?
        )
        select t.* from t
        where source in (select value from busiest) and target in (select value from busiest)
        order by n_transitions desc
    """
    return frame(wh, sql, (*params, top)), source


def reproduction(wh: WarehouseFile) -> pl.DataFrame | None:
    """The paper's published values beside ours (``analytics.reproduction``), or ``None``."""
    return analytics(wh, "reproduction", "paper_row")


def paper_values(wh: WarehouseFile, prefix: str) -> pl.DataFrame | None:
    """Reproduction rows whose metric starts with ``prefix``."""
    rows = reproduction(wh)
    if rows is None:
        return None
    return rows.filter(pl.col("metric").str.starts_with(prefix))


def card_drift_from_marts(wh: WarehouseFile) -> pl.DataFrame:
    """Card length and auto-generated share, parent → child by relation, when analytics are absent."""
    return frame(
        wh,
        """
        select relation, count(*) as n_edges,
            avg(parent_card_length_characters) as parent_length_mean,
            avg(child_card_length_characters) as child_length_mean,
            avg(parent_is_auto_generated::int) as parent_auto_generated_share,
            avg(child_is_auto_generated::int) as child_auto_generated_share
        from fct_card_drift
        where is_both_carded
        group by 1 order by n_edges desc
        """,
    )


def mutation_rates_from_marts(wh: WarehouseFile) -> pl.DataFrame:
    return frame(
        wh,
        """
        select relation as edges, trait, count(*) as n_edges, count(*) filter (where is_changed) as n_changed,
            avg(mutation) as mutation_rate
        from fct_trait_transitions
        where is_both_present and trait in ('license', 'language', 'task', 'library')
        group by 1, 2 order by 1, 2
        """,
    )


# --- licences ----------------------------------------------------------------------------------------


def conflicts_by_rule(wh: WarehouseFile) -> pl.DataFrame:
    if has_table(wh, "analytics.license_conflicts_by_rule"):
        return frame(wh, "select * from analytics.license_conflicts_by_rule order by rule_id")
    return frame(
        wh,
        """
        select r.rule_id, r.severity, r.explanation,
            count(c.conflict_id) as n_conflicts, count(distinct c.edge_id) as n_edges,
            count(distinct c.child_model_id) as n_children
        from reference.license_obligation_rules as r
        left join fct_license_conflicts as c using (rule_id)
        group by all order by r.rule_id
        """,
    )


def conflicts_by_family(wh: WarehouseFile, limit: int = 25) -> pl.DataFrame:
    if has_table(wh, "analytics.license_conflicts_by_family"):
        return frame(
            wh,
            "select * from analytics.license_conflicts_by_family order by n_conflicts desc, family_id limit ?",
            (limit,),
        )
    return frame(
        wh,
        """
        select m.family_id, count(*) as n_conflicts, count(distinct c.edge_id) as n_edges,
            count(distinct c.child_model_id) as n_children, count(distinct c.rule_id) as n_rules
        from fct_license_conflicts as c inner join dim_models as m on m.model_id = c.child_model_id
        group by 1 order by n_conflicts desc, family_id limit ?
        """,
        (limit,),
    )


def conflict_rules(wh: WarehouseFile) -> pl.DataFrame:
    return frame(wh, "select rule_id, severity, explanation from reference.license_obligation_rules order by rule_id")


def conflict_edges(
    wh: WarehouseFile, text: str = "", rules: tuple[str, ...] = (), severities: tuple[str, ...] = (), limit: int = 500
) -> tuple[pl.DataFrame, int]:
    """Conflicting edges matching the filters (most downloaded children first) and how many match in all."""
    where = ["(? = '' or contains(lower(c.child_model_id), lower(?)) or contains(lower(c.parent_model_id), lower(?)))"]
    params: list[Any] = [text, text, text]
    if rules:
        where.append("list_contains(?, c.rule_id)")
        params.append(list(rules))
    if severities:
        where.append("list_contains(?, c.severity)")
        params.append(list(severities))
    condition = " and ".join(where)
    total = scalar(wh, f"select count(*) from fct_license_conflicts as c where {condition}", tuple(params))
    rows = frame(
        wh,
        f"""
        select c.child_model_id, c.parent_model_id, c.relation, c.rule_id, c.severity,
            c.parent_license_id, c.child_license_ids, c.explanation
        from fct_license_conflicts as c
        where {condition}
        order by c.severity = 'high' desc, c.rule_id, c.child_model_id
        limit ?
        """,
        (*params, limit),
    )
    return rows, int(total or 0)


# --- safety ------------------------------------------------------------------------------------------


def nest_published(wh: WarehouseFile) -> pl.DataFrame:
    """NeST's published figures (``reference.nest_published_figures``), population means only."""
    return frame(wh, "select * from reference.nest_published_figures order by paper_version, population, metric")


def safety_evaluations(wh: WarehouseFile) -> pl.DataFrame:
    return frame(wh, "select * from reference.safety_evaluations order by model_id, method")


def safety_evaluation_columns(wh: WarehouseFile) -> list[str]:
    return frame(
        wh,
        "select column_name from duckdb_columns() where database_name = 'warehouse' "
        "and schema_name = 'reference' and table_name = 'safety_evaluations' order by column_index",
    )["column_name"].to_list()


# --- schema (SQL console browser) --------------------------------------------------------------------


def schema(wh: WarehouseFile) -> pl.DataFrame:
    return frame(
        wh,
        """
        select c.schema_name as schema, c.table_name as "table", c.column_name as "column",
            c.data_type as type, c.comment as description
        from duckdb_columns() as c
        where c.database_name = 'warehouse'
        order by case c.schema_name when 'main' then 0 when 'analytics' then 1 when 'reference' then 2
                when 'staging' then 3 else 4 end,
            c.schema_name, c.table_name, c.column_index
        """,
    )
