-- sqlfluff:indentation:template_blocks_indent:False
{#- Every model the landing ever listed, with its first and last sighting: listing crawls,
    counters sweeps and id sweeps. One row per model id.

    Incremental (issue 13): each sweep lists every model every night, so recounting all sightings
    would grow with the nights. A build aggregates only the landing rows added since the previous
    build (new_landing_rows: each landing row is aggregated exactly once) and merges them into the
    rows of the models they saw: earliest first sighting, latest last sighting, summed sightings,
    the object id of the latest sighting that had one. Ties between sightings in one crawl go to the
    row landed last, as in a full refresh. -#}
{{ config(
    materialized='incremental',
    unique_key='model_id',
    incremental_strategy='delete+insert',
    on_schema_change='fail',
) }}

with

crawls as (

    select crawl_id, started_at from {{ ref('stg_hub__crawls') }}

),

new_sightings as (

    select model_id, model_object_id, crawl_id, 3 as source_rank, landing_row_id
    from {{ ref('stg_hub__model_snapshots') }}
    where {{ new_landing_rows('raw_models') }}

    union all

    select model_id, model_object_id, crawl_id, 1 as source_rank, landing_row_id
    from {{ ref('stg_hub__counter_snapshots') }}
    where {{ new_landing_rows('raw_model_counters') }}

    union all

    select model_id, model_object_id, crawl_id, 2 as source_rank, landing_row_id
    from {{ ref('stg_hub__id_sweeps') }}
    where {{ new_landing_rows('raw_id_sweeps') }}

),

new_per_model as (

    select
        new_sightings.model_id,
        arg_max(
            new_sightings.model_object_id,
            (crawls.started_at, new_sightings.source_rank, new_sightings.landing_row_id)
        ) filter (where new_sightings.model_object_id is not null) as model_object_id,
        max(crawls.started_at) filter (
            where new_sightings.model_object_id is not null
        ) as model_object_id_seen_at,
        count(*) as sightings,
        min(crawls.started_at) as first_seen_at,
        max(crawls.started_at) as last_seen_at
    from new_sightings
    inner join crawls on new_sightings.crawl_id = crawls.crawl_id
    group by 1

),

{% if is_incremental() %}

merged as (

    select
        new_per_model.model_id,
        case
            when new_per_model.model_object_id is null then previous.model_object_id
            when previous.model_object_id_seen_at > new_per_model.model_object_id_seen_at
                then previous.model_object_id
            else new_per_model.model_object_id
        end as model_object_id,
        greatest(previous.model_object_id_seen_at, new_per_model.model_object_id_seen_at)
            as model_object_id_seen_at,
        coalesce(previous.sightings, 0) + new_per_model.sightings as sightings,
        least(previous.first_seen_at, new_per_model.first_seen_at) as first_seen_at,
        greatest(previous.last_seen_at, new_per_model.last_seen_at) as last_seen_at
    from new_per_model
    left join {{ this }} as previous on new_per_model.model_id = previous.model_id

),

{% else %}

merged as (

    select * from new_per_model

),

{% endif %}

final as (

    select
        -- ids
        model_id,
        model_object_id,

        -- numerics
        sightings,

        -- timestamps
        model_object_id_seen_at,
        first_seen_at,
        last_seen_at

    from merged

)

select * from final
