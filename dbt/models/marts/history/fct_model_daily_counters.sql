{#- Daily counter time series of every model: the Hub keeps only today's 30-day and all-time
    downloads, so every night's counters sweep (and every listing crawl, which carries the same
    counters) is an observation. One row per (model, UTC day with an observation): the day's last
    observation, with the change since the model's previous observed day, and the licence category
    of the fct_model_history version valid at the observation (a single-model family's daily
    series is its model's rows here; fct_family_daily sums these rows per larger family).
    The version valid at an observation is found with an equi-join on the model and a range
    condition on its validity interval (versions of one model never overlap), not an ASOF join:
    most models have one or two versions, and the hash join skips the ASOF join's sort of every
    observation. -#}
with

counter_snapshots as (

    select * from {{ ref('stg_hub__counter_snapshots') }}

),

listing_snapshots as (

    select * from {{ ref('stg_hub__model_snapshots') }}

),

crawls as (

    select crawl_id, started_at from {{ ref('stg_hub__crawls') }}

),

history as (

    select model_id, valid_from, valid_to, license_category from {{ ref('fct_model_history') }}

),

observations as (

    select
        counter_snapshots.model_id,
        counter_snapshots.crawl_id,
        'counters_sweep' as observation_source,
        counter_snapshots.landing_row_id,
        counter_snapshots.downloads_30d,
        counter_snapshots.downloads_all_time,
        counter_snapshots.likes,
        counter_snapshots.trending_score,
        crawls.started_at as observed_at
    from counter_snapshots
    inner join crawls on counter_snapshots.crawl_id = crawls.crawl_id

    union all

    select
        listing_snapshots.model_id,
        listing_snapshots.crawl_id,
        'listing_crawl' as observation_source,
        listing_snapshots.landing_row_id,
        listing_snapshots.downloads as downloads_30d,
        listing_snapshots.downloads_all_time,
        listing_snapshots.likes,
        listing_snapshots.trending_score,
        crawls.started_at as observed_at
    from listing_snapshots
    inner join crawls on listing_snapshots.crawl_id = crawls.crawl_id

),

last_of_day as (

    select
        *,
        cast(timezone('UTC', observed_at) as date) as counter_date
    from observations
    qualify row_number() over (
            partition by model_id, cast(timezone('UTC', observed_at) as date)
            order by observed_at desc, observation_source desc, landing_row_id desc
        ) = 1

),

licensed as (

    select
        last_of_day.*,
        history.license_category
    from last_of_day
    left join history
        on last_of_day.model_id = history.model_id
            and last_of_day.observed_at >= history.valid_from
            and (history.valid_to is null or last_of_day.observed_at < history.valid_to)

),

final as (

    select
        -- ids
        model_id || '@' || strftime(counter_date, '%Y-%m-%d') as model_day_id,
        model_id,
        crawl_id,

        -- text
        observation_source,
        license_category,

        -- numerics
        downloads_30d,
        downloads_all_time,
        likes,
        trending_score,
        downloads_all_time - lag(downloads_all_time) over by_model as downloads_all_time_delta,
        likes - lag(likes) over by_model as likes_delta,
        counter_date - lag(counter_date) over by_model as days_since_previous,

        -- timestamps
        counter_date,
        observed_at

    from licensed
    window by_model as (partition by model_id order by counter_date)

)

select * from final
