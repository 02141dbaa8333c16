with

source as (

    select * from {{ source('hub', 'crawl_runs') }}

),

renamed as (

    select
        -- ids
        crawl_id,

        -- text
        mode as crawl_mode,
        endpoint,
        sort_by,
        state as crawl_state,
        error as error_message,

        -- numerics
        pages_landed,
        models_landed,

        -- booleans
        state = 'succeeded' as is_succeeded,

        -- timestamps
        started_at,
        finished_at,
        watermark as watermark_at,
        stop_before as stop_before_at

    from source

)

select * from renamed
