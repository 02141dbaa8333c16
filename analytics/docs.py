"""The data dictionary of the ``analytics`` schema: every table's grain and every column's meaning.

:mod:`hubgenome.analytics.run` refuses to write a table or column missing here, writes this dictionary as
``analytics.table_docs`` (one row per table with ``column_name`` null, one per column) and as
DuckDB ``COMMENT ON`` statements, so the app, SQL users and the docs test all read the same text.
The column order here is the order of the written table.
"""

from __future__ import annotations

import polars as pl

_GRAPH = "Graph variant: all_relations (every crawled edge) or no_merges (merge edges dropped, the paper's G_nomerges)."
_COUNT = "Number of families (or models, for out-degree) with this value."
_SHARE = "count / total."
_CCDF = "P(X >= value): the complementary CDF, for log-log plots."


def _distribution(value: str, meaning: str) -> dict[str, str]:
    return {"graph": _GRAPH, value: meaning, "count": _COUNT, "share": _SHARE, "ccdf": _CCDF}


_CONFLICT_COUNTS = {
    "n_conflicts": "Conflict rows (edge × rule × parent licence).",
    "n_edges": "Distinct conflicting edges.",
    "n_children": "Distinct children with a conflict.",
}

#: table → (description with its grain, {column: description}); column order = table order.
TABLE_DOCS: dict[str, tuple[str, dict[str, str]]] = {
    "family_size_distribution": (
        "One row per (graph variant, family size): how many families (weakly connected components, "
        "singletons included) have that many models. Our extension; the paper printed no size distribution.",
        _distribution("family_size", "Models in the family."),
    ),
    "depth_distribution": (
        "One row per (graph variant, depth): families whose longest root-to-leaf path has that many edges.",
        _distribution("depth", "Longest root-to-leaf path of the family, in edges (0 for singletons)."),
    ),
    "width_distribution": (
        "One row per (graph variant, width): families whose most populated generation has that many models.",
        _distribution("width", "Most models at one generation of the family."),
    ),
    "out_degree_distribution": (
        "One row per (graph variant, out-degree): models with that many direct children (0 included).",
        _distribution("out_degree", "Direct children of a model."),
    ),
    "tail_fits": (
        "One row per fitted distribution: discrete power-law MLE with x_min chosen by KS distance "
        "(Clauset-Shalizi-Newman), compared with a discrete log-normal on the same tail by Vuong's test.",
        {
            "distribution": "What was fitted: family_size or out_degree, and the graph variant.",
            "n_total": "Positive observations.",
            "x_min": "Lower bound of the power-law tail (minimises the KS distance).",
            "n_tail": "Observations >= x_min.",
            "alpha": "Power-law exponent (MLE).",
            "alpha_std_err": "Standard error of alpha, (alpha - 1) / sqrt(n_tail).",
            "ks_distance": "KS distance between the tail and the fitted power law.",
            "lognormal_mu": "Log-normal mu fitted on the same tail.",
            "lognormal_sigma": "Log-normal sigma fitted on the same tail.",
            "log_likelihood_ratio": (
                "Summed log-likelihood difference, power law minus log-normal (> 0 favours the power law)."
            ),
            "normalized_ratio": "Vuong's normalised ratio.",
            "p_value": "Two-sided p-value of the ratio's sign.",
            "preferred": "power_law, lognormal or inconclusive (p >= 0.1); 'not fitted: ...' when too little data.",
        },
    ),
    "top_parents": (
        "One row per (relation, rank): the parents with the most direct children per relation and over "
        "all relations ('all'); children must be crawled, parents may be dangling (as the paper's figure).",
        {
            "relation": "finetune, adapter, quantized, merge, or all.",
            "rank": "1 = most children; ties broken by parent id.",
            "parent_model_id": "The parent model.",
            "n_children": "Distinct direct children.",
        },
    ),
    "children_with_children": (
        "One row per relation: the share of its edges whose child has at least one child of its own "
        "(paper: finetune 7.9%, quantized 0.95%, adapter 0.19%). All crawled edges.",
        {
            "relation": "Relation of the edge.",
            "n_edges": "Edges of this relation (both ends crawled).",
            "n_children_with_children": "Of those, edges whose child has a child (any relation).",
            "share": "n_children_with_children / n_edges.",
        },
    ),
    "family_growth": (
        "One row per (family, creation day): cumulative size of the 10 largest no-merge families by "
        "members' createdAt (the paper's 'Size of Largest Families over Time').",
        {
            "family_id": "The family, named by its parentless member with the most children.",
            "final_size": "Members today.",
            "created_on": "Creation day (UTC).",
            "new_members": "Members created that day.",
            "cumulative_size": "Members created up to that day.",
        },
    ),
    "lineage_summary": (
        "One row per headline lineage count (models, edges, components counted as the paper did, families).",
        {"metric": "What is counted.", "value": "The count.", "note": "How it is counted."},
    ),
    "similarity": (
        "One row per (genome, motif, config, measure): mean 'genetic' similarity of the pair type with a "
        "95% percentile-bootstrap interval. Motif instances are sampled so every instance is equally likely. "
        "Genomes: metadata (the listing as a Python-repr string, parent id and base_model tags KEPT, as the "
        "paper), metadata_no_parent_refs (both removed), card (first 512 characters of cards >= 512 "
        "characters that are not auto-generated). Vectorisers: 512 features, 1-2-grams, fitted on a seeded "
        "sample of at most 50,000 genomes.",
        {
            "genome": "metadata, metadata_no_parent_refs or card.",
            "edges": "Edges of the graph sampled: finetune+adapter (metadata) or finetune (cards), as the paper.",
            "motif": "rando, duo, trio_1, trio_2, quad_0, quad_1, quad_2 or quad_3 (see the methods note).",
            "config": "Which pair of the motif is compared (1-based, the paper's numbering).",
            "pair": "Plain name of the pair (siblings, parent–child, ...).",
            "measure": "levenshtein (normalised similarity), bow or tfidf (cosine).",
            "n_instances": "Instances of the motif in the graph (the population sampled from).",
            "n_pairs": "Pairs scored (samples whose both ends have a genome).",
            "mean": "Mean similarity.",
            "ci_low": "2.5th percentile of 10,000 bootstrap means.",
            "ci_high": "97.5th percentile of 10,000 bootstrap means.",
            "fitted_documents": "Genomes the bag-of-words / TF-IDF vectorisers were fitted on.",
        },
    ),
    "mutation_rates": (
        "One row per (edge set, trait): mean 1 - Jaccard(parent values, child values) over edges where both "
        "sides have a value (paper, finetune edges: language 0.242, license 0.198, task 0.411).",
        {
            "edges": "finetune (the paper's final version) or all (its first commit).",
            "trait": "license_ids, language_codes, pipeline_tag (task) or library_name.",
            "n_edges": "Edges where parent and child both have a value.",
            "n_changed": "Of those, edges where the value set changed.",
            "mutation_rate": "Mean 1 - Jaccard; null when no edge qualifies.",
        },
    ),
    "trait_transitions": (
        "One row per (trait, source value, target value) on finetune edges, counted as the paper did: each "
        "value added counts once from every parent value, each value removed once toward every child value.",
        {
            "trait": "license_ids, language_codes, pipeline_tag or library_name.",
            "source": "Upstream value.",
            "target": "Downstream value.",
            "n_transitions": "Transitions counted.",
        },
    ),
    "trait_orderings": (
        "One row per trait: the optimal upstream→downstream order of its top values (exact linear-ordering "
        "ILP, HiGHS) and the share of raw transitions that go forward (paper: license 84.6%, language 75.0% "
        "with English the sink, task 98.2%, library 83.7%).",
        {
            "edges": "Edge set: finetune.",
            "trait": "license_ids (top 20), language_codes (top 20), pipeline_tag (top 10), library_name (top 10).",
            "n_values": "Values ordered (fewer when the corpus has fewer).",
            "order": "The order, upstream first, joined by ' > '.",
            "objective": "Oriented traffic placed forward (the ILP objective).",
            "forward_transitions": "Raw transitions among the top values that go forward.",
            "total_transitions": "Raw transitions among the top values.",
            "forward_share": "forward_transitions / total_transitions ('mutations accounted for').",
            "compatible_oriented_edges": "Oriented value pairs pointing forward in the order.",
            "oriented_edges": "Oriented value pairs among the top values.",
            "net_traffic": "Sum of |n(a→b) - n(b→a)| over oriented pairs.",
            "total_n": "Sum of n(a→b) + n(b→a) over oriented pairs.",
        },
    ),
    "language_count_drift": (
        "One row per (edge counting rule, relation or 'all'): mean number of languages, parent → child "
        "(paper, edges where both list a language: 6.60 → 1.81).",
        {
            "edges_counted": "both_with_languages (the paper's headline) or all_edges_empty_as_zero.",
            "relation": "Relation of the edges, or all.",
            "n_edges": "Edges averaged over.",
            "parent_mean": "Mean languages of the parent.",
            "child_mean": "Mean languages of the child.",
        },
    ),
    "card_drift": (
        "One row per (edge counting rule, relation or 'all'): card length and auto-generated share, parent → "
        "child (paper: 9,773 → 4,402 characters; P(auto-generated) +0.249).",
        {
            "edges_counted": "both_with_cards (the paper's headline) or all_edges (no card = not auto-generated).",
            "relation": "Relation of the edges, or all.",
            "n_edges": "Edges averaged over.",
            "parent_length_mean": "Mean card length of the parent (characters; edges where both have cards).",
            "child_length_mean": "Mean card length of the child (characters; edges where both have cards).",
            "parent_auto_generated_share": "Share of parents with an auto-generated card (the paper's rule).",
            "child_auto_generated_share": "Share of children whose card is auto-generated.",
            "auto_generated_delta": "Mean of child minus parent auto-generated flag.",
        },
    ),
    "license_conflicts_by_rule": (
        "One row per licence-obligation rule (every rule, zero when never broken): conflicts found in "
        "main.fct_license_conflicts.",
        {
            "rule_id": "Rule (reference.license_obligation_rules).",
            "severity": "high, medium or low.",
            "explanation": "What the rule says.",
            **_CONFLICT_COUNTS,
            "share_of_edges": "n_edges / all conflicting edges.",
        },
    ),
    "license_conflicts_by_family": (
        "One row per family (the warehouse's tree family of the child) with a conflict, most conflicts first.",
        {"family_id": "The family (dim_models.family_id).", **_CONFLICT_COUNTS, "n_rules": "Distinct rules broken."},
    ),
    "license_conflicts_by_year": (
        "One row per creation year of the conflicting child.",
        {"year": "Year the child was created (null if unknown).", **_CONFLICT_COUNTS},
    ),
    "relicensing_violation_share": (
        "One row: the share of relicensing edges (both sides licensed, sets differ) that break an upstream "
        "obligation, the number the paper's abstract mentions but never gives.",
        {
            "n_edges_both_licensed": "Crawled edges where parent and child both declare a licence.",
            "n_relicensing_edges": "Of those, edges where the licence set changed.",
            "n_relicensing_with_conflict": "Relicensing edges flagged by any rule.",
            "share_relicensing_with_conflict": "n_relicensing_with_conflict / n_relicensing_edges.",
            "n_conflict_edges_child_unlicensed": "Flagged edges whose child declares no licence (not relicensing).",
        },
    ),
    "license_flow_direction": (
        "One row: licence transitions (finetune edges) between restrictive (commercial_custom, "
        "use_restricted) and open (permissive, copyleft) categories, in each direction.",
        {
            "restrictive_to_open": "Transitions from a restrictive to an open licence.",
            "open_to_restrictive": "Transitions from an open to a restrictive licence.",
            "share_toward_open": "restrictive_to_open / both (> 0.5: the paper's direction holds).",
        },
    ),
    "family_safety": (
        "One row per family with at least one evaluated member (fct_safety_evaluations): its size, "
        "downloads, and the share of its downloads under an evaluated model (evaluated or a descendant).",
        {
            "family_id": "The family (dim_models.family_id).",
            "family_size": "Models in the family.",
            "family_downloads": "Sum of members' downloads.",
            "n_evaluated_members": "Members with a per-model evaluation.",
            "n_models_under_evaluated": "Members that are evaluated or descend from an evaluated model.",
            "downloads_under_evaluated": "Their downloads.",
            "share_downloads_under_evaluated": "downloads_under_evaluated / family_downloads.",
        },
    ),
    "safety_evaluated_members": (
        "One row per (evaluated model, benchmark, metric, defence): the score before (baseline rows) and after "
        "the named method. Only evaluations a user imported (fct_safety_evaluations); never invented.",
        {
            "family_id": "The model's family.",
            "model_id": "The evaluated model.",
            "attack_or_benchmark": "Attack or benchmark.",
            "metric": "Metric (e.g. attack_success_rate).",
            "method": "Defence method (null when only a baseline was given).",
            "value_before": "Baseline score (method 'no defense' / 'none').",
            "value_after": "Score with the method.",
            "source": "Citation.",
        },
    ),
    "safety_status": (
        "One row: whether any per-model safety evaluations exist, and what the safety tables therefore show.",
        {
            "status": "'no per-model evaluations' or '<rows> per-model evaluation rows for <models> models'.",
            "n_evaluation_rows": "Evaluations in fct_safety_evaluations.",
            "n_evaluated_models": "Distinct evaluated models.",
            "n_families_with_evaluations": "Families with an evaluated member.",
            "note": "Plain-language reading.",
        },
    ),
    "safety_published": (
        "One row per published NeST figure (reference.nest_published_figures): population means, never "
        "spread onto individual models.",
        {
            "paper_version": "NeST paper version and date.",
            "population": "Which models the figure averages over.",
            "models": "Models evaluated, where stated.",
            "metric": "What is measured.",
            "method": "Defence or baseline.",
            "value": "Published value.",
            "unit": "Unit of value.",
            "source": "Where in the paper.",
        },
    ),
    "reproduction": (
        "One row per metric of the paper's published figures (anatomy-2025-07.csv, in its order): the paper's "
        "value, ours, the corpus and date ours comes from, and a one-line reading.",
        {
            "paper_row": "Row of the metric in the paper's table (0-based).",
            "metric": "Metric name.",
            "unit": "Unit.",
            "paper_value": "The paper's value (2025-07-12 snapshot).",
            "our_value": "Our value (null when our data cannot compute it).",
            "corpus": "Corpus ours comes from.",
            "as_of": "Newest model creation date of that corpus.",
            "status": "computed or not computable.",
            "reading": "How to read the difference, or why it is not computable.",
        },
    ),
    "direction_checks": (
        "One row per directional finding of the paper: does it hold in our data?",
        {
            "check_row": "Order of the check.",
            "finding": "The paper's finding.",
            "holds": "True / false; null when our data cannot tell.",
            "detail": "The numbers compared.",
        },
    ),
    "run_info": (
        "One row per run property: seed, corpus, caps, package versions and per-step wall time. The only "
        "table with run-dependent values (timings, start time).",
        {"key": "Property.", "value": "Its value (as text).", "note": "What it means."},
    ),
    "table_docs": (
        "One row per analytics table (column_name null) and per column: the data dictionary.",
        {
            "table_name": "Table in the analytics schema.",
            "column_name": "Column (null for the table's own row).",
            "description": "Description; for tables, their grain.",
        },
    ),
}


def docs_frame() -> pl.DataFrame:
    """:data:`TABLE_DOCS` as rows: ``table_name``, ``column_name`` (null for the table), ``description``."""
    rows: list[tuple[str, str | None, str]] = []
    for table, (description, columns) in TABLE_DOCS.items():
        rows.append((table, None, description))
        rows.extend((table, column, text) for column, text in columns.items())
    return pl.DataFrame(
        rows, schema={"table_name": pl.String, "column_name": pl.String, "description": pl.String}, orient="row"
    )
