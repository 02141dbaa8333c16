{#- One row per accepted import of a safety evaluations file, renamed. -#}
with

source as (

    select * from {{ source('user', 'safety_imports') }}

),

renamed as (

    select
        -- ids
        import_id,

        -- text
        source_file,
        file_sha256,

        -- numerics
        rows_landed,

        -- timestamps
        imported_at

    from source

)

select * from renamed
