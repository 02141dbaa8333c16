{#- A JSON field that may be a string or a list of strings (cardData.base_model, .license,
    .language) as a VARCHAR[]: a string becomes a one-element list, absent/null an empty list. -#}
{% macro json_string_list(json_column, key) -%}
    case json_type({{ json_column }}, '$.{{ key }}')
        when 'ARRAY' then list_filter(
            json_transform(json_extract({{ json_column }}, '$.{{ key }}'), '["VARCHAR"]'),
            lambda item: item is not null and trim(item) <> ''
        )
        when 'VARCHAR' then [json_extract_string({{ json_column }}, '$.{{ key }}')]
        else []
    end
{%- endmacro %}
