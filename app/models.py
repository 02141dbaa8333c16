"""What Model lookup reads: finding a model by id (prefix, substring, fuzzy), then its row, lineage,
licence conflicts, versions, counter history (validity intervals), lifecycle and card.
"""

from __future__ import annotations

from typing import Any

import polars as pl
import streamlit as st
from rapidfuzz import fuzz, process, utils

from hubgenome.app.warehouse import WarehouseFile, frame, has_table, row, scalar

#: Fuzzy search scores model ids of the most downloaded models only (prefix and substring search cover all).
FUZZY_CANDIDATES = 100_000


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
    return row(wh, "select * from dim_models where model_id = ?", (model_id,))


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


# --- its history (nightly history marts) ---------------------------------------------------------------


def model_counters(wh: WarehouseFile, model_id: str) -> pl.DataFrame | None:
    """The model's counter history as validity intervals (``fct_model_counters``), oldest first; ``None``
    when the mart is absent (a warehouse from before the nightly pipeline, or with an older hubgenome's
    day-by-day ``fct_model_daily_counters``).

    Each row is a run of consecutive observations with the same counters: first observed at
    ``valid_from``, last at ``last_observed_at``, replaced at ``valid_to`` (null while current).
    """
    if not has_table(wh, "fct_model_counters"):
        return None
    return frame(
        wh,
        """
        select valid_from, last_observed_at, valid_to, downloads_30d, downloads_all_time, likes, trending_score,
            downloads_all_time_delta, likes_delta, observation_source, crawl_id
        from fct_model_counters
        where model_id = ?
        order by valid_from
        """,
        (model_id,),
    )


def counter_steps(intervals: pl.DataFrame) -> pl.DataFrame:
    """The intervals of :func:`model_counters` as the points of a step series: one at each interval's
    first observation (``valid_from``) and one at its last (``last_observed_at``) when later.

    Between an interval's last observation and the next one's first, the value is not known: a
    step-after line keeps the old value until the new one was seen.

    Examples
    --------
    >>> import datetime as dt
    >>> day = lambda d: dt.datetime(2025, 7, d, 3, tzinfo=dt.UTC)
    >>> intervals = pl.DataFrame(
    ...     {
    ...         "valid_from": [day(1), day(3)],
    ...         "last_observed_at": [day(2), day(3)],
    ...         "downloads_30d": [10, 12],
    ...         "downloads_all_time": [100, 112],
    ...         "likes": [1, 2],
    ...     }
    ... )
    >>> counter_steps(intervals).select(pl.col("observed_at").dt.day(), "observation", "likes").rows()
    [(1, 'first', 1), (2, 'last', 1), (3, 'first', 2)]
    """
    values = ["downloads_30d", "downloads_all_time", "likes"]
    first = intervals.select(pl.col("valid_from").alias("observed_at"), pl.lit("first").alias("observation"), *values)
    last = intervals.filter(pl.col("last_observed_at") > pl.col("valid_from")).select(
        pl.col("last_observed_at").alias("observed_at"), pl.lit("last").alias("observation"), *values
    )
    return pl.concat([first, last]).sort("observed_at")


def model_lifecycle(wh: WarehouseFile, model_id: str) -> dict[str, Any] | None:
    """The model's ``dim_model_lifecycle`` row plus ``renamed_from`` (ids renamed to it); ``None`` when absent."""
    if not has_table(wh, "dim_model_lifecycle"):
        return None
    lifecycle = row(wh, "select * from dim_model_lifecycle where model_id = ?", (model_id,))
    if lifecycle is None:
        return None
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
