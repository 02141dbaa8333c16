{#- Custom schemas are used as-is (`staging`, `intermediate`, `reference`), marts land in `main`,
    so SQL users query `main.dim_models` rather than `main_marts.dim_models`. -#}
{% macro generate_schema_name(custom_schema_name, node) -%}
    {%- if custom_schema_name is none -%}
        {{ target.schema }}
    {%- else -%}
        {{ custom_schema_name | trim }}
    {%- endif -%}
{%- endmacro %}
