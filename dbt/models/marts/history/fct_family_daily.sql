{#- Daily time series of each family of two or more models (a root model and its descendants, as
    in dim_models): for every UTC day with a counters sweep or listing crawl, how many of its
    models had counters at the day's end (first observed by then and still listed by the counters
    sweeps), their summed counters (fct_model_counters' intervals valid at the day's end) and the
    licence mix of their fct_model_history versions valid then.
    A view (issue 13): families are today's, so a table would have to be recomputed for every day
    of history every night; read for one family (the dashboard's use, `where family_id = ...`),
    it costs a scan of the intervals of that family's models.
    Single-model families are left out: their series is their model's rows of fct_model_counters. -#}
{{ config(materialized='view') }}

with

counters as (

    select * from {{ ref('fct_model_counters') }}

),

history as (

    select model_id, valid_from, valid_to, license_category from {{ ref('fct_model_history') }}

),

members as (

    select dim_models.model_id, dim_models.family_id
    from {{ ref('dim_models') }} as dim_models
    semi join {{ ref('dim_families') }} as dim_families
        on dim_models.family_id = dim_families.family_id and not dim_families.is_singleton

),

observation_days as (

    select distinct cast(timezone('UTC', started_at) as date) as counter_date
    from {{ ref('stg_hub__crawls') }}
    where crawl_mode <> 'ids'

),

member_days as (

    select
        members.family_id,
        members.model_id,
        observation_days.counter_date,
        timezone('UTC', observation_days.counter_date + interval 1 day) as day_end,
        counters.downloads_30d,
        counters.downloads_all_time,
        counters.likes
    from members
    inner join counters on members.model_id = counters.model_id
    inner join observation_days
        on timezone('UTC', observation_days.counter_date + interval 1 day) > counters.valid_from
            and (
                counters.valid_to is null
                or timezone('UTC', observation_days.counter_date + interval 1 day) <= counters.valid_to
            )

),

licensed as (

    select
        member_days.*,
        history.license_category
    from member_days
    left join history
        on member_days.model_id = history.model_id
            and member_days.day_end > history.valid_from
            and (history.valid_to is null or member_days.day_end <= history.valid_to)

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

    from licensed
    group by family_id, counter_date

)

select * from final
