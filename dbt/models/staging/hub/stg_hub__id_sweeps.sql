{#- One row per model listed by an id sweep (crawl mode `ids`). -#}
with

source as (

    select rowid as landing_row_id, * from {{ source('hub_ops', 'raw_id_sweeps') }}
    where rowid <= {{ landing_through('raw_id_sweeps') }}

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

        -- timestamps
        fetched_at

    from source

)

select * from renamed
