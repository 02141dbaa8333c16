"""What Family explorer reads: families (largest first, or by search), a family's row, members, growth,
licence conflicts and its series per observed day.

Every fact about a family comes from the marts: ``dim_families`` (singletons included, with
``is_singleton``), ``dim_models`` for members, and for the daily series ``fct_family_daily`` (a view,
read for one family at a time) or, for a single-model family, which that mart leaves out, its
model's ``fct_model_counters`` intervals as of the end of each crawl day, with the licence category
of its ``fct_model_history`` version valid then.
"""

from __future__ import annotations

from typing import Any

import polars as pl

from hubgenome.app.warehouse import WarehouseFile, frame, has_table, row, scalar

#: Licence categories of ``fct_family_daily`` (its ``<category>_models`` columns), in display order.
LICENSE_CATEGORIES = (
    "permissive",
    "copyleft",
    "use_restricted",
    "commercial_custom",
    "other_unknown",
    "unlicensed",
)


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
    """Every column of the family's ``dim_families`` row, or ``None``."""
    return row(wh, "select * from dim_families where family_id = ?", (family_id,))


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


# --- its series per observed day (nightly history marts) ----------------------------------------------

_FAMILY_DAILY_SQL = """
    select counter_date, models_observed, downloads_30d, downloads_all_time, likes,
        permissive_models, copyleft_models, use_restricted_models, commercial_custom_models,
        other_unknown_models, unlicensed_models
    from fct_family_daily
    where family_id = ?
    order by counter_date
"""
#: A single model's series as rows of fct_family_daily, computed as that view computes a larger family's:
#: on each crawl day (fct_ecosystem_daily), the model's fct_model_counters interval valid at the day's end
#: (none before its first observation, nor while the counters sweeps no longer listed it), counted in the
#: licence category of its fct_model_history version valid then. Every table is read for this one model,
#: or is one row per day.
_SINGLE_MODEL_DAILY_SQL = """
    with
    days as (
        select crawl_date as counter_date, timezone('UTC', crawl_date + interval 1 day) as day_end
        from fct_ecosystem_daily
    ),
    counters as (
        select valid_from, valid_to, downloads_30d, downloads_all_time, likes
        from fct_model_counters where model_id = ?
    ),
    versions as (
        select valid_from, valid_to, license_category from fct_model_history where model_id = ?
    ),
    observed as (
        select days.counter_date, days.day_end, counters.downloads_30d, counters.downloads_all_time, counters.likes
        from days
        inner join counters
            on counters.valid_from < days.day_end
                and (counters.valid_to is null or counters.valid_to >= days.day_end)
    ),
    licensed as (
        select observed.*, versions.license_category
        from observed
        left join versions
            on versions.valid_from < observed.day_end
                and (versions.valid_to is null or versions.valid_to >= observed.day_end)
    )
    select
        counter_date,
        1::bigint as models_observed,
        downloads_30d,
        downloads_all_time,
        likes,
        coalesce(license_category = 'permissive', false)::bigint as permissive_models,
        coalesce(license_category = 'copyleft', false)::bigint as copyleft_models,
        coalesce(license_category = 'use_restricted', false)::bigint as use_restricted_models,
        coalesce(license_category = 'commercial_custom', false)::bigint as commercial_custom_models,
        coalesce(license_category = 'other_unknown', false)::bigint as other_unknown_models,
        (license_category is null)::bigint as unlicensed_models
    from licensed
    order by counter_date
"""


def family_daily(wh: WarehouseFile, family_id: str) -> pl.DataFrame | None:
    """The family's series per crawl day, columns as ``fct_family_daily``; ``None`` when the warehouse
    lacks the marts (or has the day-by-day counters of an older hubgenome).

    A larger family reads ``fct_family_daily``, a view meant to be read for one family at a time
    (filtered on ``family_id``, never scanned whole). A single-model family
    (``dim_families.is_singleton``) is not in it: its series is its model's ``fct_model_counters``
    intervals expanded to the crawl days of ``fct_ecosystem_daily`` where one is valid at the day's end.
    """
    if not has_table(wh, "fct_family_daily") or not has_table(wh, "fct_model_counters"):
        return None
    if scalar(wh, "select is_singleton from dim_families where family_id = ?", (family_id,)):
        return frame(wh, _SINGLE_MODEL_DAILY_SQL, (family_id, family_id))
    return frame(wh, _FAMILY_DAILY_SQL, (family_id,))


def family_license_mix_daily(wh: WarehouseFile, family_id: str) -> pl.DataFrame:
    """(counter_date, license_category, models) of the family per observed day, categories with no model left out."""
    daily = family_daily(wh, family_id)
    if daily is None:
        return pl.DataFrame(schema={"counter_date": pl.Date, "license_category": pl.String, "models": pl.Int64})
    return (
        daily.unpivot(
            on=[f"{category}_models" for category in LICENSE_CATEGORIES],
            index="counter_date",
            variable_name="license_category",
            value_name="models",
        )
        .with_columns(pl.col("license_category").str.strip_suffix("_models"), pl.col("models").cast(pl.Int64))
        .filter(pl.col("models") > 0)
        .sort("counter_date", "license_category")
    )
