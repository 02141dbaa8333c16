{#- The validity intervals of each `partition_by` value are well formed and do not overlap: every
    interval ends after it starts, only the last one is open (valid_to null), and each one ends
    where the next one starts (or, with `allow_gaps`, at the latest there). Returns the offending
    rows. -#}
{% test intervals_do_not_overlap(
    model, column_name, valid_to='valid_to', partition_by='model_id', allow_gaps=false
) %}

with ordered as (

    select
        {{ partition_by }} as partition_value,
        {{ column_name }} as interval_start,
        {{ valid_to }} as interval_end,
        lead({{ column_name }}) over (
            partition by {{ partition_by }} order by {{ column_name }}
        ) as next_start
    from {{ model }}

)

select * from ordered
where
    interval_end <= interval_start
    {% if allow_gaps -%}
    or (interval_end is null and next_start is not null)
    or interval_end > next_start
    {%- else -%}
    or interval_end is distinct from next_start
    {%- endif %}

{% endtest %}
