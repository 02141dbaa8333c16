{#- Daily counter time series of every model: the Hub keeps only today's 30-day and all-time
    downloads, so every night's counters sweep (and every listing crawl, which carries the same
    counters) is an observation. One row per (model, UTC day with an observation): the day's last
    observation, with the change since the model's previous observed day. -#}
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

final as (

    select
        -- ids
        model_id || '@' || strftime(counter_date, '%Y-%m-%d') as model_day_id,
        model_id,
        crawl_id,

        -- text
        observation_source,

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

    from last_of_day
    window by_model as (partition by model_id order by counter_date)

)

select * from final
