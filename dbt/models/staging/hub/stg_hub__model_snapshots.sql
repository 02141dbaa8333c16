{#- One row per landed public listing object (a crawl may list a model twice when the listing shifts under
    it; stg_hub__models keeps the last one). The listing JSON is parsed exactly once, here, with
    one json_transform into a typed struct. Which sighting is a model's latest is decided here too,
    on the narrow (row id, model, crawl) columns before any JSON is parsed, so stg_hub__models is a
    filter of this table instead of a second copy of every wide row. safetensors and gguf are read
    as structs of the one field used: keeping them as JSON re-serializes their sub-objects, a
    third of the parse. -#}
{%- set payload_shape = {
    "_id": "VARCHAR", "author": "VARCHAR", "sha": "VARCHAR", "createdAt": "TIMESTAMPTZ",
    "lastModified": "TIMESTAMPTZ", "private": "BOOLEAN", "gated": "VARCHAR", "disabled": "BOOLEAN",
    "downloads": "BIGINT", "downloadsAllTime": "BIGINT", "likes": "BIGINT",
    "trendingScore": "DOUBLE", "tags": "VARCHAR[]", "pipeline_tag": "VARCHAR",
    "library_name": "VARCHAR", "cardData": "JSON", "safetensors": {"total": "BIGINT"}, "gguf": {"total": "BIGINT"}
} -%}

with

source as not materialized (

    {#- rowid: the landing's append order, used to pick a crawl's last sighting of a model.
        Not materialized: read twice, narrow (ids) and wide (payload); a materialized copy of
        every payload would cost more than the second scan. Private repos are landed only by a
        crawl run with --include-private (marked "private": true); no public model of the
        warehouse may come from one, so they stop here. -#}
    select rowid as landing_row_id, * from {{ source('hub', 'raw_models') }}
    where coalesce(payload ->> 'private', 'false') <> 'true'
        and rowid <= {{ landing_through('raw_models') }}

),

crawls as (

    select crawl_id, started_at from {{ ref('stg_hub__crawls') }}

),

sightings as (

    select
        source.landing_row_id,
        source.model_id,
        source.crawl_id,
        crawls.started_at as crawl_started_at
    from source
    left join crawls on source.crawl_id = crawls.crawl_id

),

model_sightings as (

    {#- The latest sighting: newest crawl by start time, then the last row that crawl landed.
        Crawls are counted distinctly only for the few models seen more than once. -#}
    select
        model_id,
        arg_max(landing_row_id, (crawl_started_at, landing_row_id)) as latest_landing_row_id,
        min(crawl_started_at) as first_seen_at,
        count(*) as sightings,
        min(crawl_id) = max(crawl_id) as is_one_crawl
    from sightings
    group by 1

),

repeated_crawl_counts as (

    select sightings.model_id, count(distinct sightings.crawl_id) as crawls_seen
    from sightings
    semi join model_sightings
        on sightings.model_id = model_sightings.model_id and not model_sightings.is_one_crawl
    group by 1

),

latest_sightings as (

    {#- Model-level figures ride on the latest sighting only (an integer join on the row id). -#}
    select
        model_sightings.latest_landing_row_id,
        model_sightings.first_seen_at,
        model_sightings.sightings,
        coalesce(repeated_crawl_counts.crawls_seen, 1) as crawls_seen
    from model_sightings
    left join repeated_crawl_counts on model_sightings.model_id = repeated_crawl_counts.model_id

),

parsed as (

    select
        source.landing_row_id,
        source.crawl_id,
        source.model_id,
        source.page_number,
        source.fetched_at,
        crawls.started_at as crawl_started_at,
        latest_sightings.latest_landing_row_id is not null as is_latest_sighting,
        latest_sightings.first_seen_at as model_first_seen_at,
        latest_sightings.crawls_seen as model_crawls_seen,
        latest_sightings.sightings as model_sightings,
        json_transform(source.payload, '{{ payload_shape | tojson }}') as listing
    from source
    left join crawls on source.crawl_id = crawls.crawl_id
    left join latest_sightings on source.landing_row_id = latest_sightings.latest_landing_row_id

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
        model_crawls_seen,
        model_sightings,

        -- booleans
        coalesce(listing.private, false) as is_private,
        coalesce(listing.disabled, false) as is_disabled,
        listing.gated in ('auto', 'manual') as is_gated,
        listing.safetensors is not null as has_safetensors,
        listing.gguf is not null as has_gguf,
        is_latest_sighting,

        -- timestamps
        listing.createdat as created_at,
        listing.lastmodified as last_modified_at,
        fetched_at,
        crawl_started_at,
        model_first_seen_at

    from parsed

)

select * from renamed
