-- sqlfluff:indentation:template_blocks_indent:False
{#- The traits compared along lineage edges, one row per model: those of its latest sighting
    (stg_hub__models.model_key) in int_model_snapshots__traits (where the rules are). model_key
    (the latest sighting's landing row) lets the marts join it on an integer instead of the model
    id string.
    Incremental (issue 13): a build replaces the rows of the models whose latest sighting it
    appended; a table, since dim_models, dim_families and fct_lineage_edges all read it and a view
    would search every sighting ever derived for the latest ones on each read. -#}
{{ config(
    materialized='incremental',
    unique_key='model_id',
    incremental_strategy='delete+insert',
    on_schema_change='fail',
) }}

with

snapshot_traits as (

    select * from {{ ref('int_model_snapshots__traits') }}
    where {{ new_landing_rows('raw_models') }}

),

latest_sightings as (

    select model_key from {{ ref('stg_hub__models') }}

),

final as (

    select
        -- ids
        snapshot_traits.landing_row_id as model_key,
        snapshot_traits.model_id,

        -- text
        snapshot_traits.license_ids,
        snapshot_traits.primary_license_id,
        snapshot_traits.license_category,
        snapshot_traits.language_codes,
        snapshot_traits.language_names,
        snapshot_traits.pipeline_tag,
        snapshot_traits.library_name,

        -- numerics
        snapshot_traits.license_count,
        snapshot_traits.language_count,
        snapshot_traits.dataset_count,
        snapshot_traits.arxiv_count,

        -- booleans
        snapshot_traits.has_license

    from snapshot_traits
    semi join latest_sightings on snapshot_traits.landing_row_id = latest_sightings.model_key

)

select * from final
