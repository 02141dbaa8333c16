-- sqlfluff:indentation:template_blocks_indent:False
{#- One row per landed public listing object (a crawl may list a model twice when the listing shifts under
    it; stg_hub__models keeps the last one). The listing JSON is parsed exactly once, here, with
    one json_transform into a typed struct, and appended: a build parses only the rows landed
    since the previous build. safetensors and gguf are read as structs of the one field used:
    keeping them as JSON re-serializes their sub-objects, a third of the parse. -#}
{%- set payload_shape = {
    "_id": "VARCHAR", "author": "VARCHAR", "sha": "VARCHAR", "createdAt": "TIMESTAMPTZ",
    "lastModified": "TIMESTAMPTZ", "private": "BOOLEAN", "gated": "VARCHAR", "disabled": "BOOLEAN",
    "downloads": "BIGINT", "downloadsAllTime": "BIGINT", "likes": "BIGINT",
    "trendingScore": "DOUBLE", "tags": "VARCHAR[]", "pipeline_tag": "VARCHAR",
    "library_name": "VARCHAR", "cardData": "JSON", "safetensors": {"total": "BIGINT"}, "gguf": {"total": "BIGINT"}
} -%}

{{ config(
    materialized='incremental',
    incremental_strategy='append',
    on_schema_change='fail',
) }}

with

source as (

    {#- rowid: the landing's append order (landing_row_id), which orders a crawl's sightings and
        bounds what a build reads: each build appends only the rows landed since the previous one
        (issue 13; new_landing_rows), so every payload is parsed once in the warehouse's life.
        Private repos are landed only by a crawl run with --include-private (marked
        "private": true); no public model of the warehouse may come from one, so they stop here. -#}
    select rowid as landing_row_id, * from {{ source('hub', 'raw_models') }}
    where coalesce(payload ->> 'private', 'false') <> 'true'
        and {{ new_landing_rows('raw_models', row_id='rowid') }}

),

crawls as (

    select crawl_id, started_at from {{ ref('stg_hub__crawls') }}

),

parsed as (

    select
        source.landing_row_id,
        source.crawl_id,
        source.model_id,
        source.page_number,
        source.fetched_at,
        crawls.started_at as crawl_started_at,
        json_transform(source.payload, '{{ payload_shape | tojson }}') as listing
    from source
    left join crawls on source.crawl_id = crawls.crawl_id

),

renamed as (

    select
        -- ids
        landing_row_id,
        crawl_id,
        model_id,
        listing._id as model_object_id,
        coalesce(
            listing.author,
            case when contains(model_id, '/') then split_part(model_id, '/', 1) end
        ) as author,
        listing.sha as model_sha,

        -- text
        listing.pipeline_tag as pipeline_tag,
        listing.library_name as library_name,
        case
            when listing.gated in ('auto', 'manual') then listing.gated
            else 'none'
        end as gated_mode,
        coalesce(listing.tags, []) as tags,
        listing.carddata as card_data,
        {{ json_string_list("listing.carddata", "base_model") }} as card_base_models,
        json_extract_string(listing.carddata, '$.base_model_relation') as card_base_model_relation,
        {{ json_string_list("listing.carddata", "license") }} as card_licenses,
        {{ json_string_list("listing.carddata", "language") }} as card_languages,

        -- numerics
        page_number,
        listing.downloads as downloads,
        listing.downloadsalltime as downloads_all_time,
        listing.likes as likes,
        listing.trendingscore as trending_score,
        listing.safetensors.total as safetensors_parameters,

        -- booleans
        coalesce(listing.private, false) as is_private,
        coalesce(listing.disabled, false) as is_disabled,
        listing.gated in ('auto', 'manual') as is_gated,
        listing.safetensors is not null as has_safetensors,
        listing.gguf is not null as has_gguf,

        -- timestamps
        listing.createdat as created_at,
        listing.lastmodified as last_modified_at,
        fetched_at,
        crawl_started_at

    from parsed

)

select * from renamed
