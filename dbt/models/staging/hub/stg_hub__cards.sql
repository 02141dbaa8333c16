-- sqlfluff:indentation:template_blocks_indent:False
{#- Latest settled card fetch per model (ok, missing or gated); a model whose fetches all ended in
    error keeps its latest error, so the status still says what happened. Preference order: settled
    before error, then latest fetched_at, then the fetch landed last (landing_row_id), so a tie
    resolves the same way in every build.

    Incremental (issue 13): raw_cards gains a card fetch per changed model each night; re-reading
    every fetch ever landed would grow with the nights. A build reads only the fetches landed since
    the previous build (new_landing_rows), takes each model's preferred one, and compares it with
    the model's stored row (the preferred fetch of all earlier ones): the preferred of the two is
    the preferred of all fetches, as in a full refresh. fetch_count adds up, last_fetch_row_id moves
    on. The stored row is compared on its ranking columns only; its card text is read back only
    when it stays preferred (a new fetch that failed), not for every model fetched again. -#}
{{ config(
    materialized='incremental',
    unique_key='model_id',
    incremental_strategy='delete+insert',
    on_schema_change='fail',
) }}

with

source as (

    select rowid as landing_row_id, * from {{ source('hub', 'raw_cards') }}
    where {{ new_landing_rows('raw_cards', 'rowid') }}

),

renamed as (

    select
        -- ids
        model_id,
        crawl_id,
        model_sha,
        card_sha256,
        landing_row_id,

        -- text
        status as card_status,
        card_text,
        error as fetch_error,

        -- numerics
        http_status,

        -- booleans
        status = 'ok' and card_text is not null as has_card_text,

        -- timestamps
        fetched_at

    from source

),

new_fetches_per_model as (

    select
        model_id,
        count(*) as fetch_count,
        max(landing_row_id) as last_fetch_row_id
    from renamed
    group by 1

),

new_preferred as (

    select * from renamed
    qualify row_number() over (
            partition by model_id
            order by (card_status = 'error') asc, fetched_at desc, landing_row_id desc
        ) = 1

),

{% if is_incremental() %}

previous as (

    select model_id, card_status, fetched_at, landing_row_id, fetch_count, last_fetch_row_id
    from {{ this }}
    where model_id in (select model_id from new_fetches_per_model)

),

previous_kept as (

    {#- Models whose stored fetch stays preferred over every new one. -#}
    select model_id
    from (
        select model_id, card_status, fetched_at, landing_row_id, true as is_previous from previous
        union all
        select model_id, card_status, fetched_at, landing_row_id, false as is_previous from new_preferred
    ) as contenders
    qualify
        row_number() over (
            partition by model_id
            order by (card_status = 'error') asc, fetched_at desc, landing_row_id desc
        ) = 1
        and is_previous

),

preferred as (

    select * from new_preferred
    where model_id not in (select model_id from previous_kept)

    union all by name

    select
        model_id,
        crawl_id,
        model_sha,
        card_sha256,
        landing_row_id,
        card_status,
        card_text,
        fetch_error,
        http_status,
        has_card_text,
        fetched_at
    from {{ this }}
    where model_id in (select model_id from previous_kept)

),

counted as (

    select
        preferred.*,
        coalesce(previous.fetch_count, 0) + new_fetches_per_model.fetch_count as fetch_count,
        greatest(previous.last_fetch_row_id, new_fetches_per_model.last_fetch_row_id) as last_fetch_row_id
    from preferred
    inner join new_fetches_per_model on preferred.model_id = new_fetches_per_model.model_id
    left join previous on preferred.model_id = previous.model_id

),

{% else %}

counted as (

    select
        new_preferred.*,
        new_fetches_per_model.fetch_count,
        new_fetches_per_model.last_fetch_row_id
    from new_preferred
    inner join new_fetches_per_model on new_preferred.model_id = new_fetches_per_model.model_id

),

{% endif %}

final as (

    select
        -- ids
        model_id,
        crawl_id,
        model_sha,
        card_sha256,
        landing_row_id,
        last_fetch_row_id,

        -- text
        card_status,
        card_text,
        fetch_error,

        -- numerics
        http_status,
        fetch_count,

        -- booleans
        has_card_text,

        -- timestamps
        fetched_at

    from counted

)

select * from final
