{#- The traits compared along lineage edges and tracked through history, one row per landed listing
    object (every crawl's sighting of every model), derived once for both int_models__traits (the
    latest sighting of each model) and fct_model_history (change points between sightings):
    licence ids (license: tags and cardData.license, lower-cased, sorted), the most restrictive
    licence category, ISO language codes (tags that are codes of the iso_639_languages seed,
    3-letter codes folded into their 2-letter equivalent), declared parent references, and an md5
    of all tracked traits. Licence and language lists repeat a lot, so they are classified once per
    distinct list and joined back, instead of once per sighting. -#}
with

snapshots as (

    select
        landing_row_id,
        crawl_id,
        model_id,
        model_sha,
        crawl_started_at,
        is_latest_sighting,
        model_sightings,
        tags,
        card_licenses,
        card_base_models,
        pipeline_tag,
        library_name,
        gated_mode,
        is_private,
        is_disabled
    from {{ ref('stg_hub__model_snapshots') }}

),

license_taxonomy as (

    select license_id, license_category from {{ ref('license_taxonomy') }}

),

languages as (

    select language_code, coalesce(iso_639_1_code, language_code) as normalized_code
    from {{ ref('iso_639_languages') }}

),

language_names as (

    select language_code, language_name from {{ ref('iso_639_languages') }}

),

snapshot_lists as materialized (

    {#- Materialized: the lists feed two distinct-list lookups and the final projection; inlining
        would recompute the list lambdas for each. Each lambda pass over the full tag list only
        filters; the rest works on the short filtered lists. -#}
    select
        snapshots.* exclude (tags, card_licenses, card_base_models),
        {{ license_ids_from_tags('tags', 'card_licenses') }} as license_ids,
        list_sort(list_distinct(
            list_filter(tags, lambda tag: length(tag) between 2 and 3)
        )) as short_tags,
        list_sort(list_distinct(list_concat(
            list_transform(
                list_filter(tags, lambda tag: starts_with(tag, 'base_model:')),
                lambda tag: substr(tag, 12)
            ),
            card_base_models
        ))) as parent_references,
        len(list_filter(tags, lambda tag: starts_with(tag, 'dataset:'))) as dataset_count,
        len(list_filter(tags, lambda tag: starts_with(tag, 'arxiv:'))) as arxiv_count
    from snapshots

),

license_lists as (

    select license_ids, unnest(license_ids) as license_id
    from (
        select distinct license_ids from snapshot_lists
        where len(license_ids) > 0
    )

),

license_list_categories as (

    select
        license_lists.license_ids,
        {{ license_category_from_rank(
            'min(' ~ license_category_rank("coalesce(license_taxonomy.license_category, 'other_unknown')") ~ ')'
        ) }} as license_category
    from license_lists
    left join license_taxonomy on license_lists.license_id = license_taxonomy.license_id
    group by 1

),

short_tag_lists as (

    select short_tags, unnest(short_tags) as tag
    from (
        select distinct short_tags from snapshot_lists
        where len(short_tags) > 0
    )

),

short_tag_languages as (

    select
        short_tag_lists.short_tags,
        list(distinct languages.normalized_code order by languages.normalized_code) as language_codes,
        list(distinct language_names.language_name order by language_names.language_name)
            as language_names
    from short_tag_lists
    inner join languages on short_tag_lists.tag = languages.language_code
    inner join language_names on languages.normalized_code = language_names.language_code
    group by 1

),

classified as (

    select
        snapshot_lists.* exclude (short_tags),
        license_list_categories.license_category,
        coalesce(short_tag_languages.language_codes, []) as language_codes,
        coalesce(short_tag_languages.language_names, []) as language_names
    from snapshot_lists
    left join license_list_categories on snapshot_lists.license_ids = license_list_categories.license_ids
    left join short_tag_languages on snapshot_lists.short_tags = short_tag_languages.short_tags

),

final as (

    select
        -- ids
        landing_row_id,
        crawl_id,
        model_id,
        model_sha,
        md5(concat_ws(
            '|',
            array_to_string(license_ids, ','),
            array_to_string(language_codes, ','),
            array_to_string(parent_references, ','),
            coalesce(pipeline_tag, ''),
            coalesce(library_name, ''),
            gated_mode,
            is_private::varchar,
            is_disabled::varchar
        )) as trait_hash,

        -- text
        license_ids,
        license_ids[1] as primary_license_id,
        license_category,
        language_codes,
        language_names,
        parent_references,
        pipeline_tag,
        library_name,
        gated_mode,

        -- numerics
        len(license_ids) as license_count,
        len(language_codes) as language_count,
        dataset_count,
        arxiv_count,
        model_sightings,

        -- booleans
        len(license_ids) > 0 as has_license,
        is_private,
        is_disabled,
        is_latest_sighting,

        -- timestamps
        crawl_started_at

    from classified

)

select * from final
