{#- Daily time series of each family of two or more models (a root model and its descendants, as
    in dim_models): how many of its models were observed that day, their summed counters and the
    licence mix of the versions valid at the observation (fct_model_daily_counters.license_category,
    from fct_model_history). Sums cover the models observed that day: a night with a counters
    sweep observes every listed model.
    Single-model families (655,344 of hub-2024-07's 662,989 families) are left out: their series is their
    model's row of fct_model_daily_counters, and copying it here would add millions of rows per
    night (the dashboard reads a singleton family's series from there). -#}
with

daily_counters as (

    select * from {{ ref('fct_model_daily_counters') }}

),

models as (

    select dim_models.model_id, dim_models.family_id
    from {{ ref('dim_models') }} as dim_models
    semi join {{ ref('dim_families') }} as dim_families
        on dim_models.family_id = dim_families.family_id and not dim_families.is_singleton

),

observed as (

    select
        daily_counters.counter_date,
        models.family_id,
        daily_counters.model_id,
        daily_counters.downloads_30d,
        daily_counters.downloads_all_time,
        daily_counters.likes,
        daily_counters.license_category
    from daily_counters
    inner join models on daily_counters.model_id = models.model_id

),

final as (

    select
        -- ids
        family_id || '@' || strftime(counter_date, '%Y-%m-%d') as family_day_id,
        family_id,

        -- numerics
        count(*) as models_observed,
        sum(downloads_30d) as downloads_30d,
        sum(downloads_all_time) as downloads_all_time,
        sum(likes) as likes,
        count(*) filter (where license_category = 'permissive') as permissive_models,
        count(*) filter (where license_category = 'copyleft') as copyleft_models,
        count(*) filter (where license_category = 'use_restricted') as use_restricted_models,
        count(*) filter (where license_category = 'commercial_custom') as commercial_custom_models,
        count(*) filter (where license_category = 'other_unknown') as other_unknown_models,
        count(*) filter (where license_category is null) as unlicensed_models,

        -- timestamps
        counter_date

    from observed
    group by family_id, counter_date

)

select * from final
