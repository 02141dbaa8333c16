{#- No row is its own ancestor when following `parent_column` upwards: walks up from every row,
    carrying the path, and reports any row whose walk comes back to it. The walk stops when it
    reaches a root or revisits a model, so it terminates on cycles too. -#}
{% test not_own_ancestor(model, column_name, parent_column) %}

with recursive

nodes as (

    select {{ column_name }} as node_id, {{ parent_column }} as parent_id
    from {{ model }}

),

walk (start_id, current_id, path) as (

    select node_id as start_id, parent_id as current_id, [node_id] as path
    from nodes
    where parent_id is not null

    union all

    select walk.start_id, nodes.parent_id as current_id, list_append(walk.path, walk.current_id) as path
    from walk
    inner join nodes on walk.current_id = nodes.node_id
    where nodes.parent_id is not null and not list_contains(walk.path, walk.current_id)

)

select start_id as {{ column_name }}
from walk
where current_id = start_id

{% endtest %}
