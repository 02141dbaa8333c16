{#- For every evaluated model and every model below one: the nearest evaluated ancestor, how many
    lineage edges away, and along which relations. See the `family_safety` doc block.
    One recursive walk down every resolved lineage edge (tree and merge edges alike), started at
    the evaluated models only, so its cost follows their descendants, not the Hub:
    - a step never enters an evaluated model (that model is its own start, at distance 0) and never
      a model already on its path (a lineage cycle ends the path; nothing loops), and stops at
      var('max_lineage_depth') edges as a guard;
    - each step keeps one path per (model, evaluated ancestor): the first by relation path, then by
      the models it passes through, so a merge child reached from two parents is counted once;
    - of the paths that reach a model, the shortest wins, ties broken by the ancestor's id. -#}
with recursive

evaluations as (

    select distinct model_id from {{ ref('int_safety__evaluations') }}
    where model_id is not null

),

models as (

    select model_key, model_id from {{ ref('stg_hub__models') }}

),

edges as (

    select * from {{ ref('int_lineage__edges') }}
    where not is_dangling and not is_self_loop

),

evaluated_models as materialized (

    select models.model_key, models.model_id
    from models
    inner join evaluations on models.model_id = evaluations.model_id

),

links as materialized (

    {#- Edges into an evaluated model are never walked: that model starts its own walk. -#}
    select edges.parent_model_key, edges.child_model_key, edges.child_model_id, edges.relation
    from edges
    anti join evaluated_models on edges.child_model_key = evaluated_models.model_key

),

walk (
    model_key,
    evaluated_model_key,
    evaluated_model_id,
    distance,
    path_model_keys,
    path_model_ids,
    relations
) as (

    select
        model_key,
        model_key as evaluated_model_key,
        model_id as evaluated_model_id,
        0 as distance,
        [model_key] as path_model_keys,
        [model_id] as path_model_ids,
        cast([] as varchar[]) as relations
    from evaluated_models

    union all

    select
        links.child_model_key as model_key,
        walk.evaluated_model_key,
        walk.evaluated_model_id,
        walk.distance + 1 as distance,
        list_append(walk.path_model_keys, links.child_model_key) as path_model_keys,
        list_append(walk.path_model_ids, links.child_model_id) as path_model_ids,
        list_append(walk.relations, links.relation) as relations
    from walk
    inner join links on walk.model_key = links.parent_model_key
    where
        walk.distance < {{ var('max_lineage_depth', 10000) }}
        and not list_contains(walk.path_model_keys, links.child_model_key)
    qualify row_number() over (
            partition by links.child_model_key, walk.evaluated_model_key
            order by
                array_to_string(list_append(walk.relations, links.relation), ' > '),
                array_to_string(walk.path_model_ids, ' > ')
        ) = 1

),

nearest_distance as (

    select
        *,
        min(distance) over (partition by model_key) as nearest_distance
    from walk

),

equally_near as (

    select
        *,
        count(*) over (partition by model_key) as equally_near_evaluated_ancestors
    from nearest_distance
    where distance = nearest_distance

),

final as (

    select
        -- ids
        model_key,
        path_model_ids[-1] as model_id,
        evaluated_model_key as nearest_evaluated_model_key,
        evaluated_model_id as nearest_evaluated_model_id,

        -- text
        nullif(array_to_string(relations, ' > '), '') as relation_path,
        relations,
        path_model_ids,

        -- numerics
        distance as evaluated_ancestor_distance,
        equally_near_evaluated_ancestors

    from equally_near
    qualify row_number() over (
            partition by model_key
            order by evaluated_model_id, array_to_string(path_model_ids, ' > ')
        ) = 1

)

select * from final
