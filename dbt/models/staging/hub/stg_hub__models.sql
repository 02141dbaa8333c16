{#- Latest state of each model: its snapshot from the newest crawl that saw it. Incremental crawls
    only list changed models, so the latest state combines crawls; rows of failed or still-running
    crawls count too (they are real observations). A model missing from a later full crawl is kept
    (deletions are detected by a later id sweep, which will add an is_deleted flag here). -#}
with

snapshots as (

    select * from {{ ref('stg_hub__model_snapshots') }}

),

crawls as (

    select crawl_id, started_at from {{ ref('stg_hub__crawls') }}

),

sightings as (

    select
        snapshots.model_id,
        snapshots.landing_row_id,
        snapshots.crawl_id,
        crawls.started_at as crawl_started_at
    from snapshots
    inner join crawls on snapshots.crawl_id = crawls.crawl_id

),

latest_sightings as (

    {#- Narrow aggregation first, then one join: much cheaper than a window over the wide rows. -#}
    select
        model_id,
        arg_max(landing_row_id, (crawl_started_at, landing_row_id)) as landing_row_id,
        max(crawl_started_at) as crawl_started_at,
        min(crawl_started_at) as first_seen_at,
        count(distinct crawl_id) as crawls_seen
    from sightings
    group by 1

),

ranked as (

    select
        snapshots.*,
        latest_sightings.crawl_started_at,
        latest_sightings.first_seen_at,
        latest_sightings.crawls_seen
    from latest_sightings
    inner join snapshots on latest_sightings.landing_row_id = snapshots.landing_row_id

),

final as (

    select
        -- ids
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
        crawls_seen,

        -- booleans
        is_private,
        is_disabled,
        is_gated,
        has_safetensors,
        has_gguf,

        -- timestamps
        created_at,
        last_modified_at,
        first_seen_at,
        crawl_started_at as last_seen_at

    from ranked

)

select * from final
