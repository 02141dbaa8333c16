{#- Latest settled card fetch per model (ok, missing or gated); a model whose fetches all ended in
    error keeps its latest error, so the status still says what happened. -#}
with

source as (

    select * from {{ source('hub', 'raw_cards') }}
    where rowid <= {{ landing_through('raw_cards') }}

),

renamed as (

    select
        -- ids
        model_id,
        crawl_id,
        model_sha,
        card_sha256,

        -- text
        status as card_status,
        card_text,
        error as fetch_error,

        -- numerics
        http_status,
        count(*) over (partition by model_id) as fetch_count,

        -- booleans
        status = 'ok' and card_text is not null as has_card_text,

        -- timestamps
        fetched_at

    from source
    qualify row_number() over (
            partition by model_id
            order by (status = 'error') asc, fetched_at desc
        ) = 1

)

select * from renamed
