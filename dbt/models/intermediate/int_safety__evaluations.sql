{#- One row per per-model safety evaluation, from both kinds of evidence:
    - user imports (`hubgenome safety import`): the newest import of each (model, method, attack or
      benchmark, metric, date) wins; earlier imports stay in the landing;
    - the bundled reference set (seed jailbreakbench_2024): the JailbreakBench attack success rates,
      mapped onto the import's columns (its `defense` is the method, its attack the
      attack_or_benchmark); rows of closed models keep an empty model_id and their benchmark name.
    Each row says which kind it is (evidence_kind) and where its number comes from (source). -#}
with

user_evaluations as (

    select * from {{ ref('stg_user__safety_evaluations') }}

),

imports as (

    select import_id, imported_at from {{ ref('stg_user__safety_imports') }}

),

bundled as (

    select * from {{ ref('jailbreakbench_2024') }}

),

newest_user_evaluations as (

    select
        user_evaluations.*,
        imports.imported_at
    from user_evaluations
    inner join imports on user_evaluations.import_id = imports.import_id
    qualify row_number() over (
            partition by
                user_evaluations.model_id,
                user_evaluations.method,
                user_evaluations.attack_or_benchmark,
                user_evaluations.metric,
                user_evaluations.evaluated_on
            order by imports.imported_at desc, user_evaluations.import_id desc
        ) = 1

),

user_rows as (

    select
        model_id
        || ' ' || method
        || ' ' || attack_or_benchmark
        || ' ' || metric
        || ' ' || coalesce(cast(evaluated_on as varchar), 'undated') as evaluation_id,
        model_id,
        model_id as evaluated_model_name,
        'user_import' as evidence_kind,
        'user import' as evidence_label,
        method,
        attack_or_benchmark,
        cast(null as varchar) as attack_type,
        cast(null as varchar) as benchmark,
        metric,
        unit,
        evidence_source as source,
        value,
        cast(null as integer) as behaviors,
        cast(null as integer) as jailbroken,
        evaluated_on,
        import_id,
        imported_at
    from newest_user_evaluations

),

bundled_rows as (

    select
        'jailbreakbench-2024 '
        || benchmark_model
        || ' ' || defense
        || ' ' || method
        || ' ' || metric
        || ' ' || cast(evaluation_date as varchar) as evaluation_id,
        nullif(trim(model_id), '') as model_id,
        benchmark_model as evaluated_model_name,
        'bundled_reference' as evidence_kind,
        'bundled reference (JailbreakBench 2024)' as evidence_label,
        defense as method,
        method as attack_or_benchmark,
        attack_type,
        benchmark,
        metric,
        unit,
        source,
        value,
        behaviors,
        jailbroken,
        evaluation_date as evaluated_on,
        cast(null as varchar) as import_id,
        cast(null as timestamptz) as imported_at
    from bundled

),

final as (

    select * from user_rows
    union all
    select * from bundled_rows

)

select * from final
