{#- Type-2 history of each model's traits across crawls, from the append-only landing.
    A new version starts whenever a tracked trait changes between two crawls that saw the model:
    licences, licence category, languages, task, library, gating, privacy, disabled flag, declared
    parents. A crawl that did not see a model (incremental crawls only list changed ones) leaves
    its current version open. valid_from is the start of the first crawl that saw the version,
    valid_to the start of the crawl that saw the next one (null while current). -#}
with

snapshots as (

    select * from {{ ref('stg_hub__model_snapshots') }}

),

crawls as (

    select crawl_id, started_at from {{ ref('stg_hub__crawls') }}

),

taxonomy as (

    select license_id, license_category from {{ ref('license_taxonomy') }}

),

languages as (

    select language_code, coalesce(iso_639_1_code, language_code) as normalized_code
    from {{ ref('iso_639_languages') }}

),

snapshot_traits as (

    select
        snapshots.crawl_id,
        snapshots.model_id,
        snapshots.model_sha,
        crawls.started_at as crawl_started_at,
        {{ license_ids_from_tags('snapshots.tags', 'snapshots.card_licenses') }} as license_ids,
        list_sort(list_distinct(list_concat(
            list_transform(
                list_filter(snapshots.tags, lambda tag: starts_with(tag, 'base_model:')),
                lambda tag: substr(tag, 12)
            ),
            snapshots.card_base_models
        ))) as parent_references,
        list_sort(list_distinct(
            list_filter(snapshots.tags, lambda tag: length(tag) between 2 and 3)
        )) as short_tags,
        snapshots.pipeline_tag,
        snapshots.library_name,
        snapshots.gated_mode,
        snapshots.is_private,
        snapshots.is_disabled
    from snapshots
    inner join crawls on snapshots.crawl_id = crawls.crawl_id

),


short_tag_languages as (

    {#- Licence and language lists repeat a lot: classify each distinct list once. -#}
    select
        short_tag_lists.short_tags,
        list(distinct languages.normalized_code order by languages.normalized_code) as language_codes
    from (
        select short_tags, unnest(short_tags) as tag
        from (
            select distinct short_tags from snapshot_traits
            where len(short_tags) > 0
        )
    ) as short_tag_lists
    inner join languages on short_tag_lists.tag = languages.language_code
    group by 1

),

license_list_categories as (

    select
        license_lists.license_ids,
        {{ license_category_from_rank(
            'min(' ~ license_category_rank("coalesce(taxonomy.license_category, 'other_unknown')") ~ ')'
        ) }} as license_category
    from (
        select license_ids, unnest(license_ids) as license_id
        from (
            select distinct license_ids from snapshot_traits
            where len(license_ids) > 0
        )
    ) as license_lists
    left join taxonomy on license_lists.license_id = taxonomy.license_id
    group by 1

),

hashed as (

    select
        snapshot_traits.*,
        license_list_categories.license_category,
        coalesce(short_tag_languages.language_codes, []) as language_codes,
        md5(concat_ws(
            '|',
            array_to_string(snapshot_traits.license_ids, ','),
            array_to_string(coalesce(short_tag_languages.language_codes, []), ','),
            array_to_string(snapshot_traits.parent_references, ','),
            coalesce(snapshot_traits.pipeline_tag, ''),
            coalesce(snapshot_traits.library_name, ''),
            snapshot_traits.gated_mode,
            snapshot_traits.is_private::varchar,
            snapshot_traits.is_disabled::varchar
        )) as trait_hash
    from snapshot_traits
    left join short_tag_languages on snapshot_traits.short_tags = short_tag_languages.short_tags
    left join license_list_categories
        on snapshot_traits.license_ids = license_list_categories.license_ids

),

changes as (

    select
        *,
        coalesce(
            trait_hash <> lag(trait_hash) over (
                partition by model_id order by crawl_started_at, crawl_id
            ),
            true
        ) as is_change
    from hashed

),

versioned as (

    select
        *,
        sum(is_change::integer) over (
            partition by model_id order by crawl_started_at, crawl_id rows unbounded preceding
        ) as version_number
    from changes

),

versions as (

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
        lead(valid_from) over (partition by model_id order by version_number) is null as is_current,

        -- timestamps
        valid_from,
        lead(valid_from) over (partition by model_id order by version_number) as valid_to,
        last_seen_at

    from versions

)

select * from final
