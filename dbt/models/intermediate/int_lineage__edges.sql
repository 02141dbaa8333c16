{#- One row per (child, resolved parent): every parent reference the Hub gives, merged.
    See the `lineage_rules` doc block for the resolution and relation-inference rules. -#}
with

models as (

    select model_id, library_name, has_gguf, tags, card_base_models, card_base_model_relation
    from {{ ref('stg_hub__models') }}

),

base_model_tags as (

    select model_id, tag_value, base_model_relation, tag_position
    from {{ ref('stg_hub__model_tags') }}
    where tag_type = 'base_model'

),

tag_references as (

    select
        model_id as child_model_id,
        trim(tag_value) as parent_reference,
        base_model_relation as declared_relation,
        case when base_model_relation is null then 'bare_tag' else 'typed_tag' end as edge_source,
        1000 + tag_position as listing_order
    from base_model_tags

),

card_references as (

    select
        model_id as child_model_id,
        trim(unnest(card_base_models)) as parent_reference,
        case
            when lower(card_base_model_relation) in ('finetune', 'adapter', 'quantized', 'merge')
                then lower(card_base_model_relation)
        end as declared_relation,
        'card_data' as edge_source,
        generate_subscripts(card_base_models, 1) as listing_order
    from models
    where len(card_base_models) > 0

),

all_references as (

    select * from tag_references
    union all
    select * from card_references

),

model_ids as (

    select model_id from models

),

model_ids_lower as (

    select lower(model_id) as model_id_lower, min(model_id) as model_id
    from models
    group by 1

),

resolved as (

    select
        all_references.*,
        coalesce(exact_match.model_id, case_match.model_id, all_references.parent_reference)
            as parent_model_id,
        case
            when exact_match.model_id is not null then 1
            when case_match.model_id is not null then 2
            else 3
        end as match_rank
    from all_references
    left join model_ids as exact_match
        on all_references.parent_reference = exact_match.model_id
    left join model_ids_lower as case_match
        on lower(all_references.parent_reference) = case_match.model_id_lower
    where all_references.parent_reference <> ''

),

grouped as (

    select
        child_model_id,
        parent_model_id,
        min(parent_reference) filter (where match_rank = 1) as exact_reference,
        min(parent_reference) as any_reference,
        min(match_rank) as match_rank,
        min(listing_order) as listing_order,
        list(distinct edge_source order by edge_source) as edge_sources,
        {#- Several typed relations for one pair: merge wins, then adapter, quantized, finetune
            (the paper's overwrite order). -#}
        case max(
            case declared_relation
                when 'finetune' then 1 when 'quantized' then 2
                when 'adapter' then 3 when 'merge' then 4
            end
        ) filter (where edge_source = 'typed_tag')
            when 1 then 'finetune' when 2 then 'quantized'
            when 3 then 'adapter' when 4 then 'merge'
        end as typed_tag_relation,
        any_value(declared_relation) filter (where edge_source = 'card_data') as card_relation
    from resolved
    group by 1, 2

),

with_child as (

    select
        grouped.*,
        grouped.child_model_id = grouped.parent_model_id as is_self_loop,
        count(*) filter (where grouped.child_model_id <> grouped.parent_model_id)
            over (partition by grouped.child_model_id) as child_parent_count,
        models.has_gguf
        or models.library_name = 'gguf'
        or list_has_any(
            models.tags, ['gguf', 'gptq', 'awq', 'exl2', '4-bit', '8-bit', 'bitsandbytes']
        ) as child_has_quantization_signal,
        models.library_name = 'peft'
        or list_has_any(models.tags, ['peft', 'lora']) as child_has_adapter_signal
    from grouped
    inner join models on grouped.child_model_id = models.model_id

),

final as (

    select
        -- ids
        parent_model_id || ' -> ' || child_model_id as edge_id,
        child_model_id,
        parent_model_id,
        coalesce(exact_reference, any_reference) as parent_reference,

        -- text
        coalesce(
            typed_tag_relation,
            card_relation,
            case
                when child_parent_count > 1 then 'merge'
                when child_has_quantization_signal then 'quantized'
                when child_has_adapter_signal then 'adapter'
                else 'finetune'
            end
        ) as relation,
        case
            when typed_tag_relation is not null then 'typed_tag'
            when card_relation is not null then 'card_data'
            else 'inferred'
        end as relation_basis,
        edge_sources,
        case match_rank
            when 1 then 'exact' when 2 then 'case_insensitive' else 'dangling'
        end as parent_match,

        -- numerics
        row_number() over (
            partition by child_model_id order by is_self_loop, listing_order, parent_model_id
        ) as parent_position,
        child_parent_count,

        -- booleans
        list_contains(edge_sources, 'typed_tag') as has_typed_tag,
        list_contains(edge_sources, 'bare_tag') as has_bare_tag,
        list_contains(edge_sources, 'card_data') as has_card_data,
        typed_tag_relation is null and card_relation is null as is_relation_inferred,
        match_rank = 2 as is_case_insensitive_match,
        match_rank = 3 as is_dangling,
        is_self_loop

    from with_child

)

select * from final
