{#- One row per (child, resolved parent): every parent reference the Hub gives, merged.
    See the `lineage_rules` doc block for the resolution and relation-inference rules. -#}
with

models as not materialized (

    {#- Read in several places below; a view over a column store, so each read scans only the
        columns it needs instead of DuckDB materializing the wide CTE once. -#}
    select model_key, model_id, library_name, has_gguf, tags, card_base_models, card_base_model_relation
    from {{ ref('stg_hub__models') }}

),

tags as (

    select
        model_key,
        unnest(tags) as tag,
        generate_subscripts(tags, 1) as tag_position
    from models

),

tag_references as (

    {#- Only base_model tags (same rules as stg_hub__model_tags, through the same macros). -#}
    select
        model_key as child_model_key,
        trim({{ base_model_tag_reference('substr(tag, 12)') }}) as parent_reference,
        {{ base_model_tag_relation('substr(tag, 12)') }} as declared_relation,
        case
            when {{ base_model_tag_relation('substr(tag, 12)') }} is null then 'bare_tag' else 'typed_tag'
        end as edge_source,
        1000 + tag_position as listing_order
    from tags
    where starts_with(tag, 'base_model:')

),

card_references as (

    select
        model_key as child_model_key,
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
    where parent_reference <> ''
    union all
    select * from card_references
    where parent_reference <> ''

),

exact_resolved as (

    select
        all_references.*,
        models.model_id as exact_model_id,
        models.model_key as exact_model_key
    from all_references
    left join models on all_references.parent_reference = models.model_id

),

case_insensitive_ids as (

    {#- Lower-cased ids only for the references without an exact match (a small set), not a
        lower-case index of every model. Several models equal ignoring case: the smallest id. -#}
    select
        lower(models.model_id) as model_id_lower,
        min(models.model_id) as model_id,
        arg_min(models.model_key, models.model_id) as model_key
    from models
    semi join exact_resolved
        on exact_resolved.exact_model_key is null
            and lower(models.model_id) = lower(exact_resolved.parent_reference)
    group by 1

),

resolved as (

    select
        exact_resolved.* exclude (exact_model_id, exact_model_key),
        coalesce(
            exact_resolved.exact_model_id, case_match.model_id, exact_resolved.parent_reference
        ) as parent_model_id,
        coalesce(exact_resolved.exact_model_key, case_match.model_key) as parent_model_key,
        case
            when exact_resolved.exact_model_key is not null then 1
            when case_match.model_key is not null then 2
            else 3
        end as match_rank
    from exact_resolved
    left join case_insensitive_ids as case_match
        on exact_resolved.exact_model_key is null
            and lower(exact_resolved.parent_reference) = case_match.model_id_lower

),

grouped as (

    select
        child_model_key,
        parent_model_id,
        any_value(parent_model_key) as parent_model_key,
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

children as (

    select
        models.model_key as child_model_key,
        models.model_id as child_model_id,
        models.has_gguf
        or models.library_name = 'gguf'
        {#- list_filter rather than list_has_any, which is several times slower in DuckDB 2.0. -#}
        or len(list_filter(
            models.tags,
            lambda tag: tag in ('gguf', 'gptq', 'awq', 'exl2', '4-bit', '8-bit', 'bitsandbytes')
        )) > 0 as child_has_quantization_signal,
        models.library_name = 'peft'
        or len(list_filter(models.tags, lambda tag: tag in ('peft', 'lora'))) > 0
            as child_has_adapter_signal
    from models
    semi join grouped on models.model_key = grouped.child_model_key

),

positions as (

    {#- Both per-child windows on narrow rows (one sort), joined back to the wide ones. -#}
    select
        grouped.child_model_key,
        grouped.parent_model_id,
        count(*) filter (where children.child_model_id <> grouped.parent_model_id)
            over (partition by grouped.child_model_key) as child_parent_count,
        row_number() over (
            partition by grouped.child_model_key
            order by
                children.child_model_id = grouped.parent_model_id,
                grouped.listing_order,
                grouped.parent_model_id
        ) as parent_position
    from grouped
    inner join children on grouped.child_model_key = children.child_model_key

),

with_child as (

    select
        grouped.*,
        children.child_model_id,
        children.child_has_quantization_signal,
        children.child_has_adapter_signal,
        children.child_model_id = grouped.parent_model_id as is_self_loop,
        positions.child_parent_count,
        positions.parent_position
    from grouped
    inner join children on grouped.child_model_key = children.child_model_key
    inner join positions
        on grouped.child_model_key = positions.child_model_key
            and grouped.parent_model_id = positions.parent_model_id

),

final as (

    select
        -- ids
        parent_model_id || ' -> ' || child_model_id as edge_id,
        child_model_id,
        parent_model_id,
        coalesce(exact_reference, any_reference) as parent_reference,
        child_model_key,
        parent_model_key,

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
        parent_position,
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
