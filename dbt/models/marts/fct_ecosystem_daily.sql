-- sqlfluff:indentation:template_blocks_indent:False
{#- Ecosystem counts as of the end of each day a crawl started, from fct_model_history: the model
    versions valid at that moment. Edges are the parents declared by those versions; a parent
    resolves when a model valid that day has the id (exactly or ignoring case). A family is a
    model with no resolvable, non-self parent (cycles are not broken here, so a day with cycles
    counts slightly fewer families than dim_families). The counter sums are those of
    fct_model_counters' intervals valid at the end of the day (an interval ends when a counters
    sweep no longer lists its model, so a model gone by then is not counted).

    Incremental (issue 13): a day's counts depend only on observations made by its end, so a build
    recomputes only the days from the earliest crawl whose landing rows it reads (or the last day
    already built, whichever is earlier) onwards; delete+insert on crawl_date replaces them. -#}
-- depends_on: {{ ref('stg_hub__model_snapshots') }}
-- depends_on: {{ ref('stg_hub__counter_snapshots') }}
-- depends_on: {{ ref('stg_hub__id_sweeps') }}
{{ config(
    materialized='incremental',
    unique_key='crawl_date',
    incremental_strategy='delete+insert',
    on_schema_change='fail',
) }}

with

crawls as (

    select * from {{ ref('stg_hub__crawls') }}

),

history as (

    select * from {{ ref('fct_model_history') }}

),

counters as (

    select * from {{ ref('fct_model_counters') }}

),

{% if is_incremental() %}

new_crawl_ids as (

    select crawl_id from {{ ref('stg_hub__model_snapshots') }}
    where {{ new_landing_rows('raw_models') }}
    union
    select crawl_id from {{ ref('stg_hub__counter_snapshots') }}
    where {{ new_landing_rows('raw_model_counters') }}
    union
    select crawl_id from {{ ref('stg_hub__id_sweeps') }}
    where {{ new_landing_rows('raw_id_sweeps') }}

),

first_day_to_build as (

    select least(
        (select max(crawl_date) from {{ this }}),
        (
            select min(cast(timezone('UTC', started_at) as date)) from crawls
            where crawl_id in (select crawl_id from new_crawl_ids)
        )
    ) as crawl_date

),

{% endif %}

crawl_days as (

    select
        cast(timezone('UTC', started_at) as date) as crawl_date,
        count(*) as crawls_started,
        count(*) filter (where is_succeeded) as crawls_succeeded
    from crawls
    group by 1
    {% if is_incremental() %}
    having crawl_date >= coalesce((select crawl_date from first_day_to_build), '-infinity'::date)
    {% endif %}

),

day_ends as (

    select crawl_date, timezone('UTC', crawl_date + interval 1 day) as day_end from crawl_days

),

counter_totals as (

    select
        day_ends.crawl_date,
        count(*) as models_with_counters,
        sum(counters.downloads_30d) as downloads_30d,
        sum(counters.downloads_all_time) as downloads_all_time,
        sum(counters.likes) as likes
    from day_ends
    inner join counters
        on day_ends.day_end > counters.valid_from
            and (counters.valid_to is null or day_ends.day_end <= counters.valid_to)
    group by 1

),

versions_as_of as (

    select
        crawl_days.crawl_date,
        history.model_id,
        history.license_category,
        history.parent_references
    from crawl_days
    inner join history
        on history.valid_from < timezone('UTC', crawl_days.crawl_date + interval 1 day)
            and (
                history.valid_to is null
                or history.valid_to >= timezone('UTC', crawl_days.crawl_date + interval 1 day)
            )

),

models_lower as (

    select crawl_date, lower(model_id) as model_id_lower
    from versions_as_of
    group by 1, 2

),

declared_edges as (

    select
        crawl_date,
        model_id,
        unnest(parent_references) as parent_reference
    from versions_as_of

),

resolved_edges as (

    select
        declared_edges.crawl_date,
        declared_edges.model_id,
        models_lower.model_id_lower is not null as is_resolved,
        lower(declared_edges.parent_reference) = lower(declared_edges.model_id) as is_self_loop
    from declared_edges
    left join models_lower
        on declared_edges.crawl_date = models_lower.crawl_date
            and lower(declared_edges.parent_reference) = models_lower.model_id_lower

),

edge_counts as (

    select
        crawl_date,
        count(*) filter (where not is_self_loop) as edges,
        count(*) filter (where not is_self_loop and not is_resolved) as dangling_edges,
        count(distinct model_id) filter (where is_resolved and not is_self_loop) as models_with_parent
    from resolved_edges
    group by 1

),

model_counts as (

    select
        crawl_date,
        count(*) as models,
        count(*) filter (where license_category = 'commercial_custom') as commercial_custom_models,
        count(*) filter (where license_category = 'use_restricted') as use_restricted_models,
        count(*) filter (where license_category = 'copyleft') as copyleft_models,
        count(*) filter (where license_category = 'permissive') as permissive_models,
        count(*) filter (where license_category = 'other_unknown') as other_unknown_models,
        count(*) filter (where license_category is null) as unlicensed_models
    from versions_as_of
    group by 1

),

final as (

    select
        -- ids
        crawl_days.crawl_date,

        -- numerics
        crawl_days.crawls_started,
        crawl_days.crawls_succeeded,
        coalesce(model_counts.models, 0) as models,
        coalesce(edge_counts.edges, 0) as edges,
        coalesce(edge_counts.dangling_edges, 0) as dangling_edges,
        coalesce(model_counts.models, 0) - coalesce(edge_counts.models_with_parent, 0) as families,
        coalesce(model_counts.commercial_custom_models, 0) as commercial_custom_models,
        coalesce(model_counts.use_restricted_models, 0) as use_restricted_models,
        coalesce(model_counts.copyleft_models, 0) as copyleft_models,
        coalesce(model_counts.permissive_models, 0) as permissive_models,
        coalesce(model_counts.other_unknown_models, 0) as other_unknown_models,
        coalesce(model_counts.unlicensed_models, 0) as unlicensed_models,
        coalesce(counter_totals.models_with_counters, 0) as models_with_counters,
        counter_totals.downloads_30d,
        counter_totals.downloads_all_time,
        counter_totals.likes

    from crawl_days
    left join model_counts on crawl_days.crawl_date = model_counts.crawl_date
    left join edge_counts on crawl_days.crawl_date = edge_counts.crawl_date
    left join counter_totals on crawl_days.crawl_date = counter_totals.crawl_date

)

select * from final
