{#- The traits compared along lineage edges, one row per model: licence ids (license: tags ∪
    cardData.license, lower-cased, sorted), the most restrictive licence category, ISO language
    codes (tags that are codes of the iso_639_languages seed, 3-letter codes folded into their
    2-letter equivalent). Licence and language lists repeat a lot, so they are classified once per
    distinct list and joined back, instead of once per model. -#}
with

models as (

    select model_id, tags, card_licenses, pipeline_tag, library_name
    from {{ ref('stg_hub__models') }}

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

model_lists as (

    select
        model_id,
        pipeline_tag,
        library_name,
        {{ license_ids_from_tags('tags', 'card_licenses') }} as license_ids,
        list_sort(list_distinct(
            list_filter(tags, lambda tag: length(tag) between 2 and 3)
        )) as short_tags,
        len(list_filter(tags, lambda tag: starts_with(tag, 'dataset:'))) as dataset_count,
        len(list_filter(tags, lambda tag: starts_with(tag, 'arxiv:'))) as arxiv_count
    from models

),

license_lists as (

    select license_ids, unnest(license_ids) as license_id
    from (
        select distinct license_ids from model_lists
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
        select distinct short_tags from model_lists
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

final as (

    select
        -- ids
        model_lists.model_id,

        -- text
        model_lists.license_ids,
        model_lists.license_ids[1] as primary_license_id,
        license_list_categories.license_category,
        coalesce(short_tag_languages.language_codes, []) as language_codes,
        coalesce(short_tag_languages.language_names, []) as language_names,
        model_lists.pipeline_tag,
        model_lists.library_name,

        -- numerics
        len(model_lists.license_ids) as license_count,
        len(coalesce(short_tag_languages.language_codes, [])) as language_count,
        model_lists.dataset_count,
        model_lists.arxiv_count,

        -- booleans
        len(model_lists.license_ids) > 0 as has_license

    from model_lists
    left join license_list_categories on model_lists.license_ids = license_list_categories.license_ids
    left join short_tag_languages on model_lists.short_tags = short_tag_languages.short_tags

)

select * from final
