{#- Safety beside families: one row per model that is evaluated, descends from an evaluated model,
    or shares a family with an evaluated model; where it stands relative to its nearest evaluated
    ancestor (int_safety__nearest_evaluated_ancestors). A pointer to evidence, never a score: an
    un-evaluated model carries no value of its own here. See the `family_safety` doc block. -#}
with

nearest as (

    select * from {{ ref('int_safety__nearest_evaluated_ancestors') }}

),

evaluations as (

    select model_id from {{ ref('int_safety__evaluations') }}
    where model_id is not null

),

models as (

    select model_id, family_id, downloads, likes from {{ ref('dim_models') }}

),

own_evaluations as (

    select model_id, count(*) as own_evaluation_count
    from evaluations
    group by 1

),

evaluated_families as (

    select distinct models.family_id
    from nearest
    inner join models on nearest.model_id = models.model_id
    where nearest.evaluated_ancestor_distance = 0

),

family_members as (

    select models.model_id
    from models
    inner join evaluated_families on models.family_id = evaluated_families.family_id

),

placed_models as (

    select model_id from family_members
    union
    select model_id from nearest

),

placed as (

    select
        -- ids
        models.model_id,
        models.family_id,
        nearest.nearest_evaluated_model_id,
        ancestors.family_id as nearest_evaluated_family_id,

        -- text
        nearest.relation_path,
        nearest.relations,
        nearest.path_model_ids,

        -- numerics
        nearest.evaluated_ancestor_distance,
        nearest.equally_near_evaluated_ancestors,
        models.downloads,
        models.likes,
        coalesce(own_evaluations.own_evaluation_count, 0) as own_evaluation_count,

        -- booleans
        coalesce(nearest.evaluated_ancestor_distance = 0, false) as is_evaluated,
        coalesce(nearest.evaluated_ancestor_distance > 0, false) as has_evaluated_ancestor,
        evaluated_families.family_id is not null as is_in_evaluated_family

    from placed_models
    inner join models on placed_models.model_id = models.model_id
    left join nearest on placed_models.model_id = nearest.model_id
    left join models as ancestors on nearest.nearest_evaluated_model_id = ancestors.model_id
    left join own_evaluations on placed_models.model_id = own_evaluations.model_id
    left join evaluated_families on models.family_id = evaluated_families.family_id

),

final as (

    {#- Where an evaluation is most needed: the un-evaluated descendants of each evaluated model,
        most downloaded first. -#}
    select
        *,
        case
            when has_evaluated_ancestor
                then row_number() over (
                        partition by nearest_evaluated_model_id, has_evaluated_ancestor
                        order by downloads desc nulls last, model_id asc
                    )
        end as download_rank_under_ancestor
    from placed

)

select * from final
