{#- Family tree: for every model its root, depth (generation, root = 0) and tree parent.
    Cycles of tree parents (int_lineage__cycles) are broken at their smallest model id, which becomes
    the root of the family holding the cycle; everything else follows the tree parent. The walk goes
    down from the roots and reaches each model exactly once, so it terminates (depth cap as guard). -#}
with recursive

tree_parents as (

    select * from {{ ref('int_lineage__tree_parents') }}

),

cycles as (

    select * from {{ ref('int_lineage__cycles') }}

),

effective_parents as (

    select
        tree_parents.model_id,
        case
            when tree_parents.model_id = cycles.cycle_id then null
            else tree_parents.tree_parent_model_id
        end as tree_parent_model_id,
        case
            when tree_parents.model_id = cycles.cycle_id then null
            else tree_parents.tree_parent_relation
        end as tree_parent_relation,
        tree_parents.resolved_parent_count,
        cycles.cycle_id,
        coalesce(tree_parents.model_id = cycles.cycle_id, false) as is_cycle_break
    from tree_parents
    left join cycles on tree_parents.model_id = cycles.model_id

),

walk (model_id, root_model_id, depth) as (

    select model_id, model_id as root_model_id, 0 as depth
    from effective_parents
    where tree_parent_model_id is null

    union all

    select effective_parents.model_id, walk.root_model_id, walk.depth + 1 as depth
    from walk
    inner join effective_parents on walk.model_id = effective_parents.tree_parent_model_id
    where walk.depth < {{ var('max_lineage_depth', 10000) }}

),

final as (

    select
        -- ids
        effective_parents.model_id,
        effective_parents.tree_parent_model_id,
        walk.root_model_id,
        walk.root_model_id as family_id,
        effective_parents.cycle_id,

        -- text
        effective_parents.tree_parent_relation,

        -- numerics
        walk.depth,
        effective_parents.resolved_parent_count,

        -- booleans
        effective_parents.tree_parent_model_id is null as is_root,
        effective_parents.cycle_id is not null as is_in_cycle,
        effective_parents.is_cycle_break

    from effective_parents
    inner join walk on effective_parents.model_id = walk.model_id

)

select * from final
