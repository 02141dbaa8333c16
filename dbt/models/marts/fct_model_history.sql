{#- Type-2 history of each model's traits across crawls, from the append-only landing.
    A new version starts whenever a tracked trait changes between two crawls that saw the model:
    licences, licence category, languages, task, library, gating, privacy, disabled flag, declared
    parents (int_model_snapshots__traits hashes them per sighting). A crawl that did not see a
    model (incremental crawls only list changed ones) leaves its current version open. valid_from
    is the start of the first crawl that saw the version, valid_to the start of the crawl that saw
    the next one (null while current).
    Most models are seen by one crawl only (a full crawl, then incremental crawls listing the few
    that changed): those have exactly one version and are projected directly; only models with
    several sightings go through the change-point windows (lag of the trait hash). -#}
with

snapshot_traits as (

    select * from {{ ref('int_model_snapshots__traits') }}

),

single_sighting_versions as (

    select
        model_id,
        1::bigint as version_number,
        crawl_id as first_crawl_id,
        crawl_id as last_crawl_id,
        model_sha,
        trait_hash,
        license_ids,
        license_category,
        language_codes,
        parent_references,
        pipeline_tag,
        library_name,
        gated_mode,
        is_private,
        is_disabled,
        1::bigint as crawls_seen,
        crawl_started_at as valid_from,
        crawl_started_at as last_seen_at
    from snapshot_traits
    where model_sightings = 1

),

repeated_sightings as (

    select * from snapshot_traits
    where model_sightings is distinct from 1

),

changes as (

    select
        *,
        coalesce(
            trait_hash <> lag(trait_hash) over (
                partition by model_id order by crawl_started_at, crawl_id, landing_row_id
            ),
            true
        ) as is_change
    from repeated_sightings

),

versioned as (

    select
        *,
        sum(is_change::integer) over (
            partition by model_id
            order by crawl_started_at, crawl_id, landing_row_id
            rows unbounded preceding
        ) as version_number
    from changes

),

repeated_versions as (

    select
        model_id,
        version_number,
        arg_min(crawl_id, crawl_started_at) as first_crawl_id,
        arg_max(crawl_id, crawl_started_at) as last_crawl_id,
        arg_min(model_sha, crawl_started_at) as model_sha,
        any_value(trait_hash) as trait_hash,
        any_value(license_ids) as license_ids,
        any_value(license_category) as license_category,
        any_value(language_codes) as language_codes,
        any_value(parent_references) as parent_references,
        any_value(pipeline_tag) as pipeline_tag,
        any_value(library_name) as library_name,
        any_value(gated_mode) as gated_mode,
        any_value(is_private) as is_private,
        any_value(is_disabled) as is_disabled,
        count(distinct crawl_id) as crawls_seen,
        min(crawl_started_at) as valid_from,
        max(crawl_started_at) as last_seen_at
    from versioned
    group by 1, 2

),

repeated_versions_bounded as (

    select
        *,
        lead(valid_from) over (partition by model_id order by version_number) as valid_to
    from repeated_versions

),

versions as (

    select *, null::timestamptz as valid_to from single_sighting_versions
    union all by name
    select * from repeated_versions_bounded

),

final as (

    select
        -- ids
        model_id || ' v' || version_number as model_version_id,
        model_id,
        first_crawl_id,
        last_crawl_id,
        model_sha,
        trait_hash,

        -- traits
        license_ids,
        license_category,
        language_codes,
        parent_references,
        pipeline_tag,
        library_name,
        gated_mode,

        -- numerics
        version_number,
        crawls_seen,

        -- booleans
        is_private,
        is_disabled,
        valid_to is null as is_current,

        -- timestamps
        valid_from,
        valid_to,
        last_seen_at

    from versions

)

select * from final
