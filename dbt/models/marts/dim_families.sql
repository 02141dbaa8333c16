{#- Members, counts and traits are joined on the integer model keys of int_lineage__tree
    (model_key, root_model_key, tree_parent_model_key), not on the model id strings. -#}
with

tree as (

    select * from {{ ref('int_lineage__tree') }}

),

models as (

    select model_key, downloads, likes, created_at, pipeline_tag from {{ ref('stg_hub__models') }}

),

traits as (

    select model_key, primary_license_id, license_category from {{ ref('int_models__traits') }}

),

child_counts as (

    select tree_parent_model_key as model_key, count(*) as tree_child_count
    from tree
    where tree_parent_model_key is not null
    group by 1

),


family_roots as (

    {#- Most families are single models: they are built by a plain projection (singletons below),
        and only the members of larger families go through the aggregations. -#}
    select
        tree.model_key,
        tree.model_id as family_id,
        child_counts.model_key is not null as has_children
    from tree
    left join child_counts on tree.model_key = child_counts.model_key
    where tree.is_root

),

members as (

    select
        tree.root_model_id as family_id,
        tree.model_key,
        tree.depth,
        tree.tree_parent_relation,
        models.downloads,
        models.likes,
        models.created_at,
        models.pipeline_tag,
        traits.primary_license_id,
        traits.license_category
    from tree
    inner join family_roots on tree.root_model_key = family_roots.model_key and family_roots.has_children
    inner join models on tree.model_key = models.model_key
    left join traits on tree.model_key = traits.model_key

),

generations as (

    select family_id, depth, count(*) as nodes
    from members
    group by 1, 2

),

generation_lists as (

    select
        family_id,
        list(nodes order by depth) as nodes_per_generation,
        max(nodes) as max_width
    from generations
    group by 1

),

license_mix as (

    select
        family_id,
        list({ 'license_id': license_id, 'models': models } order by models desc, license_id asc)
            as license_mix
    from (
        select family_id, coalesce(primary_license_id, 'none') as license_id, count(*) as models
        from members
        group by 1, 2
    )
    group by 1

),

task_mix as (

    select
        family_id,
        list({ 'pipeline_tag': pipeline_tag, 'models': models } order by models desc, pipeline_tag asc)
            as task_mix
    from (
        select family_id, coalesce(pipeline_tag, 'none') as pipeline_tag, count(*) as models
        from members
        group by 1, 2
    )
    group by 1

),

aggregated as (

    select
        members.family_id,
        count(*) as family_size,
        max(members.depth) as max_depth,
        count(*) filter (where members.tree_parent_relation = 'finetune') as finetune_children,
        count(*) filter (where members.tree_parent_relation = 'adapter') as adapter_children,
        count(*) filter (where members.tree_parent_relation = 'quantized') as quantized_children,
        count(*) filter (where members.tree_parent_relation = 'merge') as merge_children,
        count(*) filter (where child_counts.model_key is null) as leaf_count,
        sum(members.downloads) as total_downloads,
        sum(members.likes) as total_likes,
        count(*) filter (where members.license_category = 'commercial_custom')
            as commercial_custom_models,
        count(*) filter (where members.license_category = 'use_restricted') as use_restricted_models,
        count(*) filter (where members.license_category = 'copyleft') as copyleft_models,
        count(*) filter (where members.license_category = 'permissive') as permissive_models,
        count(*) filter (where members.license_category = 'other_unknown') as other_unknown_models,
        count(*) filter (where members.license_category is null) as unlicensed_models,
        min(members.created_at) as first_created_at,
        max(members.created_at) as last_created_at
    from members
    left join child_counts on members.model_key = child_counts.model_key
    group by 1

),

families as (

    select
        -- ids
        aggregated.family_id,
        aggregated.family_id as root_model_id,

        -- mixes
        generation_lists.nodes_per_generation,
        license_mix.license_mix,
        task_mix.task_mix,

        -- numerics
        aggregated.family_size,
        aggregated.max_depth,
        generation_lists.max_width,
        aggregated.leaf_count,
        aggregated.finetune_children,
        aggregated.adapter_children,
        aggregated.quantized_children,
        aggregated.merge_children,
        aggregated.total_downloads,
        aggregated.total_likes,
        aggregated.commercial_custom_models,
        aggregated.use_restricted_models,
        aggregated.copyleft_models,
        aggregated.permissive_models,
        aggregated.other_unknown_models,
        aggregated.unlicensed_models,

        -- booleans
        false as is_singleton,

        -- timestamps
        aggregated.first_created_at,
        aggregated.last_created_at

    from aggregated
    inner join generation_lists on aggregated.family_id = generation_lists.family_id
    inner join license_mix on aggregated.family_id = license_mix.family_id
    inner join task_mix on aggregated.family_id = task_mix.family_id

),

singletons as (

    select
        family_roots.family_id,
        family_roots.family_id as root_model_id,
        [1::bigint] as nodes_per_generation,
        [{ 'license_id': coalesce(traits.primary_license_id, 'none'), 'models': 1::bigint }]
            as license_mix,
        [{ 'pipeline_tag': coalesce(models.pipeline_tag, 'none'), 'models': 1::bigint }] as task_mix,
        1::bigint as family_size,
        0 as max_depth,
        1::bigint as max_width,
        1::bigint as leaf_count,
        0::bigint as finetune_children,
        0::bigint as adapter_children,
        0::bigint as quantized_children,
        0::bigint as merge_children,
        models.downloads::hugeint as total_downloads,
        models.likes::hugeint as total_likes,
        (traits.license_category = 'commercial_custom')::bigint as commercial_custom_models,
        (traits.license_category = 'use_restricted')::bigint as use_restricted_models,
        (traits.license_category = 'copyleft')::bigint as copyleft_models,
        (traits.license_category = 'permissive')::bigint as permissive_models,
        (traits.license_category = 'other_unknown')::bigint as other_unknown_models,
        (traits.license_category is null)::bigint as unlicensed_models,
        true as is_singleton,
        models.created_at as first_created_at,
        models.created_at as last_created_at
    from family_roots
    inner join models on family_roots.model_key = models.model_key
    left join traits on family_roots.model_key = traits.model_key
    where not family_roots.has_children

),

final as (

    select * from families
    union all
    select * from singletons

)

select * from final
