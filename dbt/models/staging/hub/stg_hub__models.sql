{#- Latest state of each model: its snapshot from the newest crawl that saw it. Incremental crawls
    only list changed models, so the latest state combines crawls; rows of failed or still-running
    crawls count too (they are real observations). A model missing from a later full crawl is kept
    (deletions are detected by a later id sweep, which will add an is_deleted flag here).
    A view: stg_hub__model_snapshots already parsed every sighting and marked each model's latest
    one, so this is a filter and a rename, not a second copy of the wide rows. -#}
with

snapshots as (

    select * from {{ ref('stg_hub__model_snapshots') }}
    where is_latest_sighting

),

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
        model_crawls_seen as crawls_seen,

        -- booleans
        is_private,
        is_disabled,
        is_gated,
        has_safetensors,
        has_gguf,

        -- timestamps
        created_at,
        last_modified_at,
        model_first_seen_at as first_seen_at,
        crawl_started_at as last_seen_at

    from snapshots

)

select * from final
