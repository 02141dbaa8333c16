{#- Every branch carries the edge's ids and relation, so the result needs no join back to the
    edges on the (string) edge id.
    Mutation = 1 - Jaccard(parent values, child values), defined (as in the paper) only when both
    sides have at least one value; single-valued traits are one-element lists. -#}
with

edges as (

    select * from {{ ref('fct_lineage_edges') }}
    where not is_dangling

),

trait_values as (

    select
        edge_id, child_model_id, parent_model_id, relation, 'license' as trait,
        parent_license_ids as parent_values,
        child_license_ids as child_values
    from edges
    union all
    select
        edge_id, child_model_id, parent_model_id, relation, 'license_category' as trait,
        list_filter([parent_license_category], lambda value: value is not null) as parent_values,
        list_filter([child_license_category], lambda value: value is not null) as child_values
    from edges
    union all
    select
        edge_id, child_model_id, parent_model_id, relation, 'language' as trait,
        parent_language_codes as parent_values,
        child_language_codes as child_values
    from edges
    union all
    select
        edge_id, child_model_id, parent_model_id, relation, 'task' as trait,
        list_filter([parent_pipeline_tag], lambda value: value is not null) as parent_values,
        list_filter([child_pipeline_tag], lambda value: value is not null) as child_values
    from edges
    union all
    select
        edge_id, child_model_id, parent_model_id, relation, 'library' as trait,
        list_filter([parent_library_name], lambda value: value is not null) as parent_values,
        list_filter([child_library_name], lambda value: value is not null) as child_values
    from edges

),

compared as (

    select
        trait_values.*,
        list_distinct(list_concat(parent_values, child_values)) as union_values,
        list_intersect(list_distinct(parent_values), list_distinct(child_values)) as shared_values
    from trait_values

),

final as (

    select
        -- ids
        compared.edge_id,
        compared.child_model_id,
        compared.parent_model_id,

        -- text
        compared.trait,
        compared.relation,
        nullif(array_to_string(list_sort(compared.parent_values), ','), '') as parent_value,
        nullif(array_to_string(list_sort(compared.child_values), ','), '') as child_value,

        -- numerics
        case
            when len(compared.parent_values) > 0 and len(compared.child_values) > 0
                then 1 - len(compared.shared_values) / len(compared.union_values)
        end as mutation,

        -- booleans
        list_sort(list_distinct(compared.parent_values))
        <> list_sort(list_distinct(compared.child_values)) as is_changed,
        len(compared.parent_values) > 0 and len(compared.child_values) > 0 as is_both_present

    from compared

)

select * from final
