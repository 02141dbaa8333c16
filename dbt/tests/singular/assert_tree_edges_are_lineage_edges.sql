-- Every tree parent is the parent of a real, resolved lineage edge of the same relation.
select
    tree.model_id,
    tree.tree_parent_model_id
from {{ ref('int_lineage__tree') }} as tree
left join {{ ref('fct_lineage_edges') }} as edges
    on
        tree.model_id = edges.child_model_id
        and tree.tree_parent_model_id = edges.parent_model_id
        and tree.tree_parent_relation = edges.relation
        and not edges.is_dangling
where tree.tree_parent_model_id is not null and edges.edge_id is null
