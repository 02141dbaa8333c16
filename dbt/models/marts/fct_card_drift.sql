with

edges as (

    select edge_id, child_model_id, parent_model_id, relation
    from {{ ref('fct_lineage_edges') }}
    where not is_dangling

),

cards as (

    select * from {{ ref('int_cards__features') }}

),

final as (

    select
        -- ids
        edges.edge_id,
        edges.child_model_id,
        edges.parent_model_id,

        -- text
        edges.relation,
        parent_cards.card_status as parent_card_status,
        child_cards.card_status as child_card_status,

        -- numerics
        parent_cards.card_length_characters as parent_card_length_characters,
        child_cards.card_length_characters as child_card_length_characters,
        child_cards.card_length_characters - parent_cards.card_length_characters
            as card_length_characters_change,
        parent_cards.card_length_words as parent_card_length_words,
        child_cards.card_length_words as child_card_length_words,

        -- booleans
        coalesce(parent_cards.has_card, false) as parent_has_card,
        coalesce(child_cards.has_card, false) as child_has_card,
        coalesce(parent_cards.is_auto_generated, false) as parent_is_auto_generated,
        coalesce(child_cards.is_auto_generated, false) as child_is_auto_generated,
        coalesce(parent_cards.has_card and child_cards.has_card, false) as is_both_carded,
        coalesce(
            parent_cards.card_template_fingerprint = child_cards.card_template_fingerprint, false
        ) as is_same_template

    from edges
    left join cards as parent_cards on edges.parent_model_id = parent_cards.model_id
    left join cards as child_cards on edges.child_model_id = child_cards.model_id

)

select * from final
