{#- The traits compared along lineage edges, one row per model: those of its latest sighting in
    int_model_snapshots__traits (where the rules are). A view: a filter, not a second copy.
    model_key (the latest sighting's landing row, as in stg_hub__models) lets the marts join it on
    an integer instead of the model id string. -#}
with

snapshot_traits as (

    select * from {{ ref('int_model_snapshots__traits') }}
    where is_latest_sighting

),

final as (

    select
        -- ids
        landing_row_id as model_key,
        model_id,

        -- text
        license_ids,
        primary_license_id,
        license_category,
        language_codes,
        language_names,
        pipeline_tag,
        library_name,

        -- numerics
        license_count,
        language_count,
        dataset_count,
        arxiv_count,

        -- booleans
        has_license

    from snapshot_traits

)

select * from final
