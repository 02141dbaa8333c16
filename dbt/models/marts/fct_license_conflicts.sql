{#- One row per (edge, rule, parent licence) that breaks a rule of the license_obligation_rules
    seed. Only edges whose parent was crawled (non-dangling) can be checked. -#}
with

edges as (

    select
        edge_id,
        child_model_id,
        parent_model_id,
        relation,
        parent_license_ids,
        child_license_ids
    from {{ ref('fct_lineage_edges') }}
    where not is_dangling and len(parent_license_ids) > 0

),

taxonomy as (

    select * from {{ ref('license_taxonomy') }}

),

rules as (

    select
        *,
        string_split(coalesce(child_license_categories, ''), '|') as child_categories
    from {{ ref('license_obligation_rules') }}

),

parent_licenses as (

    select
        edges.edge_id,
        edges.child_license_ids,
        unnest(edges.parent_license_ids) as parent_license_id
    from edges

),

parent_licenses_classified as (

    select
        parent_licenses.*,
        coalesce(taxonomy.license_category, 'other_unknown') as parent_license_category,
        coalesce(taxonomy.is_noncommercial, false) as is_noncommercial,
        coalesce(taxonomy.is_share_alike, false) as is_share_alike,
        coalesce(taxonomy.is_no_derivatives, false) as is_no_derivatives
    from parent_licenses
    left join taxonomy on parent_licenses.parent_license_id = taxonomy.license_id

),

child_categories as (

    select
        edges.edge_id,
        list(distinct coalesce(taxonomy.license_category, 'other_unknown')) as child_categories
    from edges
    cross join unnest(edges.child_license_ids) as child_license (license_id)
    left join taxonomy on child_license.license_id = taxonomy.license_id
    group by 1

),

matched as (

    select
        parent_licenses_classified.edge_id,
        parent_licenses_classified.parent_license_id,
        parent_licenses_classified.parent_license_category,
        rules.rule_id,
        rules.severity,
        rules.explanation
    from parent_licenses_classified
    left join child_categories on parent_licenses_classified.edge_id = child_categories.edge_id
    inner join rules
        on (
            rules.parent_license_pattern is null
            or parent_licenses_classified.parent_license_id like rules.parent_license_pattern
        )
        and (
            rules.parent_license_category is null
            or parent_licenses_classified.parent_license_category = rules.parent_license_category
        )
        and (
            rules.parent_requires is null
            or (rules.parent_requires = 'noncommercial' and parent_licenses_classified.is_noncommercial)
            or (rules.parent_requires = 'share_alike' and parent_licenses_classified.is_share_alike)
            or (rules.parent_requires = 'no_derivatives' and parent_licenses_classified.is_no_derivatives)
            or (
                rules.parent_requires = 'licensed'
                and parent_licenses_classified.parent_license_category <> 'other_unknown'
            )
        )
    where
        (
            rules.child_condition = 'any'
        )
        or (
            rules.child_condition = 'missing'
            and len(parent_licenses_classified.child_license_ids) = 0
        )
        or (
            rules.child_condition = 'relicensed'
            and not list_contains(
                parent_licenses_classified.child_license_ids,
                parent_licenses_classified.parent_license_id
            )
            and list_has_any(coalesce(child_categories.child_categories, []), rules.child_categories)
        )

),

final as (

    select
        -- ids
        matched.edge_id || ' ' || matched.rule_id || ' ' || matched.parent_license_id as conflict_id,
        matched.edge_id,
        edges.child_model_id,
        edges.parent_model_id,
        matched.rule_id,

        -- text
        edges.relation,
        matched.parent_license_id,
        matched.parent_license_category,
        edges.child_license_ids,
        matched.severity,
        matched.explanation

    from matched
    inner join edges on matched.edge_id = edges.edge_id

)

select * from final
