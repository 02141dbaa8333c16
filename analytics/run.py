"""Run every analysis of issue 4 on a built warehouse and write the results into its ``analytics`` schema.

Called by the build (``hubgenome.flows.build.build_and_publish``, see :mod:`hubgenome.flows.analytics_stage`)
on the freshly built file, before it is published, so readers always see marts and analytics from
the same build. It reads the marts once (:mod:`hubgenome.analytics.inputs`), builds the lineage graph once
and derives the paper's graph variants from it by edge masks, runs the pure analyses, and writes
one table per result. Every table and column is described in ``analytics.table_docs`` (and with
``COMMENT ON``), from :data:`hubgenome.analytics.docs.TABLE_DOCS`.

Determinism
-----------
The same warehouse and seed give identical tables: inputs are read in a fixed order, every random
draw comes from ``numpy.random.SeedSequence([seed, ...])``, every table is sorted on its grain
before it is written, and floats are rounded to :data:`FLOAT_DECIMALS` places (polars' parallel
aggregations may otherwise differ in the last bit between runs). Wall-clock values live only in
``analytics.run_info``.

Caps on heavy text work (documented in ``run_info``): the bag-of-words / TF-IDF vectorisers are
fitted on a seeded sample of at most :data:`FIT_MAX_DOCUMENTS` genomes (the paper fitted on all
1.86M); only the genomes of sampled nodes and of that fitting sample are ever rendered.
"""

from __future__ import annotations

import platform
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from importlib import metadata

import duckdb
import numpy as np
import polars as pl

from hubgenome.analytics import drift, licenses, lineage, reproduction, safety, similarity
from hubgenome.analytics._graph import Digraph, build_digraph, edge_subgraph, relation_mask
from hubgenome.analytics.docs import TABLE_DOCS, docs_frame
from hubgenome.analytics.inputs import (
    WarehouseInputs,
    load_cards,
    load_inputs,
    metadata_genome_loader,
    paper_figures,
)

SCHEMA = "analytics"
DEFAULT_SEED = 20250712
FLOAT_DECIMALS = 9
FIT_MAX_DOCUMENTS = 50_000
METADATA_SAMPLES = 500
CARD_SAMPLES = 1_000
BOOTSTRAP_RESAMPLES = 10_000
TOP_PARENTS = 10
GROWTH_FAMILIES = 10
#: Traits (our column → the paper's word) and how many top values the paper ordered.
TRAITS = {
    "license_ids": ("license", 20),
    "language_codes": ("language", 20),
    "pipeline_tag": ("task", 10),
    "library_name": ("library", 10),
}
_PAPER_RELATIONS = ("finetune", "adapter", "quantized")


@dataclass(frozen=True)
class AnalyticsResult:
    """What one run wrote.

    Attributes
    ----------
    tables
        ``analytics.<name>`` → number of rows written.
    seed, corpus, as_of
        The run's seed and the corpus label and date of its warehouse.
    seconds
        Wall time per step (also in ``analytics.run_info``).
    reproduction, direction_checks
        The two headline frames, as written.
    """

    tables: dict[str, int]
    seed: int
    corpus: str
    as_of: str
    seconds: dict[str, float] = field(default_factory=dict)
    reproduction: pl.DataFrame | None = None
    direction_checks: pl.DataFrame | None = None


class _Writer:
    """Writes polars frames as ``analytics.<name>`` tables, sorted and rounded, with their docs."""

    def __init__(self, con: duckdb.DuckDBPyConnection) -> None:
        self.con = con
        self.written: dict[str, int] = {}

    def __call__(self, name: str, frame: pl.DataFrame, sort: list[str] | None = None) -> None:
        if name not in TABLE_DOCS:
            msg = f"analytics table {name!r} has no entry in analytics.docs.TABLE_DOCS; document it before writing."
            raise KeyError(msg)
        documented = list(TABLE_DOCS[name][1])
        missing = [c for c in frame.columns if c not in documented]
        if missing:
            msg = f"analytics.{name} columns {missing} are not documented in hubgenome.analytics.docs.TABLE_DOCS."
            raise KeyError(msg)
        frame = frame.select(documented) if set(documented) == set(frame.columns) else frame
        frame = frame.with_columns(pl.col(pl.Float64, pl.Float32).round(FLOAT_DECIMALS))
        if sort:
            frame = frame.sort(sort, nulls_last=True, maintain_order=True)
        view = f"_analytics_{name}"
        self.con.register(view, frame.to_arrow())
        try:
            self.con.execute(f"create or replace table {SCHEMA}.{name} as select * from {view}")
        finally:
            self.con.unregister(view)
        self.written[name] = frame.height


