{#- Lineage that cannot form a tree, listed rather than looped on: self-loops (a model naming itself
    as parent) and tree-parent cycles (with their members and the model where the cycle was cut). -#}
with

edges as (

    select * from {{ ref('int_lineage__edges') }}

),

cycles as (

    select * from {{ ref('int_lineage__cycles') }}

),

self_loops as (

    select
        child_model_id as model_id,
        'self_loop' as anomaly_type,
        parent_reference as detail,
        child_model_id as cycle_id,
        [child_model_id] as cycle_members,
        1 as cycle_length
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
        cycle_length
    from cycles

),

unioned as (

    select * from self_loops
    union all
    select * from cycle_rows

),

final as (

    select
        -- ids
        model_id || ' ' || anomaly_type as anomaly_id,
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
