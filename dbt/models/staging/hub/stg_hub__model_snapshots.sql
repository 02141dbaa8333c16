{#- One row per landed listing object (a crawl may list a model twice when the listing shifts under
    it; stg_hub__models keeps the last one). The listing JSON is parsed exactly once, here, with
    one json_transform into a typed struct. -#}
{%- set payload_shape = {
    "_id": "VARCHAR", "author": "VARCHAR", "sha": "VARCHAR", "createdAt": "VARCHAR",
    "lastModified": "VARCHAR", "private": "BOOLEAN", "gated": "VARCHAR", "disabled": "BOOLEAN",
    "downloads": "BIGINT", "downloadsAllTime": "BIGINT", "likes": "BIGINT",
    "trendingScore": "DOUBLE", "tags": "VARCHAR[]", "pipeline_tag": "VARCHAR",
    "library_name": "VARCHAR", "cardData": "JSON", "safetensors": "JSON", "gguf": "JSON"
} -%}

with

source as (

    {#- rowid: the landing's append order, used to pick a crawl's last sighting of a model. -#}
    select rowid as landing_row_id, * from {{ source('hub', 'raw_models') }}

),

parsed as (

    select
        landing_row_id,
        crawl_id,
        model_id,
        page_number,
        fetched_at,
        json_transform(payload, '{{ payload_shape | tojson }}') as listing
    from source

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
        try_cast(json_extract(listing.safetensors, '$.total') as bigint) as safetensors_parameters,

        -- booleans
        coalesce(listing.private, false) as is_private,
        coalesce(listing.disabled, false) as is_disabled,
        listing.gated in ('auto', 'manual') as is_gated,
        listing.safetensors is not null as has_safetensors,
        listing.gguf is not null as has_gguf,

        -- timestamps
        try_cast(listing.createdat as timestamptz) as created_at,
        try_cast(listing.lastmodified as timestamptz) as last_modified_at,
        fetched_at

    from parsed

)

select * from renamed
