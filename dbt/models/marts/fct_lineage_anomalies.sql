{#- Lineage that cannot form a tree, listed rather than looped on:
    - self-loops (a model naming itself as parent);
    - tree-parent cycles (with their members and the model where the cycle was cut);
    - cycles closed by a non-tree edge (e.g. a merge child's second parent that descends from the
      child through tree edges): for every resolved non-tree edge child -> parent whose parent sits
      deeper in the child's own family, walk up from the parent exactly depth(parent) - depth(child)
      tree steps; landing on the child means the edge closes a cycle. Set-based and bounded by the
      depth difference (at most the tree's depth). Cycles made of several non-tree edges are not
      searched (that needs a full reachability closure). -#}
with recursive

edges as (

    select * from {{ ref('int_lineage__edges') }}

),

cycles as (

    select * from {{ ref('int_lineage__cycles') }}

),

tree as (

    select model_key, model_id, tree_parent_model_key, root_model_id as family_id, depth, is_cycle_break
    from {{ ref('int_lineage__tree') }}

),

self_loops as (

    select
        child_model_id as model_id,
        'self_loop' as anomaly_type,
        parent_reference as detail,
        child_model_id as cycle_id,
        [child_model_id] as cycle_members,
        1 as cycle_length,
        child_model_id || ' self_loop' as anomaly_id
    from edges
    where is_self_loop

),

cycle_rows as (

    select
        model_id,
        'cycle' as anomaly_type,
        case
            when model_id = cycle_id then 'cycle broken here: this model is the family root'
            else 'on a tree-parent cycle'
        end as detail,
        cycle_id,
        cycle_members,
        cycle_length,
        model_id || ' cycle' as anomaly_id
    from cycles

),

candidate_edges as (

    {#- Non-tree resolved edges whose parent is deeper in the child's family; a cut tree-parent
        cycle (already listed above) is not reported again. -#}
    select
        edges.child_model_key,
        edges.parent_model_key,
        edges.child_model_id,
        edges.parent_model_id,
        edges.relation,
        parents.depth - children.depth as steps
    from edges
    inner join tree as children on edges.child_model_key = children.model_key
    inner join tree as parents on edges.parent_model_key = parents.model_key
    where
        not edges.is_dangling
        and not edges.is_self_loop
        and not children.is_cycle_break
        and children.tree_parent_model_key is distinct from edges.parent_model_key
        and parents.family_id = children.family_id
        and parents.depth > children.depth

),

walk_up (child_model_key, parent_model_key, current_model_key, steps_left, path) as (

    select child_model_key, parent_model_key, parent_model_key as current_model_key, steps, [parent_model_id]
    from candidate_edges

    union all

    select
        walk_up.child_model_key,
        walk_up.parent_model_key,
        tree.tree_parent_model_key as current_model_key,
        walk_up.steps_left - 1 as steps_left,
        list_prepend(parents.model_id, walk_up.path) as path
    from walk_up
    inner join tree on walk_up.current_model_key = tree.model_key
    inner join tree as parents on tree.tree_parent_model_key = parents.model_key
    where walk_up.steps_left > 0

),

edge_cycle_rows as (

    select
        candidate_edges.child_model_id as model_id,
        'edge_cycle' as anomaly_type,
        candidate_edges.relation || ' edge to ' || candidate_edges.parent_model_id
        || ' closes a cycle through the tree (the parent descends from this model)' as detail,
        candidate_edges.child_model_id as cycle_id,
        walk_up.path as cycle_members,
        len(walk_up.path) as cycle_length,
        candidate_edges.child_model_id || ' edge_cycle ' || candidate_edges.parent_model_id as anomaly_id
    from walk_up
    inner join candidate_edges
        on walk_up.child_model_key = candidate_edges.child_model_key
            and walk_up.parent_model_key = candidate_edges.parent_model_key
    where walk_up.steps_left = 0 and walk_up.current_model_key = walk_up.child_model_key

),

unioned as (

    select * from self_loops
    union all
    select * from cycle_rows
    union all
    select * from edge_cycle_rows

),

final as (

    select
        -- ids
        anomaly_id,
        model_id,
        cycle_id,

        -- text
        anomaly_type,
        detail,
        cycle_members,

        -- numerics
        cycle_length

    from unioned

)

select * from final
