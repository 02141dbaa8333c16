{#- Models on a cycle of tree parents (A's first parent is B, B's is A, ...), one row per model.
    1. Walk down from the roots; every model reached is acyclic. The walk terminates because each
       model has at most one tree parent, so it is reached at most once (depth cap as a guard).
    2. From each model left over (on a cycle, or below one), walk up carrying the path; a step is only
       taken to a model not yet on the path, so the walk stops after at most N steps. A model is on
       a cycle when its walk comes back to itself. The cycle's id is its smallest model id. -#}
with recursive

tree_parents as (

    select model_id, tree_parent_model_id from {{ ref('int_lineage__tree_parents') }}

),

walk_down (model_id, depth) as (

    select model_id, 0 as depth
    from tree_parents
    where tree_parent_model_id is null

    union all

    select tree_parents.model_id, walk_down.depth + 1 as depth
    from walk_down
    inner join tree_parents on walk_down.model_id = tree_parents.tree_parent_model_id
    where walk_down.depth < {{ var('max_lineage_depth', 10000) }}

),

unreached as (

    select tree_parents.model_id, tree_parents.tree_parent_model_id
    from tree_parents
    anti join walk_down on tree_parents.model_id = walk_down.model_id

),

walk_up (start_model_id, current_model_id, path) as (

    select model_id as start_model_id, tree_parent_model_id as current_model_id, [model_id] as path
    from unreached

    union all

    select
        walk_up.start_model_id,
        unreached.tree_parent_model_id as current_model_id,
        list_append(walk_up.path, walk_up.current_model_id) as path
    from walk_up
    inner join unreached on walk_up.current_model_id = unreached.model_id
    where not list_contains(walk_up.path, walk_up.current_model_id)

),

cycle_members as (

    select
        start_model_id as model_id,
        list_min(path) as cycle_id,
        list_sort(path) as cycle_members
    from walk_up
    where current_model_id = start_model_id

),

final as (

    select
        -- ids
        model_id,
        cycle_id,

        -- text
        cycle_members,

        -- numerics
        len(cycle_members) as cycle_length

    from cycle_members

)

select * from final
