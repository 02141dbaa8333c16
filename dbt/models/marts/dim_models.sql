{#- Every per-model source is joined on the integer model_key (the latest sighting's landing row)
    rather than the model id string; cards are keyed by model id only. -#}
with

models as (

    select * from {{ ref('stg_hub__models') }}

),

traits as (

    select * from {{ ref('int_models__traits') }}

),

card_features as (

    select * from {{ ref('int_cards__features') }}

),

tree as (

    select * from {{ ref('int_lineage__tree') }}

),

edges as (

    select * from {{ ref('int_lineage__edges') }}
    where not is_self_loop

),

parent_counts as (

    select
        child_model_key as model_key,
        count(*) as parent_count,
        count(*) filter (where is_dangling) as dangling_parent_count
    from edges
    group by 1

),

child_counts as (

    select parent_model_key as model_key, count(*) as child_count
    from edges
    where not is_dangling
    group by 1

),

final as (

    select
        -- ids
        models.model_id,
        models.author,
        models.model_sha,
        tree.root_model_id as family_id,
        tree.root_model_id,
        tree.tree_parent_model_id,

        -- traits
        traits.license_ids,
        traits.primary_license_id,
        traits.license_category,
        traits.language_codes,
        traits.language_names,
        models.pipeline_tag,
        models.library_name,
        models.gated_mode,

        -- card features
        card_features.card_status,
        card_features.card_template_fingerprint,

        -- lineage
        tree.tree_parent_relation,

        -- numerics
        models.downloads,
        models.downloads_all_time,
        models.likes,
        models.trending_score,
        traits.license_count,
        traits.language_count,
        traits.dataset_count,
        traits.arxiv_count,
        card_features.card_length_characters,
        card_features.card_length_words,
        coalesce(parent_counts.parent_count, 0) as parent_count,
        coalesce(parent_counts.dangling_parent_count, 0) as dangling_parent_count,
        coalesce(child_counts.child_count, 0) as child_count,
        tree.depth,

        -- booleans
        traits.has_license,
        models.is_gated,
        models.is_private,
        models.is_disabled,
        coalesce(card_features.has_card, false) as has_card,
        coalesce(card_features.has_front_matter, false) as has_front_matter,
        coalesce(card_features.is_front_matter_valid, false) as is_front_matter_valid,
        coalesce(card_features.is_auto_generated, false) as is_auto_generated,
        tree.is_root,
        tree.is_in_cycle,
        coalesce(parent_counts.dangling_parent_count, 0) > 0 as has_dangling_parent,

        -- timestamps
        models.created_at,
        models.last_modified_at,
        models.first_seen_at,
        models.last_seen_at

    from models
    left join traits on models.model_key = traits.model_key
    left join card_features on models.model_id = card_features.model_id
    left join tree on models.model_key = tree.model_key
    left join parent_counts on models.model_key = parent_counts.model_key
    left join child_counts on models.model_key = child_counts.model_key

)

select * from final
