-- sqlfluff:indentation:template_blocks_indent:False
{#- Type-2 history of each model's traits across crawls, from the append-only landing.
    A new version starts whenever a tracked trait changes between two crawls that saw the model:
    licences, licence category, languages, task, library, gating, privacy, disabled flag, declared
    parents (int_model_snapshots__traits hashes them per sighting). A crawl that did not see a
    model (incremental crawls only list changed ones) leaves its current version open. valid_from
    is the start of the first crawl that saw the version, valid_to the start of the crawl that saw
    the next one (null while current).
    Incremental (issue 13): a build reads only the sightings it appended and, for each model they
    saw, its current version (`carried`), which sorts first and stands in for the sightings it
    summarizes; the carried version is re-emitted (its last sighting, crawls and valid_to move) with
    any new ones, and delete+insert on model_version_id replaces it. A crawl is counted once per
    version even when its rows arrive in two builds (a crawl resumed across them). -#}
{#- incremental_predicates: only current versions are ever re-emitted: the delete looks among those, not the whole history, so the delete of the rows
    re-emitted looks among those, not the whole history. -#}
{{ config(
    materialized='incremental',
    unique_key='model_version_id',
    incremental_strategy='delete+insert',
    incremental_predicates=['is_current'],
    on_schema_change='fail',
) }}

with

new_sightings as (

    select
        model_id,
        landing_row_id,
        crawl_id,
        crawl_started_at,
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
        false as is_carried
    from {{ ref('int_model_snapshots__traits') }}
    where {{ new_landing_rows('raw_models') }}

),

{% if is_incremental() %}

carried as (

    select
        model_id,
        null::bigint as landing_row_id,
        last_crawl_id as crawl_id,
        last_seen_at as crawl_started_at,
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
        true as is_carried,
        version_number as carried_version_number,
        first_crawl_id as carried_first_crawl_id,
        crawls_seen as carried_crawls_seen,
        valid_from as carried_valid_from
    from {{ this }}
    where is_current and model_id in (select model_id from new_sightings)

),

{% endif %}

sightings as (

    {% if is_incremental() %}
    select * from carried
    union all by name
    {% endif %}
    select
        *,
        null::bigint as carried_version_number,
        null::varchar as carried_first_crawl_id,
        null::bigint as carried_crawls_seen,
        null::timestamptz as carried_valid_from
    from new_sightings

),

sightings_per_model as (

    select model_id, count(*) as sightings
    from sightings
    group by 1

),

single_sighting_versions as (

    {#- Most models have one sighting (and no carried version): one version, projected directly,
        without the windows and sort of the change-point path below. -#}
    select
        sightings.model_id,
        1::bigint as version_number,
        sightings.crawl_id as first_crawl_id,
        sightings.crawl_id as last_crawl_id,
        sightings.model_sha,
        sightings.trait_hash,
        sightings.license_ids,
        sightings.license_category,
        sightings.language_codes,
        sightings.parent_references,
        sightings.pipeline_tag,
        sightings.library_name,
        sightings.gated_mode,
        sightings.is_private,
        sightings.is_disabled,
        1::bigint as crawls_seen,
        sightings.crawl_started_at as valid_from,
        sightings.crawl_started_at as last_seen_at
    from sightings
    semi join sightings_per_model
        on sightings.model_id = sightings_per_model.model_id and sightings_per_model.sightings = 1

),

repeated_sightings as (

    select sightings.*
    from sightings
    semi join sightings_per_model
        on sightings.model_id = sightings_per_model.model_id and sightings_per_model.sightings > 1

),

changes as (

    select
        *,
        coalesce(
            trait_hash <> lag(trait_hash) over by_model,
            true
        ) as is_change,
        max(carried_version_number) over (partition by model_id) as version_base
    from repeated_sightings
    window by_model as (
        partition by model_id order by not is_carried, crawl_started_at, crawl_id, landing_row_id
    )

),

versioned as (

    select
        *,
        coalesce(version_base - 1, 0) + sum(is_change::integer) over (
            partition by model_id
            order by not is_carried, crawl_started_at, crawl_id, landing_row_id
            rows unbounded preceding
        ) as version_number
    from changes

),

repeated_versions as (

    select
        model_id,
        version_number,
        coalesce(
            any_value(carried_first_crawl_id),
            arg_min(crawl_id, (crawl_started_at, crawl_id, landing_row_id))
        ) as first_crawl_id,
        arg_max(crawl_id, (not is_carried, crawl_started_at, crawl_id, landing_row_id)) as last_crawl_id,
        arg_min(model_sha, (not is_carried, crawl_started_at, crawl_id, landing_row_id)) as model_sha,
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
        {#- Crawls of new sightings, plus the carried version's, less its last crawl when a new
            sighting comes from that crawl again. -#}
        count(distinct crawl_id) filter (where not is_carried)
        + coalesce(any_value(carried_crawls_seen), 0)
        - coalesce(
            (
                list_contains(
                    list(crawl_id) filter (where not is_carried),
                    any_value(crawl_id) filter (where is_carried)
                )
            )::integer,
            0
        ) as crawls_seen,
        coalesce(any_value(carried_valid_from), min(crawl_started_at)) as valid_from,
        max(crawl_started_at) as last_seen_at
    from versioned
    group by 1, 2

),

versions as (

    select * from single_sighting_versions
    union all by name
    select * from repeated_versions

),

bounded as (

    select
        *,
        lead(valid_from) over (partition by model_id order by version_number) as valid_to
    from versions

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

    from bounded

)

select * from final
