{#- Licence categories from most to least restrictive. A model with several licences gets the most
    restrictive one (rank 1 = commercial_custom ... 5 = other_unknown). -#}
{% macro license_category_rank(category) -%}
    case {{ category }}
        when 'commercial_custom' then 1
        when 'use_restricted' then 2
        when 'copyleft' then 3
        when 'permissive' then 4
        else 5
    end
{%- endmacro %}

{% macro license_category_from_rank(rank) -%}
    case {{ rank }}
        when 1 then 'commercial_custom'
        when 2 then 'use_restricted'
        when 3 then 'copyleft'
        when 4 then 'permissive'
        when 5 then 'other_unknown'
    end
{%- endmacro %}

{#- Licence ids of a model: `license:` tags and cardData.license entries, lower-cased, trimmed,
    de-duplicated and sorted (so equal sets compare equal). -#}
{% macro license_ids_from_tags(tags, card_licenses) -%}
    list_sort(list_distinct(list_filter(
        list_concat(
            list_transform(
                list_filter({{ tags }}, lambda tag: starts_with(tag, 'license:')),
                lambda tag: lower(trim(substr(tag, 9)))
            ),
            list_transform({{ card_licenses }}, lambda license: lower(trim(license)))
        ),
        lambda license: license <> ''
    )))
{%- endmacro %}
