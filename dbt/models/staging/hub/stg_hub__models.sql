-- sqlfluff:indentation:template_blocks_indent:False
{#- Latest state of each model: its snapshot from the newest crawl that saw it (the last row that
    crawl landed). Incremental crawls only list changed models, so the latest state combines
    crawls; rows of failed or still-running crawls count too (they are real observations). A model
    missing from a later full crawl is kept (deletions are dated by id sweeps in
    dim_model_lifecycle).
    Incremental (issue 13): a build reads only the sightings stg_hub__model_snapshots appended for
    it and merges them into the rows of the models they saw: the newer latest sighting wins, first
    sighting is the earliest, sightings add up, and a crawl is counted once even when its rows
    arrive in two builds (a crawl resumed across them, which can only be the model's last one). -#}
{{ config(
    materialized='incremental',
    unique_key='model_id',
    incremental_strategy='delete+insert',
    on_schema_change='fail',
) }}

with

new_snapshots as (

    select * from {{ ref('stg_hub__model_snapshots') }}
    where {{ new_landing_rows('raw_models') }}

),

new_per_model as (

    select
        model_id,
        arg_max(landing_row_id, (crawl_started_at, landing_row_id)) as latest_landing_row_id,
        min(crawl_started_at) as first_seen_at,
        count(*) as sightings,
        list(distinct crawl_id) as crawl_ids
    from new_snapshots
    group by 1

),

latest as (

    select
        new_per_model.first_seen_at as new_first_seen_at,
        new_per_model.sightings as new_sightings,
        new_per_model.crawl_ids as new_crawl_ids,
        new_snapshots.*
    from new_per_model
    inner join new_snapshots on new_per_model.latest_landing_row_id = new_snapshots.landing_row_id

),

{% if is_incremental() %}

merged as (

    {#- A stored row newer than the new latest sighting cannot happen: the build falls back to a
        full refresh when new rows are older than ones already processed. -#}
    select
        latest.*,
        least(previous.first_seen_at, latest.new_first_seen_at) as merged_first_seen_at,
        coalesce(previous.sightings, 0) + latest.new_sightings as merged_sightings,
        coalesce(previous.crawls_seen, 0) + len(latest.new_crawl_ids)
        - coalesce(list_contains(latest.new_crawl_ids, previous.last_seen_crawl_id)::integer, 0)
            as merged_crawls_seen
    from latest
    left join {{ this }} as previous on latest.model_id = previous.model_id

),

{% else %}

merged as (

    select
        *,
        new_first_seen_at as merged_first_seen_at,
        new_sightings as merged_sightings,
        len(new_crawl_ids) as merged_crawls_seen
    from latest

),

{% endif %}

final as (

    select
        -- ids
        landing_row_id as model_key,
        model_id,
        crawl_id as last_seen_crawl_id,
        model_object_id,
        author,
        model_sha,

        -- text
        pipeline_tag,
        library_name,
        gated_mode,
        tags,
        card_data,
        card_base_models,
        card_base_model_relation,
        card_licenses,
        card_languages,

        -- numerics
        downloads,
        downloads_all_time,
        likes,
        trending_score,
        safetensors_parameters,
        merged_crawls_seen as crawls_seen,
        merged_sightings as sightings,

        -- booleans
        is_private,
        is_disabled,
        is_gated,
        has_safetensors,
        has_gguf,

        -- timestamps
        created_at,
        last_modified_at,
        merged_first_seen_at as first_seen_at,
        crawl_started_at as last_seen_at

    from merged

)

select * from final
