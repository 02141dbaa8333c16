{#- Family tree: for every model its root, depth (generation, root = 0) and tree parent, in one
    pass of recursive SQL over integer keys (model_key):
    1. Walk down from the roots (models without a tree parent). Each model has at most one tree
       parent, so the walk reaches every acyclic model exactly once and ends (depth cap as a guard).
    2. The models it could not reach sit on a cycle of tree parents or below one. From each, walk up
       carrying the path; a step is only taken to a model not yet on the path, so the walk stops
       after at most (unreached models) steps. A model is on a cycle when its walk comes back to it.
    3. Each cycle is broken at its smallest model id, which becomes the root of the family holding
       the cycle; a second walk down, over the unreached models only, places the rest.
    Cycles are listed in int_lineage__cycles and fct_lineage_anomalies; nothing ever loops. -#}
with recursive

tree_parents as (

    select * from {{ ref('int_lineage__tree_parents') }}

),

links as materialized (

    {#- Only the models with a tree parent (a sixth of the Hub): each step of the walk joins its
        frontier with these, not with every model. -#}
    select model_key, tree_parent_model_key from tree_parents
    where tree_parent_model_key is not null

),

walk_down (model_key, root_model_key, depth) as (

    select model_key, model_key as root_model_key, 0 as depth
    from tree_parents
    where tree_parent_model_key is null

    union all

    select links.model_key, walk_down.root_model_key, walk_down.depth + 1 as depth
    from walk_down
    inner join links on walk_down.model_key = links.tree_parent_model_key
    where walk_down.depth < {{ var('max_lineage_depth', 10000) }}

),

unreached as (

    {#- Roots are always reached, so only models with a tree parent can be unreached. -#}
    select links.model_key, links.tree_parent_model_key
    from links
    anti join walk_down on links.model_key = walk_down.model_key

),

walk_up (start_model_key, current_model_key, path) as (

    select model_key as start_model_key, tree_parent_model_key as current_model_key, [model_key] as path
    from unreached

    union all

    select
        walk_up.start_model_key,
        unreached.tree_parent_model_key as current_model_key,
        list_append(walk_up.path, walk_up.current_model_key) as path
    from walk_up
    inner join unreached on walk_up.current_model_key = unreached.model_key
    where not list_contains(walk_up.path, walk_up.current_model_key)

),

cycle_members as (

    select start_model_key as model_key, list_sort(path) as member_keys
    from walk_up
    where current_model_key = start_model_key

),

cycle_breaks as (

    {#- One row per cycle: its smallest model id is where it is cut. -#}
    select
        cycle_members.member_keys,
        arg_min(cycle_members.model_key, tree_parents.model_id) as cycle_model_key,
        min(tree_parents.model_id) as cycle_id
    from cycle_members
    inner join tree_parents on cycle_members.model_key = tree_parents.model_key
    group by 1

),

cycles as (

    select cycle_members.model_key, cycle_breaks.cycle_model_key, cycle_breaks.cycle_id
    from cycle_members
    inner join cycle_breaks on cycle_members.member_keys = cycle_breaks.member_keys

),

unreached_effective as (

    select
        unreached.model_key,
        case
            when unreached.model_key = cycles.cycle_model_key then null
            else unreached.tree_parent_model_key
        end as tree_parent_model_key
    from unreached
    left join cycles on unreached.model_key = cycles.model_key

),

walk_cycle_families (model_key, root_model_key, depth) as (

    select model_key, model_key as root_model_key, 0 as depth
    from unreached_effective
    where tree_parent_model_key is null

    union all

    select unreached_effective.model_key, walk_cycle_families.root_model_key, walk_cycle_families.depth + 1 as depth
    from walk_cycle_families
    inner join unreached_effective
        on walk_cycle_families.model_key = unreached_effective.tree_parent_model_key
    where walk_cycle_families.depth < {{ var('max_lineage_depth', 10000) }}

),

walked as (

    select * from walk_down
    union all
    select * from walk_cycle_families

),

placed as (

    select
        walked.*,
        cycles.cycle_id,
        cycles.model_key is not null as is_in_cycle,
        coalesce(walked.model_key = cycles.cycle_model_key, false) as is_cycle_break
    from walked
    left join cycles on walked.model_key = cycles.model_key

),

final as (

    select
        -- ids
        tree_parents.model_key,
        tree_parents.model_id,
        case
            when not placed.is_cycle_break then tree_parents.tree_parent_model_id
        end as tree_parent_model_id,
        case
            when not placed.is_cycle_break then tree_parents.tree_parent_model_key
        end as tree_parent_model_key,
        roots.model_id as root_model_id,
        placed.cycle_id,
        placed.root_model_key,

        -- text
        case
            when not placed.is_cycle_break then tree_parents.tree_parent_relation
        end as tree_parent_relation,

        -- numerics
        placed.depth,
        tree_parents.resolved_parent_count,

        -- booleans
        placed.depth = 0 as is_root,
        placed.is_in_cycle,
        placed.is_cycle_break

    from placed
    inner join tree_parents on placed.model_key = tree_parents.model_key
    inner join tree_parents as roots on placed.root_model_key = roots.model_key

)

select * from final
