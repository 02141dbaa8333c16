{#- Models on a cycle of tree parents (A's first parent is B, B's is A, ...), one row per model, as
    found by int_lineage__tree (bounded upward walk from the models the downward walk from the roots
    could not reach). The cycle's id is its smallest model id, where the cycle is cut. -#}
with

tree as (

    select model_id, cycle_id from {{ ref('int_lineage__tree') }}
    where is_in_cycle

),

cycles as (

    select cycle_id, list_sort(list(model_id)) as cycle_members
    from tree
    group by 1

),

final as (

    select
        -- ids
        tree.model_id,
        tree.cycle_id,

        -- text
        cycles.cycle_members,

        -- numerics
        len(cycles.cycle_members) as cycle_length

    from tree
    inner join cycles on tree.cycle_id = cycles.cycle_id

)

select * from final
