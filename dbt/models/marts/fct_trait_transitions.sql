{#- Every branch carries the edge's ids and relation, so the result needs no join back to the
    edges on the (string) edge id.
    Mutation = 1 - Jaccard(parent values, child values), defined (as in the paper) only when both
    sides have at least one value. Licence ids and language codes are already sorted, distinct
    lists (int_model_snapshots__traits), so they are compared as they are, and the intersection is
    computed only for the few edges whose lists differ; the single-valued traits (licence
    category, task, library) are compared as plain values (a Jaccard of two one-element sets is 0
    when equal, 1 otherwise), with no list built per row. -#}
with

edges as (

    select * from {{ ref('fct_lineage_edges') }}
    where not is_dangling

),

list_traits as (

    select
        edge_id, child_model_id, parent_model_id, relation, 'license' as trait,
        parent_license_ids as parent_values,
        child_license_ids as child_values
    from edges
    union all
    select
        edge_id, child_model_id, parent_model_id, relation, 'language' as trait,
        parent_language_codes as parent_values,
        child_language_codes as child_values
    from edges

),

list_transitions as (

    select
        edge_id,
        child_model_id,
        parent_model_id,
        trait,
        relation,
        nullif(array_to_string(parent_values, ','), '') as parent_value,
        nullif(array_to_string(child_values, ','), '') as child_value,
        case
            when len(parent_values) = 0 or len(child_values) = 0 then null
            when parent_values = child_values then 0::double
            else 1 - len(list_intersect(parent_values, child_values))
                / (len(parent_values) + len(child_values) - len(list_intersect(parent_values, child_values)))
        end as mutation,
        parent_values <> child_values as is_changed,
        len(parent_values) > 0 and len(child_values) > 0 as is_both_present
    from list_traits

),

value_traits as (

    select
        edge_id, child_model_id, parent_model_id, relation, 'license_category' as trait,
        parent_license_category as parent_value,
        child_license_category as child_value
    from edges
    union all
    select
        edge_id, child_model_id, parent_model_id, relation, 'task' as trait,
        parent_pipeline_tag as parent_value,
        child_pipeline_tag as child_value
    from edges
    union all
    select
        edge_id, child_model_id, parent_model_id, relation, 'library' as trait,
        parent_library_name as parent_value,
        child_library_name as child_value
    from edges

),

value_transitions as (

    select
        edge_id,
        child_model_id,
        parent_model_id,
        trait,
        relation,
        parent_value,
        child_value,
        case
            when parent_value is not null and child_value is not null
                then (parent_value <> child_value)::integer::double
        end as mutation,
        coalesce(
            parent_value <> child_value, parent_value is not null or child_value is not null
        ) as is_changed,
        parent_value is not null and child_value is not null as is_both_present
    from value_traits

),

final as (

    select
        -- ids
        edge_id,
        child_model_id,
        parent_model_id,

        -- text
        trait,
        relation,
        parent_value,
        child_value,

        -- numerics
        mutation,

        -- booleans
        is_changed,
        is_both_present

    from list_transitions
    union all
    select
        -- ids
        edge_id,
        child_model_id,
        parent_model_id,

        -- text
        trait,
        relation,
        parent_value,
        child_value,

        -- numerics
        mutation,

        -- booleans
        is_changed,
        is_both_present

    from value_transitions

)

select * from final
