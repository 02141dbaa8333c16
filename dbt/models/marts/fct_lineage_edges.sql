{#- Parent and child traits are joined on the integer model keys the edges carry (a dangling
    parent has none, so its trait columns are null), not on the model id strings. -#}
with

edges as (

    select * from {{ ref('int_lineage__edges') }}
    where not is_self_loop

),

tree as (

    select model_key, tree_parent_model_key from {{ ref('int_lineage__tree') }}

),

traits as (

    select * from {{ ref('int_models__traits') }}

),

models as (

    select model_key, created_at, downloads, likes from {{ ref('stg_hub__models') }}

),

final as (

    select
        -- ids
        edges.edge_id,
        edges.child_model_id,
        edges.parent_model_id,
        edges.parent_reference,

        -- edge
        edges.relation,
        edges.relation_basis,
        edges.edge_sources,
        edges.parent_match,

        -- parent and child traits, side by side
        parent_traits.license_ids as parent_license_ids,
        child_traits.license_ids as child_license_ids,
        parent_traits.license_category as parent_license_category,
        child_traits.license_category as child_license_category,
        parent_traits.language_codes as parent_language_codes,
        child_traits.language_codes as child_language_codes,
        parent_traits.pipeline_tag as parent_pipeline_tag,
        child_traits.pipeline_tag as child_pipeline_tag,
        parent_traits.library_name as parent_library_name,
        child_traits.library_name as child_library_name,

        -- numerics
        edges.parent_position,
        edges.child_parent_count,
        parent_models.downloads as parent_downloads,
        child_models.downloads as child_downloads,
        parent_models.likes as parent_likes,
        child_models.likes as child_likes,

        -- booleans
        edges.has_typed_tag,
        edges.has_bare_tag,
        edges.has_card_data,
        edges.is_relation_inferred,
        edges.is_case_insensitive_match,
        edges.is_dangling,
        coalesce(tree.tree_parent_model_key = edges.parent_model_key, false) as is_tree_edge,

        -- timestamps
        parent_models.created_at as parent_created_at,
        child_models.created_at as child_created_at

    from edges
    left join tree on edges.child_model_key = tree.model_key
    left join traits as parent_traits on edges.parent_model_key = parent_traits.model_key
    left join traits as child_traits on edges.child_model_key = child_traits.model_key
    left join models as parent_models on edges.parent_model_key = parent_models.model_key
    left join models as child_models on edges.child_model_key = child_models.model_key

)

select * from final
