{#- The parent each model hangs from in the family tree. Rule: among the model's resolved
    (non-dangling, non-self-loop) parents, the first listed one (parent_position: cardData.base_model
    order, then tag order). A merge child therefore hangs from its first listed parent; every merge
    edge stays in int_lineage__edges. Models without a resolved parent are roots. Integer keys
    (model_key) ride along so the recursive walk in int_lineage__tree joins integers, not ids. -#}
with

models as (

    select model_key, model_id from {{ ref('stg_hub__models') }}

),

edges as (

    select * from {{ ref('int_lineage__edges') }}
    where not is_dangling and not is_self_loop

),

first_parent as (

    select
        child_model_key,
        parent_model_key,
        parent_model_id,
        relation,
        count(*) over (partition by child_model_key) as resolved_parent_count
    from edges
    qualify row_number() over (partition by child_model_key order by parent_position) = 1

),

final as (

    select
        -- ids
        models.model_key,
        models.model_id,
        first_parent.parent_model_key as tree_parent_model_key,
        first_parent.parent_model_id as tree_parent_model_id,

        -- text
        first_parent.relation as tree_parent_relation,

        -- numerics
        coalesce(first_parent.resolved_parent_count, 0) as resolved_parent_count

    from models
    left join first_parent on models.model_key = first_parent.child_model_key

)

select * from final
