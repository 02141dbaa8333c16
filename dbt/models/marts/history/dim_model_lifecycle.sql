{#- Every model the landing ever saw, with when it was first and last seen and, once a completed
    id sweep no longer lists it, when it disappeared (deleted, renamed or made private: the Hub
    does not say which, except that a rename keeps the Hub's object id under a new repo id).
    Sightings are listing crawls, counters sweeps and id sweeps (int_model_sightings, merged
    incrementally); a model seen again after its disappearance (made public again) is active again.
    Nothing is ever removed. -#}
with

crawls as (

    select crawl_id, crawl_mode, is_succeeded, started_at from {{ ref('stg_hub__crawls') }}

),

per_model as (

    select * from {{ ref('int_model_sightings') }}

),

completed_id_sweeps as (

    select crawl_id, started_at from crawls
    where crawl_mode = 'ids' and is_succeeded

),

disappearances as (

    {#- The first completed id sweep after the last sighting did not list the model (had it, that
        would have been a later sighting). -#}
    select
        per_model.model_id,
        completed_id_sweeps.crawl_id as disappeared_in_crawl_id,
        completed_id_sweeps.started_at as disappeared_at
    from per_model
    asof inner join completed_id_sweeps
        on per_model.last_seen_at < completed_id_sweeps.started_at

),

renames as (

    select
        gone.model_id,
        arg_max(other.model_id, other.last_seen_at) as renamed_to_model_id
    from disappearances
    inner join per_model as gone on disappearances.model_id = gone.model_id
    inner join per_model as other
        on gone.model_object_id = other.model_object_id
            and gone.model_id <> other.model_id
            and gone.last_seen_at < other.last_seen_at
    group by 1

),

final as (

    select
        -- ids
        per_model.model_id,
        per_model.model_object_id,
        disappearances.disappeared_in_crawl_id,
        renames.renamed_to_model_id,

        -- text
        case
            when disappearances.model_id is null then 'active'
            when renames.model_id is not null then 'renamed'
            else 'disappeared'
        end as lifecycle_status,

        -- numerics
        per_model.sightings,

        -- booleans
        disappearances.model_id is null as is_active,

        -- timestamps
        per_model.first_seen_at,
        per_model.last_seen_at,
        disappearances.disappeared_at

    from per_model
    left join disappearances on per_model.model_id = disappearances.model_id
    left join renames on per_model.model_id = renames.model_id

)

select * from final
