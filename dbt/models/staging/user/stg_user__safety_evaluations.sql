{#- One row per imported evaluation row, renamed; values were typed and validated at import. -#}
with

source as (

    select * from {{ source('user', 'user_safety_evaluations') }}

),

renamed as (

    select
        -- ids
        import_id,
        row_number as file_row_number,
        model_id,

        -- text
        method,
        attack_or_benchmark,
        metric,
        unit,
        source as evidence_source,

        -- numerics
        value,

        -- dates
        evaluated_on

    from source

)

select * from renamed