def _quote(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _comment(con: duckdb.DuckDBPyConnection, names: list[str]) -> None:
    for name in names:
        description, columns = TABLE_DOCS[name]
        con.execute(f"comment on table {SCHEMA}.{name} is {_quote(description)}")
        existing = {row[0] for row in con.sql(f"describe {SCHEMA}.{name}").fetchall()}
        for column, text in columns.items():
            if column in existing:
                con.execute(f'comment on column {SCHEMA}.{name}."{column}" is {_quote(text)}')


@contextmanager
def _timed(seconds: dict[str, float], step: str) -> Iterator[None]:
    started = time.perf_counter()
    try:
        yield
    finally:
        seconds[step] = round(time.perf_counter() - started, 3)
        print(f"analytics: {step} in {seconds[step]:.1f} s")


# --- lineage ---------------------------------------------------------------------------------------


def _distribution(values: pl.Series, name: str, variant: str) -> pl.DataFrame:
    """value, count, share, ccdf for one graph variant."""
    counts = lineage.value_distribution(values, name=name)
    tail = lineage.ccdf(values).select(pl.col("value").cast(counts[name].dtype).alias(name), "ccdf")
    return counts.join(tail, on=name, how="left").select(
        pl.lit(variant).alias("graph"), pl.col(name).cast(pl.Int64), "count", "share", "ccdf"
    )


def _tail_fit(values: pl.Series, label: str) -> pl.DataFrame:
    try:
        return lineage.tail_fit_summary(values, label=label)
    except ValueError as error:
        return pl.DataFrame({"distribution": [label], "preferred": [f"not fitted: {error}"]})


def _lineage_tables(
    write: _Writer, inputs: WarehouseInputs, graphs: dict[str, Digraph], ours: dict[str, object]
) -> None:
    models = inputs.models
    size_frames, depth_frames, width_frames, degree_frames, fits, families_of = [], [], [], [], [], {}
    for variant in ("all_relations", "no_merges"):
        graph = graphs[variant]
        nodes = lineage.model_families(None, graph=graph)
        families_of[variant] = nodes
        table = lineage.family_table_from_nodes(graph, nodes)
        size_frames.append(_distribution(table["size"], "family_size", variant))
        depth_frames.append(_distribution(table["depth"], "depth", variant))
        width_frames.append(_distribution(table["width"], "width", variant))
        degree_frames.append(_distribution(pl.Series(graph.out_degree), "out_degree", variant))
        fits.append(_tail_fit(table["size"], f"family_size ({variant})"))
        fits.append(_tail_fit(pl.Series(graph.out_degree), f"out_degree ({variant})"))
        ours[f"families_{variant}"] = table.height
    write("family_size_distribution", pl.concat(size_frames), ["graph", "family_size"])
    write("depth_distribution", pl.concat(depth_frames), ["graph", "depth"])
    write("width_distribution", pl.concat(width_frames), ["graph", "width"])
    write("out_degree_distribution", pl.concat(degree_frames), ["graph", "out_degree"])
    write("tail_fits", pl.concat(fits, how="diagonal_relaxed"), ["distribution"])

    all_edges = pl.concat([inputs.edges, inputs.dangling_edges])
    top = lineage.top_parents(all_edges, models["model_id"], n=TOP_PARENTS)
    write("top_parents", top, ["relation", "rank"])
    children = lineage.children_with_children(None, graph=graphs["all_relations"])
    write("children_with_children", children, ["relation"])
    growth = lineage.family_growth(
        None, models.select("model_id", "created_at"), top_n=GROWTH_FAMILIES, families=families_of["no_merges"]
    )
    write("family_growth", growth)  # sorted by the function: largest family first, then id and day
    has_typed = bool(all_edges["has_typed_tag"].any())
    # the paper counted typed edges only; a corpus from before typed tags (hub-2024-07) has none, so
    # its components are counted on every edge instead (noted in lineage_summary)
    typed_components = lineage.count_weak_components(all_edges, models["model_id"], typed_only=has_typed)
    component_note = (
        "typed edges incl. merges, missing parents added as nodes, singletons counted (the paper's count)"
        if has_typed
        else "no typed tags in this corpus: every edge incl. merges, missing parents added, singletons counted"
    )
    # the paper's named top fan-outs, counted whatever their rank (distinct crawled children, any relation)
    named = list(reproduction.TOP_FANOUT_PARENTS.values())
    named_counts = (
        all_edges.filter(
            pl.col("parent_model_id").is_in(named) & pl.col("child_model_id").is_in(models["model_id"].implode())
        )
        .group_by("parent_model_id")
        .agg(pl.col("child_model_id").n_unique().cast(pl.Int64).alias("n_children"))
        .with_columns(pl.lit("all").alias("relation"), pl.lit(0, pl.Int64).alias("rank"))
    )
    ours["top_parents_for_paper"] = pl.concat(
        [top.filter(pl.col("relation") == "all"), named_counts.select(top.columns)]
    ).unique(["relation", "parent_model_id"], keep="first", maintain_order=True)
    summary = pl.DataFrame(
        [
            ("models", models.height, "models in the warehouse (dim_models)"),
            ("edges", inputs.edges.height, "lineage edges with both ends crawled"),
            ("dangling_edges", inputs.dangling_edges.height, "edges whose parent was not crawled"),
            ("typed_edges", int(inputs.edges["has_typed_tag"].sum()), "edges named by a typed base_model tag"),
            ("weak_components_paper", typed_components, component_note),
            ("families_all_relations", ours["families_all_relations"], "weak components of all crawled edges"),
            ("families_no_merges", ours["families_no_merges"], "weak components without merge edges"),
        ],
        schema={"metric": pl.String, "value": pl.Int64, "note": pl.String},
        orient="row",
    )
    write("lineage_summary", summary, ["metric"])
    ours["weak_components"] = typed_components
    ours["top_parents"] = top
    ours["children_with_children"] = children
    ours["families_no_merges_frame"] = families_of["no_merges"]


# --- similarity ------------------------------------------------------------------------------------


def _similarity_table(
    write: _Writer,
    con: duckdb.DuckDBPyConnection,
    graphs: dict[str, Digraph],
    seed: int,
    ours: dict[str, object],
    n_resamples: int,
    score_partitions: similarity.PartitionScorer | None = None,
) -> None:
    frames = []
    for genome, remove in (("metadata", False), ("metadata_no_parent_refs", True)):
        table = similarity.similarity_table(
            None,
            metadata_genome_loader(con, remove_parent_references=remove),
            graph=graphs["metadata"],
            n_samples=METADATA_SAMPLES,
            n_resamples=n_resamples,
            seed=seed,
            fit_max_documents=FIT_MAX_DOCUMENTS,
            score_partitions=score_partitions,
        )
        frames.append(table.with_columns(pl.lit(genome).alias("genome"), pl.lit("finetune+adapter").alias("edges")))
        ours[f"similarity_{genome}"] = table
    genomes = similarity.card_genomes(load_cards(con))
    ours["eligible_cards"] = genomes.height
    if genomes.height >= 2:
        table = similarity.similarity_table(
            None,
            genomes,
            graph=graphs["finetune"],
            n_samples=CARD_SAMPLES,
            n_resamples=n_resamples,
            seed=seed,
            fit_max_documents=FIT_MAX_DOCUMENTS,
            score_partitions=score_partitions,
        )
        frames.append(table.with_columns(pl.lit("card").alias("genome"), pl.lit("finetune").alias("edges")))
        ours["similarity_card"] = table
    write("similarity", pl.concat(frames), ["genome", "motif", "config", "measure"])


# --- drift -----------------------------------------------------------------------------------------


def _drift_tables(write: _Writer, inputs: WarehouseInputs, ours: dict[str, object]) -> None:
    models, edges = inputs.models, inputs.edges
    finetune = edges.filter(pl.col("relation") == "finetune")
    columns = list(TRAITS)
    rates = pl.concat(
        [
            drift.mutation_rates(finetune, models, columns).with_columns(pl.lit("finetune").alias("edges")),
            drift.mutation_rates(edges, models, columns).with_columns(pl.lit("all").alias("edges")),
        ]
    )
    write("mutation_rates", rates, ["edges", "trait"])
    ours["mutation_rates"] = rates.filter(pl.col("edges") == "finetune").drop("edges")
    transitions, orderings = [], []
    for column, (_, n) in TRAITS.items():
        counts = drift.transition_counts(finetune, models, column)
        transitions.append(counts.with_columns(pl.lit(column).alias("trait")))
        nodes = drift.top_values(models, column, n)
        orderings.append(drift.order_trait(counts, nodes, trait=column))
        if column == "license_ids":
            ours["license_transitions"] = counts
        if column == "language_codes":
            ours["language_transitions"] = counts
    write("trait_transitions", pl.concat(transitions), ["trait", "source", "target"])
    table = drift.orderings_table(orderings).with_columns(pl.lit("finetune").alias("edges"))
    write("trait_orderings", table, ["trait"])
    ours["orderings"] = table.drop("edges")
    languages = pl.concat(
        [
            drift.language_count_drift(edges, models).with_columns(
                pl.lit("both_with_languages").alias("edges_counted")
            ),
            drift.language_count_drift(edges, models, require_both=False).with_columns(
                pl.lit("all_edges_empty_as_zero").alias("edges_counted")
            ),
        ]
    )
    write("language_count_drift", languages, ["edges_counted", "relation"])
    ours["language_drift"] = languages.filter(pl.col("edges_counted") == "both_with_languages").drop("edges_counted")
    cards = pl.concat(
        [
            drift.card_drift(edges, models).with_columns(pl.lit("both_with_cards").alias("edges_counted")),
            drift.card_drift(edges, models, require_both_cards=False).with_columns(
                pl.lit("all_edges").alias("edges_counted")
            ),
        ]
    )
    write("card_drift", cards, ["edges_counted", "relation"])
    ours["card_drift"] = cards.filter(pl.col("edges_counted") == "both_with_cards").drop("edges_counted")


# --- licences and safety ---------------------------------------------------------------------------


def _license_tables(write: _Writer, inputs: WarehouseInputs, ours: dict[str, object]) -> None:
    conflicts = inputs.conflicts
    write("license_conflicts_by_rule", licenses.conflicts_by_rule(conflicts, inputs.rules), ["rule_id"])
    by_family = licenses.conflicts_by_family(conflicts, inputs.models.select("model_id", "family_id"))
    write("license_conflicts_by_family", by_family)  # already sorted: most conflicts first, then family id
    by_year = licenses.conflicts_by_year(conflicts, inputs.models.select("model_id", "created_at"))
    write("license_conflicts_by_year", by_year, ["year"])
    share = licenses.relicensing_violation_share(inputs.edges, inputs.models, conflicts)
    write("relicensing_violation_share", share)
    flow = reproduction.license_flow_direction(ours["license_transitions"], inputs.taxonomy)
    write("license_flow_direction", flow)
    ours["license_flow"] = flow
    ours["relicensing"] = share


def _safety_tables(write: _Writer, inputs: WarehouseInputs, graph: Digraph) -> str:
    evidence = safety.family_safety_evidence(
        inputs.evaluations,
        inputs.models.select("model_id", "downloads", "family_id"),
        inputs.edges,
        inputs.published,
        graph=graph,
    )
    write("family_safety", evidence.families)
    write("safety_evaluated_members", evidence.evaluated_members)
    n_rows = inputs.evaluations.height
    note = (
        "No per-model safety evaluations in fct_safety_evaluations: no family has evaluated members "
        "and no per-model score is shown or invented. The NeST figures in safety_published are population "
        "means."
        if n_rows == 0
        else "Per-model rows come only from fct_safety_evaluations (the bundled reference set and your imports, "
        "each labelled); NeST figures are population means."
    )
    status = pl.DataFrame(
        {
            "status": [evidence.status],
            "n_evaluation_rows": [n_rows],
            "n_evaluated_models": [inputs.evaluations["model_id"].n_unique()],
            "n_families_with_evaluations": [evidence.families.height],
            "note": [note],
        },
        schema_overrides={
            "n_evaluation_rows": pl.Int64,
            "n_evaluated_models": pl.Int64,
            "n_families_with_evaluations": pl.Int64,
        },
    )
    write("safety_status", status)
    published = inputs.published.select(
        "paper_version", "population", pl.col("models").cast(pl.Int64), "metric", "method", "value", "unit", "source"
    )
    write("safety_published", published, ["paper_version", "population", "metric", "method"])
    return evidence.status


# --- reproduction ----------------------------------------------------------------------------------


def _unavailable(inputs: WarehouseInputs, ours_frame: pl.DataFrame) -> dict[str, str]:
    corpus = inputs.corpus
    reasons: dict[str, str] = {}
    has_cards = bool(inputs.models["has_card"].any())
    relations = set(inputs.edges["relation"].unique().to_list())
    for metric in (
        "share_models_with_card",
        "eligible_cards_512",
        "card_length_parent_mean",
        "card_length_child_mean",
        "autogen_delta_child_minus_parent",
        "autogen_finetune_parent",
        "autogen_finetune_child",
        "similarity_card_tfidf_random",
        "similarity_card_tfidf_parent_child",
        "similarity_card_tfidf_siblings",
        "similarity_card_levenshtein_parent_child",
        "similarity_card_levenshtein_siblings",
    ):
        if not has_cards:
            reasons[metric] = f"{corpus} has no model cards"
    for relation in ("quantized", "adapter"):
        if relation not in relations:
            reasons[f"share_{relation}_children_with_children"] = f"{corpus} has no {relation} edges"
    for metric in reproduction.TOP_FANOUT_PARENTS:
        reasons.setdefault(metric, f"the parent has no crawled children in {corpus} (or is not in it)")
    if inputs.edges["has_typed_tag"].sum() == 0:
        for metric in (
            "edges_finetune",
            "edges_adapter",
            "edges_quantized",
            "edges_merge",
            "edges_untyped",
            "edges_non_merge",
        ):
            reasons[metric] = f"{corpus} has no typed base_model:<relation>: tags (they appeared on the Hub later)"
    computed = set(ours_frame["metric"].to_list())
    return {metric: reason for metric, reason in reasons.items() if metric not in computed}


def _direction_checks(ours_frame: pl.DataFrame, ours: dict[str, object]) -> pl.DataFrame:
    checks = reproduction.direction_checks(ours_frame)
    extra: list[tuple[str, bool | None, str]] = []
    # auto-generated share rising on all edges (the paper's +0.249)
    delta = ours_frame.filter(pl.col("metric") == "autogen_delta_child_minus_parent")["value"]
    if delta.len():
        extra.append(
            (
                "auto-generated share rises from parent to child (all edges)",
                bool(delta[0] > 0),
                f"P(child) - P(parent) = {delta[0]:+.4f}",
            )
        )
    else:
        extra.append(("auto-generated share rises from parent to child (all edges)", None, "not computable: no cards"))
    # metadata similarity without the parent's id and base_model tags (the paper's robustness variant)
    table = ours.get("similarity_metadata_no_parent_refs")
    if isinstance(table, pl.DataFrame):
        lookup = {(r["motif"], r["config"], r["measure"]): r["mean"] for r in table.iter_rows(named=True)}
        child, siblings = lookup.get(("trio_1", 1, "tfidf")), lookup.get(("trio_1", 2, "tfidf"))
        if child is not None and siblings is not None and not (np.isnan(child) or np.isnan(siblings)):
            extra.append(
                (
                    "metadata without parent references: siblings above parent–child",
                    bool(siblings > child),
                    f"TF-IDF siblings {siblings:.4g} vs parent–child {child:.4g}",
                )
            )
        else:
            extra.append(
                (
                    "metadata without parent references: siblings above parent–child",
                    None,
                    "not computable: no sibling or parent–child pairs",
                )
            )
    # languages shrink toward English: more transitions into English than out of it
    counts = ours.get("language_transitions")
    if isinstance(counts, pl.DataFrame) and counts.height:
        into = int(counts.filter((pl.col("target") == "en") & (pl.col("source") != "en"))["n_transitions"].sum())
        out = int(counts.filter((pl.col("source") == "en") & (pl.col("target") != "en"))["n_transitions"].sum())
        holds = into > out if into + out else None
        extra.append(
            (
                "languages drift toward English (finetune edges)",
                holds,
                f"{into} transitions into English vs {out} out of it",
            )
        )
    else:
        extra.append(("languages drift toward English (finetune edges)", None, "not computable: no language changes"))
    flow = ours.get("license_flow")
    if isinstance(flow, pl.DataFrame) and flow.height:
        row = flow.row(0, named=True)
        share = row["share_toward_open"]
        extra.append(
            (
                "licences drift from commercial/custom and use-restricted toward permissive/copyleft",
                None if share is None else bool(share > 0.5),
                f"{row['restrictive_to_open']} transitions restrictive→open vs {row['open_to_restrictive']} "
                f"open→restrictive (finetune edges)",
            )
        )
    frame = pl.DataFrame(extra, schema=checks.schema, orient="row")
    return pl.concat([checks, frame])


def _reproduction_tables(
    write: _Writer, inputs: WarehouseInputs, ours: dict[str, object], paper: pl.DataFrame
) -> tuple[pl.DataFrame, pl.DataFrame]:
    ours_frame = reproduction.our_metrics(
        corpus=inputs.corpus,
        as_of=inputs.as_of,
        models=inputs.models,
        edges=inputs.edges,
        weak_components=ours["weak_components"],
        top_parents=ours["top_parents_for_paper"],
        children_with_children=ours["children_with_children"],
        card_drift=ours["card_drift"],
        language_drift=ours["language_drift"],
        mutation_rates=ours["mutation_rates"],
        orderings=ours["orderings"],
        similarity_metadata=ours.get("similarity_metadata"),
        similarity_cards=ours.get("similarity_card"),
        eligible_cards=ours.get("eligible_cards") if inputs.models["has_card"].any() else None,
    )
    table = reproduction.reproduction_table(paper, ours_frame, _unavailable(inputs, ours_frame))
    table = table.with_row_index("paper_row").with_columns(pl.col("paper_row").cast(pl.Int64))
    write("reproduction", table, ["paper_row"])
    checks = (
        _direction_checks(ours_frame, ours).with_row_index("check_row").with_columns(pl.col("check_row").cast(pl.Int64))
    )
    write("direction_checks", checks, ["check_row"])
    return table, checks


# --- the run ---------------------------------------------------------------------------------------


def _versions() -> dict[str, str]:
    versions = {"python": platform.python_version()}
    for package in ("duckdb", "polars", "numpy", "scipy", "scikit-learn", "rapidfuzz"):
        try:
            versions[package] = metadata.version(package)
        except metadata.PackageNotFoundError:  # pragma: no cover - all are dependencies
            versions[package] = "not installed"
    return versions


def _graphs(inputs: WarehouseInputs) -> dict[str, Digraph]:
    """The full graph once, and the paper's variants as edge masks over it."""
    full = build_digraph(inputs.edges, inputs.models["model_id"])
    return {
        "all_relations": full,
        "no_merges": edge_subgraph(full, relation_mask(full, exclude_relations=("merge",))),
        "finetune": edge_subgraph(full, relation_mask(full, relations=similarity.CARD_RELATIONS)),
        "metadata": edge_subgraph(full, relation_mask(full, relations=similarity.METADATA_RELATIONS)),
    }


def run_analytics(
    con: duckdb.DuckDBPyConnection,
    *,
    seed: int = DEFAULT_SEED,
    corpus_label: str | None = None,
    n_resamples: int = BOOTSTRAP_RESAMPLES,
    paper: pl.DataFrame | None = None,
    score_partitions: similarity.PartitionScorer | None = None,
) -> AnalyticsResult:
    """Compute every analysis of issue 4 and write it into the ``analytics`` schema of ``con``.

    Parameters
    ----------
    con
        A writable connection to a built warehouse (the build file before publishing).
    seed
        Seeds every random draw (motif sampling, bootstrap, vectoriser fitting sample).
    corpus_label
        Name of the corpus in the reproduction table (default: from the newest crawl's endpoint).
    n_resamples
        Bootstrap resamples per similarity mean (the paper: 10,000).
    paper
        The paper's figures (default: the packaged copy of ``anatomy-2025-07.csv``).
    score_partitions
        How the similarity tables' scoring jobs run: ``None`` in this process (the default);
        otherwise a function scoring one job per (motif, config) elsewhere, e.g. on a Dask cluster
        (:func:`hubgenome.flows.analytics_stage.dask_partition_scorer`). The tables are identical either way.

    Returns
    -------
    AnalyticsResult
        Tables written with their row counts, timings, and the reproduction and direction frames.

    Examples
    --------
    >>> import duckdb
    >>> with duckdb.connect("data/warehouse.duckdb.building-x") as con:  # doctest: +SKIP
    ...     result = run_analytics(con, seed=1)
    >>> sorted(result.tables)[:2]  # doctest: +SKIP
    ['card_drift', 'children_with_children']
    """
    started_at = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    seconds: dict[str, float] = {}
    total = time.perf_counter()
    con.execute("set preserve_insertion_order = true")
    con.execute(f"create schema if not exists {SCHEMA}")
    write = _Writer(con)
    ours: dict[str, object] = {}
    with _timed(seconds, "read_inputs"):
        inputs = load_inputs(con)
        if corpus_label:
            inputs = WarehouseInputs(**{**inputs.__dict__, "corpus": corpus_label})
    with _timed(seconds, "build_graph"):
        graphs = _graphs(inputs)
    with _timed(seconds, "lineage"):
        _lineage_tables(write, inputs, graphs, ours)
    with _timed(seconds, "similarity"):
        _similarity_table(write, con, graphs, seed, ours, n_resamples, score_partitions)
    with _timed(seconds, "drift"):
        _drift_tables(write, inputs, ours)
    with _timed(seconds, "licenses"):
        _license_tables(write, inputs, ours)
    with _timed(seconds, "safety"):
        _safety_tables(write, inputs, graphs["all_relations"])
    with _timed(seconds, "reproduction"):
        table, checks = _reproduction_tables(write, inputs, ours, paper if paper is not None else paper_figures())
    seconds["total"] = round(time.perf_counter() - total, 3)
    info = [
        ("seed", str(seed), "seed of every random draw"),
        ("corpus", inputs.corpus, "corpus label"),
        ("as_of", inputs.as_of, "newest model creation date in the warehouse"),
        ("started_at", started_at, "UTC start of the run (the only timestamp in the analytics schema)"),
        ("n_models", str(inputs.models.height), "models in dim_models"),
        ("n_edges", str(inputs.edges.height), "non-dangling lineage edges"),
        ("fit_max_documents", str(FIT_MAX_DOCUMENTS), "cap on the vectorisers' seeded fitting sample"),
        ("metadata_samples", str(METADATA_SAMPLES), "motif instances per (motif, config), metadata genome"),
        ("card_samples", str(CARD_SAMPLES), "motif instances per (motif, config), card genome"),
        ("bootstrap_resamples", str(n_resamples), "bootstrap resamples per mean"),
        ("float_decimals", str(FLOAT_DECIMALS), "floats in analytics tables are rounded to this many places"),
        *[(f"version.{k}", v, "package version") for k, v in _versions().items()],
        *[(f"seconds.{k}", f"{v:.3f}", "wall time of the step") for k, v in seconds.items()],
    ]
    write("run_info", pl.DataFrame(info, schema=["key", "value", "note"], orient="row"))
    write("table_docs", docs_frame(), ["table_name", "column_name"])
    _comment(con, list(write.written))
    print(f"analytics: wrote {len(write.written)} tables into {SCHEMA} in {seconds['total']:.1f} s")
    return AnalyticsResult(
        tables=dict(sorted(write.written.items())),
        seed=seed,
        corpus=inputs.corpus,
        as_of=inputs.as_of,
        seconds=seconds,
        reproduction=table,
        direction_checks=checks,
    )
