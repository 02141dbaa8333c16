-- sqlfluff:indentation:template_blocks_indent:False
{#- Counter history of every model as validity intervals: one row per run of consecutive
    observations (counters sweeps and listing crawls, in observation order) with the same downloads,
    likes and trending score. The Hub keeps only today's values, so this is their history; it grows
    with what changed, not with models x nights (issue 13: a nightly sweep observes every model,
    most of them unchanged).

    An interval ends when an observation sees other values (ended_by 'changed') or when a succeeded
    counters sweep no longer lists the model ('not_listed': deleted, made private or renamed); a
    model seen again later starts a new interval. So a day's counters depend only on what was
    observed by the day's end, and no other table is needed to tell who was on the Hub then.

    Incremental: a build reads only the landing rows added since the previous build
    (new_landing_rows), plus each observed model's open interval (`carried_open`; or, for a model
    without one, its last interval, for the deltas), standing in for the observations it
    summarizes. Only intervals that start or end in this build are written: a model seen again
    with the same counters writes nothing, so a night's writes grow with what changed. This equals
    the full refresh as long as no new observation is older than one already processed and no
    crawl's rows are split between builds; the build checks both and falls back to a full refresh
    otherwise (hubgenome.flows.build_state).

    Rows are written in model order: the dashboard reads one model's intervals at a time, and
    DuckDB skips the row groups whose model_id range cannot hold it (each build's rows are one
    sorted run). -#}
{#- incremental_predicates: only open intervals are ever re-emitted (to close them), so the delete
    of the rows re-emitted looks among those, not the whole history. -#}
{{ config(
    materialized='incremental',
    unique_key='model_counter_id',
    incremental_strategy='delete+insert',
    incremental_predicates=['valid_to is null'],
    on_schema_change='fail',
) }}

with

crawls as (

    select crawl_id, crawl_mode, is_succeeded, started_at from {{ ref('stg_hub__crawls') }}

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
        false as is_carried,
        false as is_carried_closed
    from (
        select * from counter_rows
        union all
        select * from listing_rows
    ) as observations
    inner join crawls on observations.crawl_id = crawls.crawl_id

),

completed_sweeps as (

    {#- The sweeps whose absences end intervals: succeeded counters sweeps with rows in this build
        (every row of them: a crawl split between builds forces a full refresh). -#}
    select crawl_id, started_at from crawls
    where crawl_mode = 'counters'
        and is_succeeded
        and crawl_id in (select distinct crawl_id from counter_rows)

),

{% if is_incremental() %}

observed_models as (

    select distinct model_id from new_observations

),

carried_open as (

    {#- The open intervals of the models observed again, and when a sweep may have missed some,
        all of them. -#}
    select * from {{ this }}
    where
        valid_to is null
        and (
            model_id in (select model_id from observed_models)
            or exists (select 1 from completed_sweeps)
        )

),

carried_closed as (

    {#- A model seen again after it was no longer listed: its last interval, so that its new
        interval's deltas are against it. Never written again. -#}
    select * from {{ this }}
    where
        model_id in (
            select model_id from observed_models
            except
            select model_id from carried_open
        )
    qualify row_number() over (partition by model_id order by valid_from desc) = 1

),

sweeps_in_build as (

    select count(*) as sweeps, min(crawl_id) as only_crawl_id from completed_sweeps

),

new_per_model as (

    select
        model_id,
        count(*) as observations,
        any_value(crawl_id) as crawl_id,
        any_value(downloads_30d) as downloads_30d,
        any_value(downloads_all_time) as downloads_all_time,
        any_value(likes) as likes,
        any_value(trending_score) as trending_score
    from new_observations
    group by model_id

),

unchanged_models as (

    {#- The fast path of most nights: a model observed once in this build, with its open interval's
        counters, by the build's only completed sweep (or with no sweep in the build, so none can
        have missed it). Its interval goes on: nothing to compute, nothing to write. -#}
    select new_per_model.model_id
    from new_per_model
    inner join carried_open on new_per_model.model_id = carried_open.model_id
    cross join sweeps_in_build
    where
        new_per_model.observations = 1
        and (
            sweeps_in_build.sweeps = 0
            or (sweeps_in_build.sweeps = 1 and sweeps_in_build.only_crawl_id = new_per_model.crawl_id)
        )
        and new_per_model.downloads_30d is not distinct from carried_open.downloads_30d
        and new_per_model.downloads_all_time is not distinct from carried_open.downloads_all_time
        and new_per_model.likes is not distinct from carried_open.likes
        and new_per_model.trending_score is not distinct from carried_open.trending_score

),

carried as (

    {#- Each carried interval stands in for the observations it summarizes: it sorts first and keeps
        its start, its deltas and its first observation. An open one was listed by every sweep this
        warehouse has processed, so the first of this build's sweeps is the next that may miss it. -#}
    select
        model_id,
        crawl_id,
        observation_source,
        null::bigint as landing_row_id,
        downloads_30d,
        downloads_all_time,
        likes,
        trending_score,
        '-infinity'::timestamptz as observed_at,
        true as is_carried,
        false as is_carried_closed,
        valid_from as carried_valid_from,
        null::timestamptz as carried_valid_to,
        downloads_all_time_delta as carried_downloads_all_time_delta,
        likes_delta as carried_likes_delta
    from carried_open
    where model_id not in (select model_id from unchanged_models)
    union all
    select
        model_id,
        crawl_id,
        observation_source,
        null::bigint as landing_row_id,
        downloads_30d,
        downloads_all_time,
        likes,
        trending_score,
        '-infinity'::timestamptz as observed_at,
        true as is_carried,
        true as is_carried_closed,
        valid_from as carried_valid_from,
        valid_to as carried_valid_to,
        downloads_all_time_delta as carried_downloads_all_time_delta,
        likes_delta as carried_likes_delta
    from carried_closed

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
        null::timestamptz as carried_valid_to,
        null::bigint as carried_downloads_all_time_delta,
        null::bigint as carried_likes_delta
    from new_observations
    {% if is_incremental() %}
    where model_id not in (select model_id from unchanged_models)
    {% endif %}

),

sequenced as (

    select
        *,
        row_number() over by_model as position_in_model,
        lead(observed_at) over by_model as next_observed_at,
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

with_absences as (

    {#- The first completed sweep after an observation that did not list the model, if any: the
        next observation came after that sweep started, or there was none. -#}
    select
        sequenced.*,
        case
            when sequenced.is_carried_closed then sequenced.carried_valid_to
            when next_sweep.started_at < coalesce(sequenced.next_observed_at, 'infinity'::timestamptz)
                then next_sweep.started_at
        end as not_listed_at
    from sequenced
    asof left join completed_sweeps as next_sweep
        on sequenced.observed_at < next_sweep.started_at

),

flagged as (

    select
        *,
        lag(not_listed_at) over by_model as previous_not_listed_at
    from with_absences
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
            or previous_not_listed_at is not null
            or downloads_30d is distinct from previous_downloads_30d
            or downloads_all_time is distinct from previous_downloads_all_time
            or likes is distinct from previous_likes
            or trending_score is distinct from previous_trending_score
        ) as is_change
    from flagged

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
        bool_or(is_carried_closed) as is_carried_closed,
        arg_min(crawl_id, (not is_carried, observed_at, observation_source, landing_row_id)) as crawl_id,
        arg_min(
            observation_source, (not is_carried, observed_at, observation_source, landing_row_id)
        ) as observation_source,
        any_value(downloads_30d) as downloads_30d,
        any_value(downloads_all_time) as downloads_all_time,
        any_value(likes) as likes,
        any_value(trending_score) as trending_score,
        coalesce(any_value(carried_valid_from), min(observed_at)) as valid_from,
        max(not_listed_at) as not_listed_at,  -- only an interval's last observation can have one
        any_value(carried_downloads_all_time_delta) as carried_downloads_all_time_delta,
        any_value(carried_likes_delta) as carried_likes_delta
    from numbered
    group by model_id, interval_number

),

bounded as (

    select
        *,
        coalesce(not_listed_at, lead(valid_from) over by_model) as valid_to,
        case
            when not_listed_at is not null then 'not_listed'
            when lead(valid_from) over by_model is not null then 'changed'
        end as ended_by,
        downloads_all_time - lag(downloads_all_time) over by_model as new_downloads_all_time_delta,
        likes - lag(likes) over by_model as new_likes_delta,
        {#- A carried interval is written again only when this build ended it. -#}
        (
            not is_carried
            or (not is_carried_closed and coalesce(not_listed_at, lead(valid_from) over by_model) is not null)
        ) as is_written
    from intervals
    window by_model as (partition by model_id order by interval_number)

),

final as (

    select
        -- ids
        model_id || '@' || strftime(timezone('UTC', valid_from), '%Y-%m-%dT%H:%M:%S.%fZ') as model_counter_id,
        model_id,
        crawl_id,

        -- text
        observation_source,
        ended_by,

        -- numerics
        downloads_30d,
        downloads_all_time,
        likes,
        trending_score,
        case when is_carried then carried_downloads_all_time_delta else new_downloads_all_time_delta end
            as downloads_all_time_delta,
        case when is_carried then carried_likes_delta else new_likes_delta end as likes_delta,

        -- timestamps
        valid_from,
        valid_to

    from bounded
    where is_written

)

select * from final
order by model_id, valid_from
