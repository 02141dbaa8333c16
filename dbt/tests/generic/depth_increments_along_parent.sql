{#- depth(child) = depth(parent) + 1 for every row with a parent, and depth = 0 for roots. -#}
{% test depth_increments_along_parent(model, column_name, parent_column, key_column) %}

select child.{{ key_column }}, child.{{ column_name }} as child_depth, parent.{{ column_name }} as parent_depth
from {{ model }} as child
left join {{ model }} as parent on child.{{ parent_column }} = parent.{{ key_column }}
where
    (child.{{ parent_column }} is null and child.{{ column_name }} <> 0)
    or (child.{{ parent_column }} is not null and parent.{{ key_column }} is null)
    or (child.{{ parent_column }} is not null and child.{{ column_name }} <> parent.{{ column_name }} + 1)

{% endtest %}
