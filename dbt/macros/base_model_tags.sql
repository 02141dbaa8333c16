{#- The parts of a `base_model:` tag, given what follows `base_model:` (the tag suffix):
    `finetune:X`, `adapter:X`, `quantized:X`, `merge:X` are typed (relation kept), anything else is
    a bare reference. Used by stg_hub__model_tags (classification for users) and
    int_lineage__edges (which reads only the base_model tags, without unnesting every tag). -#}
{% macro base_model_tag_relation(suffix) -%}
    case
        when contains({{ suffix }}, ':')
            and split_part({{ suffix }}, ':', 1) in ('finetune', 'adapter', 'quantized', 'merge')
            then split_part({{ suffix }}, ':', 1)
    end
{%- endmacro %}

{% macro base_model_tag_reference(suffix) -%}
    case
        when contains({{ suffix }}, ':')
            and split_part({{ suffix }}, ':', 1) in ('finetune', 'adapter', 'quantized', 'merge')
            then substr({{ suffix }}, strpos({{ suffix }}, ':') + 1)
        else {{ suffix }}
    end
{%- endmacro %}
