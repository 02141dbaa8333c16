{#- Ecosystem counts as of the end of each day a crawl started, from fct_model_history: the model
    versions valid at that moment. Edges are the parents declared by those versions; a parent
    resolves when a model valid that day has the id (exactly or ignoring case). A family is a
    model with no resolvable, non-self parent (cycles are not broken here, so a day with cycles
    counts slightly fewer families than dim_families). -#}
with

crawls as (

    select * from {{ ref('stg_hub__crawls') }}

),

history as (

    select * from {{ ref('fct_model_history') }}

),

crawl_days as (

    select
        cast(timezone('UTC', started_at) as date) as crawl_date,
        count(*) as crawls_started,
        count(*) filter (where is_succeeded) as crawls_succeeded
    from crawls
    group by 1

),

versions_as_of as (

    select
        crawl_days.crawl_date,
        history.model_id,
        history.license_category,
        history.parent_references
    from crawl_days
    inner join history
        on history.valid_from < timezone('UTC', crawl_days.crawl_date + interval 1 day)
            and (
                history.valid_to is null
                or history.valid_to >= timezone('UTC', crawl_days.crawl_date + interval 1 day)
            )

),

models_lower as (

    select crawl_date, lower(model_id) as model_id_lower
    from versions_as_of
    group by 1, 2

),

declared_edges as (

    select
        crawl_date,
        model_id,
        unnest(parent_references) as parent_reference
    from versions_as_of

),

resolved_edges as (

    select
        declared_edges.crawl_date,
        declared_edges.model_id,
        models_lower.model_id_lower is not null as is_resolved,
        lower(declared_edges.parent_reference) = lower(declared_edges.model_id) as is_self_loop
    from declared_edges
    left join models_lower
        on declared_edges.crawl_date = models_lower.crawl_date
            and lower(declared_edges.parent_reference) = models_lower.model_id_lower

),

edge_counts as (

    select
        crawl_date,
        count(*) filter (where not is_self_loop) as edges,
        count(*) filter (where not is_self_loop and not is_resolved) as dangling_edges,
        count(distinct model_id) filter (where is_resolved and not is_self_loop) as models_with_parent
    from resolved_edges
    group by 1

),

model_counts as (

    select
        crawl_date,
        count(*) as models,
        count(*) filter (where license_category = 'commercial_custom') as commercial_custom_models,
        count(*) filter (where license_category = 'use_restricted') as use_restricted_models,
        count(*) filter (where license_category = 'copyleft') as copyleft_models,
        count(*) filter (where license_category = 'permissive') as permissive_models,
        count(*) filter (where license_category = 'other_unknown') as other_unknown_models,
        count(*) filter (where license_category is null) as unlicensed_models
    from versions_as_of
    group by 1

),

final as (

    select
        -- ids
        crawl_days.crawl_date,

        -- numerics
        crawl_days.crawls_started,
        crawl_days.crawls_succeeded,
        coalesce(model_counts.models, 0) as models,
        coalesce(edge_counts.edges, 0) as edges,
        coalesce(edge_counts.dangling_edges, 0) as dangling_edges,
        coalesce(model_counts.models, 0) - coalesce(edge_counts.models_with_parent, 0) as families,
        coalesce(model_counts.commercial_custom_models, 0) as commercial_custom_models,
        coalesce(model_counts.use_restricted_models, 0) as use_restricted_models,
        coalesce(model_counts.copyleft_models, 0) as copyleft_models,
        coalesce(model_counts.permissive_models, 0) as permissive_models,
        coalesce(model_counts.other_unknown_models, 0) as other_unknown_models,
        coalesce(model_counts.unlicensed_models, 0) as unlicensed_models

    from crawl_days
    left join model_counts on crawl_days.crawl_date = model_counts.crawl_date
    left join edge_counts on crawl_days.crawl_date = edge_counts.crawl_date

)

select * from final
