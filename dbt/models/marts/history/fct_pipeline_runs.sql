{#- One row per nightly pipeline run: outcome, stage durations, counts and rate-limit waits. A run's
    own build sees the run as of just before the build (state `running`); its final state shows
    from the next build on. -#}
with

pipeline_runs as (

    select * from {{ ref('stg_hub__pipeline_runs') }}

),

parsed as (

    select
        *,
        from_json(
            stages,
            '[{"stage": "VARCHAR", "state": "VARCHAR", "seconds": "DOUBLE", "detail": "VARCHAR"}]'
        ) as stage_list
    from pipeline_runs

),

final as (

    select
        -- ids
        pipeline_run_id,
        crawl_id,
        counters_crawl_id,
        id_sweep_crawl_id,

        -- text
        endpoint,
        run_state,
        failed_stage,
        error_message,
        crawl_mode,
        list_filter(stage_list, lambda s: s.stage = 'build')[1].state as build_state,

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
        list_filter(stage_list, lambda s: s.stage = 'crawl')[1].seconds as crawl_seconds,
        list_filter(stage_list, lambda s: s.stage = 'counters')[1].seconds as counters_seconds,
        list_filter(stage_list, lambda s: s.stage = 'id_sweep')[1].seconds as id_sweep_seconds,
        list_filter(stage_list, lambda s: s.stage = 'reconcile')[1].seconds as reconcile_seconds,
        list_filter(stage_list, lambda s: s.stage = 'build')[1].seconds as build_seconds,
        list_filter(stage_list, lambda s: s.stage = 'audit')[1].seconds as audit_seconds,
        epoch(finished_at - started_at) as duration_seconds,

        -- lists
        cards_backlog_sample_model_ids,

        -- booleans
        is_succeeded,
        is_crawl_resumed,

        -- timestamps
        started_at,
        finished_at

    from parsed

)

select * from final
