{#- One row per per-model safety evaluation the user imported: the newest import of each
    (model, method, attack or benchmark, metric, date) wins; earlier imports stay in the landing.
    A model id the warehouse does not hold is kept and flagged, never dropped. -#}
with

evaluations as (

    select * from {{ ref('stg_user__safety_evaluations') }}

),

imports as (

    select import_id, imported_at from {{ ref('stg_user__safety_imports') }}

),

models as (

    select model_id, family_id from {{ ref('dim_models') }}

),

newest_import_per_evaluation as (

    select
        evaluations.*,
        imports.imported_at
    from evaluations
    inner join imports on evaluations.import_id = imports.import_id
    qualify row_number() over (
            partition by
                evaluations.model_id,
                evaluations.method,
                evaluations.attack_or_benchmark,
                evaluations.metric,
                evaluations.evaluated_on
            order by imports.imported_at desc, evaluations.import_id desc
        ) = 1

),

final as (

    select
        newest.model_id
        || ' ' || newest.method
        || ' ' || newest.attack_or_benchmark
        || ' ' || newest.metric
        || ' ' || coalesce(cast(newest.evaluated_on as varchar), 'undated') as evaluation_id,
        newest.model_id,
        models.family_id,
        models.model_id is not null as is_model_in_warehouse,
        newest.method,
        newest.attack_or_benchmark,
        newest.metric,
        newest.value,
        newest.unit,
        newest.evaluated_on,
        newest.evidence_source as source,
        newest.import_id,
        newest.imported_at
    from newest_import_per_evaluation as newest
    left join models on newest.model_id = models.model_id

)

select * from final
