"""What Model lookup reads: finding a model by id (prefix, substring, fuzzy), then its row, lineage,
licence conflicts, versions, counter history (validity intervals), lifecycle and card.
"""

from __future__ import annotations

import datetime as dt
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
    ``valid_from``, ended at ``valid_to`` (null while current) because other values were observed or
    because a counters sweep no longer listed the model (``ended_by``).
    """
    if not has_table(wh, "fct_model_counters"):
        return None
    return frame(
        wh,
        """
        select * exclude (model_counter_id, model_id)
        from fct_model_counters
        where model_id = ?
        order by valid_from
        """,
        (model_id,),
    )


def counter_steps(intervals: pl.DataFrame, last_seen_at: dt.datetime | None = None) -> pl.DataFrame:
    """The intervals of :func:`model_counters` as the points of a step series: one at each interval's
    first observation (``valid_from``), one where an interval ended because the model was no longer
    listed (``ended_by`` 'not_listed': the value held until then, and nothing after), and one at
    ``last_seen_at`` (the model's last sighting) for the current interval when later than its start.

    Between an interval's start and the next one's, the value is the interval's: a step-after line
    keeps it until a different one was seen.

    Examples
    --------
    >>> import datetime as dt
    >>> day = lambda d: dt.datetime(2025, 7, d, 3, tzinfo=dt.UTC)
    >>> intervals = pl.DataFrame(
    ...     {
    ...         "valid_from": [day(1), day(3), day(6)],
    ...         "valid_to": [day(3), day(4), None],
    ...         "ended_by": ["changed", "not_listed", None],
    ...         "downloads_30d": [10, 12, 12],
    ...         "downloads_all_time": [100, 112, 130],
    ...         "likes": [1, 2, 2],
    ...     }
    ... )
    >>> steps = counter_steps(intervals, last_seen_at=day(8))
    >>> steps.select(pl.col("observed_at").dt.day(), "observation", "likes").rows()
    [(1, 'first', 1), (3, 'first', 2), (4, 'no longer listed', 2), (6, 'first', 2), (8, 'last seen', 2)]
    """
    values = ["downloads_30d", "downloads_all_time", "likes"]
    first = intervals.select(pl.col("valid_from").alias("observed_at"), pl.lit("first").alias("observation"), *values)
    points = [first]
    if "ended_by" in intervals.columns:
        points.append(
            intervals.filter(pl.col("ended_by") == "not_listed").select(
                pl.col("valid_to").alias("observed_at"), pl.lit("no longer listed").alias("observation"), *values
            )
        )
    if last_seen_at is not None:
        points.append(
            intervals.filter(pl.col("valid_to").is_null() & (pl.col("valid_from") < last_seen_at)).select(
                pl.lit(last_seen_at).cast(intervals.schema["valid_from"]).alias("observed_at"),
                pl.lit("last seen").alias("observation"),
                *values,
            )
        )
    return pl.concat(points).sort("observed_at")


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
