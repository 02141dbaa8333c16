"""What the Overview (and the sidebar) read: the snapshot, headline counts, growth, top-10 panels,
crawls, nightly pipeline runs and the ecosystem's counters per day.
"""

from __future__ import annotations

from typing import Any

import polars as pl

from hubgenome.app.warehouse import WarehouseFile, analytics_table, frame, has_column, has_table, scalar

SYNTHETIC_TAG = "hubgenome-synthetic"


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
    info = analytics_table(wh, "run_info")
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


def top_parents(wh: WarehouseFile, n: int = 10) -> pl.DataFrame | None:
    """Most-derived parents over all relations (``analytics.top_parents``); ``None`` when the warehouse lacks it."""
    if not has_table(wh, "analytics.top_parents"):
        return None
    return frame(
        wh,
        "select parent_model_id, n_children from analytics.top_parents where relation = 'all' order by rank limit ?",
        (n,),
    )


# --- nightly pipeline runs and the ecosystem's counters per day (history marts) ------------------------


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
    """Per crawl day (``fct_ecosystem_daily``) with counters: the models with counters at the day's end
    and their summed downloads and likes; ``None`` when the warehouse's ``fct_ecosystem_daily`` lacks
    them (built by an older hubgenome).

    The sums are the mart's (``fct_model_counters``' intervals valid at each day's end), one row per
    day: nothing here scans the counter history.
    """
    if not has_column(wh, "fct_ecosystem_daily", "models_with_counters"):
        return None
    return frame(
        wh,
        """
        select crawl_date, models_with_counters, downloads_30d, downloads_all_time, likes
        from fct_ecosystem_daily
        where models_with_counters > 0
        order by crawl_date
        """,
    )
