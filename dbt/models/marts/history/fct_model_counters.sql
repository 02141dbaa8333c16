-- sqlfluff:indentation:template_blocks_indent:False
{#- Counter history of every model as validity intervals: one row per run of consecutive
    observations (counters sweeps and listing crawls, in observation order) with the same downloads,
    likes and trending score. The Hub keeps only today's values, so this is their history; it grows
    with what changed, not with models x nights (issue 13: a nightly sweep observes every model,
    most of them unchanged).

    Incremental: a build reads only the landing rows added since the previous build
    (new_landing_rows) plus the open interval of each model they observed (`carried`), and
    re-emits that interval (its valid_to and last_observed_at move) with any new ones; the
    delete+insert on model_counter_id replaces it. This equals the full refresh as long as no new
    observation is older than one already processed; the build checks that and falls back to a full
    refresh otherwise (a crawl resumed across builds, hubgenome.flows.build). -#}
{#- incremental_predicates: only open intervals are ever re-emitted: the delete looks among those, not the whole history, so the delete of the rows
    re-emitted looks among those, not the whole history. -#}
{{ config(
    materialized='incremental',
    unique_key='model_counter_id',
    incremental_strategy='delete+insert',
    incremental_predicates=['valid_to is null'],
    on_schema_change='fail',
) }}

with

crawls as (

    select crawl_id, started_at from {{ ref('stg_hub__crawls') }}

),

counter_rows as (

    select
        model_id,
        crawl_id,
        'counters_sweep' as observation_source,
        landing_row_id,
        downloads_30d,
        downloads_all_time,
        likes,
        trending_score
    from {{ ref('stg_hub__counter_snapshots') }}
    where {{ new_landing_rows('raw_model_counters') }}

),

listing_rows as (

    select
        model_id,
        crawl_id,
        'listing_crawl' as observation_source,
        landing_row_id,
        downloads as downloads_30d,
        downloads_all_time,
        likes,
        trending_score
    from {{ ref('stg_hub__model_snapshots') }}
    where {{ new_landing_rows('raw_models') }}

),

new_observations as (

    select
        observations.*,
        crawls.started_at as observed_at,
        false as is_carried
    from (
        select * from counter_rows
        union all
        select * from listing_rows
    ) as observations
    inner join crawls on observations.crawl_id = crawls.crawl_id

),

{% if is_incremental() %}

carried as (

    {#- The open interval of each model observed again, standing in for the observations it
        summarizes: it sorts first, and keeps its start, its deltas and its first observation. -#}
    select
        model_id,
        crawl_id,
        observation_source,
        null::bigint as landing_row_id,
        downloads_30d,
        downloads_all_time,
        likes,
        trending_score,
        last_observed_at as observed_at,
        true as is_carried,
        valid_from as carried_valid_from,
        downloads_all_time_delta as carried_downloads_all_time_delta,
        likes_delta as carried_likes_delta
    from {{ this }}
    where valid_to is null
        and model_id in (select model_id from new_observations)

),

{% endif %}

observations as (

    {% if is_incremental() %}
    select * from carried
    union all by name
    {% endif %}
    select
        *,
        null::timestamptz as carried_valid_from,
        null::bigint as carried_downloads_all_time_delta,
        null::bigint as carried_likes_delta
    from new_observations

),

lagged as (

    select
        *,
        row_number() over by_model as position_in_model,
        lag(downloads_30d) over by_model as previous_downloads_30d,
        lag(downloads_all_time) over by_model as previous_downloads_all_time,
        lag(likes) over by_model as previous_likes,
        lag(trending_score) over by_model as previous_trending_score
    from observations
    window by_model as (
        partition by model_id
        order by not is_carried, observed_at, observation_source, landing_row_id
    )

),

ordered as (

    select
        *,
        (
            position_in_model = 1
            or downloads_30d is distinct from previous_downloads_30d
            or downloads_all_time is distinct from previous_downloads_all_time
            or likes is distinct from previous_likes
            or trending_score is distinct from previous_trending_score
        ) as is_change
    from lagged

),

numbered as (

    select
        *,
        sum(is_change::integer) over (
            partition by model_id
            order by not is_carried, observed_at, observation_source, landing_row_id
            rows unbounded preceding
        ) as interval_number
    from ordered

),

intervals as (

    select
        model_id,
        interval_number,
        bool_or(is_carried) as is_carried,
        arg_min(crawl_id, (not is_carried, observed_at, observation_source, landing_row_id)) as crawl_id,
        arg_min(
            observation_source, (not is_carried, observed_at, observation_source, landing_row_id)
        ) as observation_source,
        any_value(downloads_30d) as downloads_30d,
        any_value(downloads_all_time) as downloads_all_time,
        any_value(likes) as likes,
        any_value(trending_score) as trending_score,
        coalesce(any_value(carried_valid_from), min(observed_at)) as valid_from,
        max(observed_at) as last_observed_at,
        any_value(carried_downloads_all_time_delta) as carried_downloads_all_time_delta,
        any_value(carried_likes_delta) as carried_likes_delta
    from numbered
    group by 1, 2

),

final as (

    select
        -- ids
        model_id || '@' || strftime(timezone('UTC', valid_from), '%Y-%m-%dT%H:%M:%S.%fZ') as model_counter_id,
        model_id,
        crawl_id,

        -- text
        observation_source,

        -- numerics
        downloads_30d,
        downloads_all_time,
        likes,
        trending_score,
        case
            when is_carried then carried_downloads_all_time_delta
            else downloads_all_time - lag(downloads_all_time) over by_model
        end as downloads_all_time_delta,
        case
            when is_carried then carried_likes_delta
            else likes - lag(likes) over by_model
        end as likes_delta,

        -- timestamps
        valid_from,
        lead(valid_from) over by_model as valid_to,
        last_observed_at

    from intervals
    window by_model as (partition by model_id order by interval_number)

)

select * from final
