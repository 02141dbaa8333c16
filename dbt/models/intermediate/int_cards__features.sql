-- sqlfluff:indentation:template_blocks_indent:False
{#- Card features per model with a card fetch. Rules:
    - length in characters / whitespace-separated words of the whole README (front matter included,
      as the paper measured it; a missing card has no length rather than the paper's 3 of "nan");
    - front matter present: the text starts with a `---` line and a later `---` line closes it;
    - front matter valid (a structural check, no YAML parser in SQL): every non-blank line of the
      block is a `key:` line, an indented continuation, a `- ` list item or a `#` comment, and no
      line is indented with a tab;
    - auto-generated: the paper's substring rule, lower-cased text contains "automatically generated"
      or "generated automatically";
    - template fingerprint: md5 of the card's markdown headings (lower-cased, digits and punctuation
      stripped, in order), i.e. its section skeleton; cards from the same template share it.

    Incremental (issue 13): the features are regexes over the card text, so a build recomputes
    only the models whose stg_hub__cards row took in a fetch from this build's landing window
    (last_fetch_row_id past the previous build's last raw_cards row); delete+insert on model_id
    replaces their rows, every other model keeps its stored features. -#}
{{ config(
    materialized='incremental',
    unique_key='model_id',
    incremental_strategy='delete+insert',
    on_schema_change='fail',
) }}

with

cards as (

    select * from {{ ref('stg_hub__cards') }}
    {% if is_incremental() %}
    where last_fetch_row_id > {{ landing_after('raw_cards') }}
    {% endif %}

),

split as (

    select
        model_id,
        card_status,
        card_text,
        has_card_text,
        regexp_extract(card_text, '(?s)^---[ \t]*\r?\n(.*?)\r?\n---[ \t]*(\r?\n|$)', 1) as front_matter,
        regexp_matches(card_text, '(?s)^---[ \t]*\r?\n(.*?)\r?\n---[ \t]*(\r?\n|$)') as has_front_matter
    from cards

),

features as (

    select
        -- ids
        model_id,

        -- text
        card_status,
        case
            when has_card_text and regexp_matches(card_text, '(?m)^#{1,6}[ \t]+\S') then md5(array_to_string(
                    list_transform(
                        regexp_extract_all(card_text, '(?m)^#{1,6}[ \t]+(.+)$', 1),
                        lambda heading: trim(regexp_replace(lower(heading), '[^a-z]+', ' ', 'g'))
                    ),
                    '|'
                ))
        end as card_template_fingerprint,

        -- numerics
        length(card_text) as card_length_characters,
        case
            when has_card_text then len(list_filter(
                    regexp_split_to_array(card_text, '\s+'), lambda word: word <> ''
                ))
        end as card_length_words,

        -- booleans
        has_card_text as has_card,
        coalesce(has_front_matter, false) as has_front_matter,
        coalesce(
            has_front_matter
            and not regexp_matches(front_matter, '(?m)^\t')
            and len(list_filter(
                string_split(front_matter, chr(10)),
                lambda line: not regexp_full_match(
                    rtrim(line, chr(13)),
                    '(\s*|#.*|[^\s:#][^:]*:.*|\s+.*|-(\s.*)?)'
                )
            )) = 0,
            false
        ) as is_front_matter_valid,
        coalesce(
            contains(lower(card_text), 'automatically generated')
            or contains(lower(card_text), 'generated automatically'),
            false
        ) as is_auto_generated

    from split

)

select * from features
