{#- One row per per-model safety evaluation: the bundled reference set (JailbreakBench 2024) and
    the newest import of each evaluation the user imported (int_safety__evaluations), joined to the
    warehouse's models. A model id the warehouse does not hold is kept and flagged, never dropped;
    a closed model (bundled rows with no Hub id) is never joined to a Hub model. -#}
with

evaluations as (

    select * from {{ ref('int_safety__evaluations') }}

),

models as (

    select model_id, family_id from {{ ref('dim_models') }}

),

final as (

    select
        -- ids
        evaluations.evaluation_id,
        evaluations.model_id,
        models.family_id,
        evaluations.import_id,

        -- text
        evaluations.evaluated_model_name,
        evaluations.evidence_kind,
        evaluations.evidence_label,
        evaluations.method,
        evaluations.attack_or_benchmark,
        evaluations.attack_type,
        evaluations.benchmark,
        evaluations.metric,
        evaluations.unit,
        evaluations.source,

        -- numerics
        evaluations.value,
        evaluations.behaviors,
        evaluations.jailbroken,

        -- booleans
        models.model_id is not null as is_model_in_warehouse,
        evaluations.model_id is null as is_closed_model,

        -- dates and timestamps
        evaluations.evaluated_on,
        evaluations.imported_at

    from evaluations
    left join models on evaluations.model_id = models.model_id

)

select * from final
