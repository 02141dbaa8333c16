{#- One row per landed counters-sweep row (a sweep may list a model twice when the listing shifts
    under it; fct_model_counters orders them by landing row). -#}
with

source as (

    select rowid as landing_row_id, * from {{ source('hub_ops', 'raw_model_counters') }}
    where rowid <= {{ landing_through('raw_model_counters') }}

),

renamed as (

    select
        -- ids
        landing_row_id,
        crawl_id,
        model_id,
        model_object_id,

        -- numerics
        page_number,
        downloads as downloads_30d,
        downloads_all_time,
        likes,
        trending_score,

        -- timestamps
        fetched_at

    from source

)

select * from renamed
