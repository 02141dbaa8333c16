{#- One row per nightly pipeline run, renamed; stage durations pulled out of the stages JSON. -#}
with

source as (

    select * from {{ source('hub_ops', 'pipeline_runs') }}

),

renamed as (

    select
        -- ids
        pipeline_run_id,
        crawl_id,
        counters_crawl_id,
        id_sweep_crawl_id,

        -- text
        endpoint,
        state as run_state,
        failed_stage,
        error as error_message,
        crawl_mode,
        stages,

        -- numerics
        models_listed,
        models_new,
        models_changed,
        models_deleted,
        counters_landed,
        ids_landed,
        cards_ok,
        cards_missing,
        cards_gated,
        cards_error,
        dbt_models_built,
        dbt_tests_passed,
        dbt_tests_failed,
        requests,
        retries,
        throttled_429,
        rate_limit_wait_seconds,
        pacing_wait_seconds,
        models_reconciled,
        models_skipped_private,
        cards_backlog_fetched,
        cards_backlog_remaining,
        audit_missing,
        audit_stale,
        audit_extra,
        audit_private,

        -- lists
        cards_backlog_sample as cards_backlog_sample_model_ids,

        -- booleans
        coalesce(crawl_resumed, false) as is_crawl_resumed,
        state = 'succeeded' as is_succeeded,

        -- timestamps
        started_at,
        finished_at

    from source

)

select * from renamed
