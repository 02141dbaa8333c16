{#- Classification rules (first match wins):
    license:/dataset:/arxiv:/region:/base_model: prefixes -> that type, value after the prefix;
    base_model:{finetune,adapter,quantized,merge}:X -> typed parent tag, relation kept;
    a tag equal to an ISO 639-1 code, or to a non-ambiguous ISO 639-3 code from the seed -> language;
    anything else -> other. -#}
with

models as (

    select model_id, tags from {{ ref('stg_hub__models') }}

),

languages as (

    select language_code, coalesce(iso_639_1_code, language_code) as normalized_code
    from {{ ref('iso_639_languages') }}

),

unnested as (

    select
        model_id,
        unnest(tags) as tag,
        generate_subscripts(tags, 1) as tag_position
    from models

),

split as (

    select
        model_id,
        tag_position,
        tag,
        case
            when contains(tag, ':') then split_part(tag, ':', 1)
        end as tag_prefix,
        case
            when contains(tag, ':') then substr(tag, strpos(tag, ':') + 1)
        end as tag_suffix
    from unnested

),

classified as (

    select
        split.model_id,
        split.tag_position,
        split.tag,
        case
            when split.tag_prefix in ('license', 'dataset', 'arxiv', 'region', 'base_model')
                then split.tag_prefix
            when languages.language_code is not null then 'language'
            else 'other'
        end as tag_type,
        case
            when split.tag_prefix = 'base_model'
                then {{ base_model_tag_relation('split.tag_suffix') }}
        end as base_model_relation,
        languages.normalized_code as language_code,
        split.tag_suffix
    from split
    left join languages on split.tag = languages.language_code

),

final as (

    select
        -- ids
        model_id,

        -- text
        tag,
        tag_type,
        case
            when tag_type = 'base_model' then {{ base_model_tag_reference('tag_suffix') }}
            when tag_type = 'language' then tag
            when tag_type <> 'other' then tag_suffix
            else tag
        end as tag_value,
        base_model_relation,
        language_code,

        -- numerics
        tag_position

    from classified

)

select * from final
