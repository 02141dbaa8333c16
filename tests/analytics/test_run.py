"""The analytics run end to end: build with the before-publish hook, tables, docs, determinism, report."""

from __future__ import annotations

import shutil
from pathlib import Path

import duckdb
import numpy as np
import polars as pl
import pytest
from polars.testing import assert_frame_equal

import hubgenome.analytics
from hubgenome.analytics import similarity
from hubgenome.analytics._graph import build_digraph, edge_subgraph, relation_mask
from hubgenome.analytics.docs import TABLE_DOCS
from hubgenome.analytics.report import write_report
from hubgenome.analytics.run import SCHEMA, run_analytics
from hubgenome.flows.analytics_stage import analytics_before_publish
from tests.support.shared_data import corpus_path

# Tables that must have rows on any corpus with lineage (safety tables may be empty without evaluations).
NON_EMPTY = (
    "family_size_distribution", "tail_fits", "depth_distribution", "width_distribution", "out_degree_distribution",
    "top_parents", "children_with_children", "family_growth", "lineage_summary", "similarity", "mutation_rates",
    "trait_transitions", "trait_orderings", "language_count_drift", "card_drift", "license_conflicts_by_rule",
    "relicensing_violation_share", "safety_status", "safety_published", "reproduction", "direction_checks",
    "run_info", "table_docs",
)  # fmt: skip


def _build(corpus: Path, data_dir: Path) -> Path:
    from hubgenome.flows.build import build_warehouse
    from hubgenome.flows.corpus_import import import_corpus

    raw_db = data_dir / "raw.duckdb"
    import_corpus(corpus, raw_db)
    result = build_warehouse(data_dir, raw_db=raw_db, before_publish=analytics_before_publish)
    return result.warehouse


def _tables(con: duckdb.DuckDBPyConnection) -> list[str]:
    rows = con.sql(
        "select table_name from information_schema.tables where table_schema = ? order by 1", params=[SCHEMA]
    ).fetchall()
    return [row[0] for row in rows]


@pytest.fixture(scope="module")
def trees_warehouse(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """trees-2025-04 imported and built once for this module, analytics written before publishing."""
    return _build(corpus_path("trees-2025-04"), tmp_path_factory.mktemp("trees-data"))


def test_build_hook_writes_every_documented_table(trees_warehouse):
    with duckdb.connect(str(trees_warehouse), read_only=True) as con:
        tables = _tables(con)
        assert set(tables) == set(TABLE_DOCS)
        for name in NON_EMPTY:
            assert con.sql(f"select count(*) from {SCHEMA}.{name}").fetchall()[0][0] > 0, name
        # every table and column is documented, in table_docs and as a COMMENT
        docs = con.sql(f"select table_name, column_name from {SCHEMA}.table_docs").fetchall()
        columns = con.sql(
            "select table_name, column_name, comment from duckdb_columns() where schema_name = ?", params=[SCHEMA]
        ).fetchall()
        assert {(t, c) for t, c, _ in columns} <= set(docs)
        assert all(comment for _, _, comment in columns)
        comments = con.sql("select comment from duckdb_tables() where schema_name = ?", params=[SCHEMA]).fetchall()
        assert all(comment for (comment,) in comments)


def test_reproduction_and_directions_on_trees(trees_warehouse):
    with duckdb.connect(str(trees_warehouse), read_only=True) as con:
        reproduction = con.sql(f"select * from {SCHEMA}.reproduction order by paper_row").pl()
        checks = con.sql(f"select * from {SCHEMA}.direction_checks order by check_row").pl()
        info = dict(con.sql(f"select key, value from {SCHEMA}.run_info").fetchall())
    paper = pl.read_csv(Path(hubgenome.analytics.__file__).parent / "data" / "anatomy-2025-07.csv")  # as installed
    assert reproduction["metric"].to_list() == paper["metric"].to_list()
    computed = reproduction.filter(pl.col("status") == "computed")
    assert computed.height >= 30
    assert (computed["corpus"] == "trees-2025-04").all() and computed["reading"].str.len_chars().min() > 0
    assert reproduction.filter(pl.col("status") != "computed")["reading"].str.len_chars().min() > 0
    value = dict(computed.select("metric", "our_value").iter_rows())
    assert value["models_in_snapshot"] == 1815
    assert value["similarity_card_tfidf_siblings"] > value["similarity_card_tfidf_parent_child"]
    # trees-2025-04 has cards, so every card direction can be judged
    card_checks = checks.filter(pl.col("finding").str.contains("card"))
    assert card_checks["holds"].null_count() == 0
    assert info["corpus"] == "trees-2025-04" and info["seed"] == "20250712"


def _contents(con: duckdb.DuckDBPyConnection) -> dict[str, list[tuple]]:
    return {name: con.sql(f"select * from {SCHEMA}.{name}").fetchall() for name in _tables(con) if name != "run_info"}


def test_same_warehouse_and_seed_give_identical_tables(trees_warehouse, tmp_path):
    copy = tmp_path / "again.duckdb"
    shutil.copy(trees_warehouse, copy)
    with duckdb.connect(str(copy)) as con:
        run_analytics(con)
        again = _contents(con)
        info = dict(con.sql(f"select key, value from {SCHEMA}.run_info").fetchall())
    with duckdb.connect(str(trees_warehouse), read_only=True) as con:
        first = _contents(con)
    assert again.keys() == first.keys()
    for name in first:
        assert again[name] == first[name], f"analytics.{name} differs between two runs with the same seed"
    assert "seconds.similarity" in info and "version.polars" in info


def test_report_is_self_contained_and_carries_the_reproduction_table(trees_warehouse, tmp_path):
    with duckdb.connect(str(trees_warehouse), read_only=True) as con:
        paths = write_report(con, tmp_path / "reports")
    markdown = paths.markdown.read_text()
    page = paths.html.read_text()
    assert "| metric | paper | ours | corpus (date) | reading |" in markdown
    assert "| similarity_card_tfidf_siblings | 0.890 |" in markdown
    assert "## Direction checks" in markdown and "HOLDS" in markdown
    assert page.count("<svg") >= 5 and "<table>" in page
    assert "<script" not in page and "src=" not in page and "href=" not in page


def test_report_refuses_a_warehouse_without_analytics(tmp_path):
    with duckdb.connect(str(tmp_path / "empty.duckdb")) as con, pytest.raises(ValueError, match="analytics step"):
        write_report(con, tmp_path / "reports")


# --- the building blocks the run added to the core --------------------------------------------------


EDGES = pl.DataFrame(
    {
        "parent_model_id": ["r", "r", "r", "a", "a", "b", "m"],
        "child_model_id": ["a", "b", "c", "d", "e", "f", "a"],
        "relation": ["finetune", "finetune", "adapter", "finetune", "quantized", "finetune", "merge"],
    }
)


def test_edge_subgraph_equals_a_graph_built_from_the_filtered_edges():
    full = build_digraph(EDGES, list("rabcdefmz"))
    for relations, excluded in (((("finetune", "adapter")), ()), (None, ("merge",))):
        masked = edge_subgraph(full, relation_mask(full, relations=relations, exclude_relations=excluded))
        direct = build_digraph(EDGES, list("rabcdefmz"), relations=relations, exclude_relations=excluded)
        for attribute in ("parent", "child", "out_ptr", "out_idx", "in_ptr", "in_idx"):
            assert np.array_equal(getattr(masked, attribute), getattr(direct, attribute)), attribute


def test_similarity_with_a_genome_loader_matches_the_frame():
    genomes = pl.DataFrame(
        {"model_id": list("rabcdef"), "genome": ["xx yy", "xx yy zz", "xx zz", "yy", "xx", "zz zz", "yy xx"]}
    )
    asked: list[list[str]] = []

    def loader(ids: pl.Series) -> pl.DataFrame:
        asked.append(ids.to_list())
        return genomes.filter(pl.col("model_id").is_in(ids.implode()))

    kwargs = {"n_samples": 200, "n_resamples": 300, "seed": 5, "relations": None}
    from_frame = similarity.similarity_table(EDGES, genomes, **kwargs)
    from_loader = similarity.similarity_table(EDGES, loader, **kwargs)
    assert len(asked) == 1  # one look-up for every sampled node plus the fitting sample
    assert_frame_equal(from_frame, from_loader, check_exact=True)
    # every pair is scored, and the similarity is a proper fraction
    row = from_frame.filter((pl.col("motif") == "duo") & (pl.col("measure") == "levenshtein"))
    assert 0 < row["n_pairs"].item() <= 200 and 0 < row["mean"].item() < 1  # m (no genome) drops its pairs


def test_similarity_fit_cap_is_seeded_and_bounded():
    genomes = pl.DataFrame(
        {"model_id": list("rabcdef"), "genome": ["xx yy", "xx yy zz", "xx zz", "yy", "xx", "zz zz", "yy xx"]}
    )
    kwargs = {"n_samples": 50, "n_resamples": 100, "seed": 2, "fit_max_documents": 3, "relations": None}
    first = similarity.similarity_table(EDGES, lambda ids: genomes.filter(pl.col("model_id").is_in(ids.implode())),
                                        **kwargs)  # fmt: skip
    second = similarity.similarity_table(EDGES, lambda ids: genomes.filter(pl.col("model_id").is_in(ids.implode())),
                                         **kwargs)  # fmt: skip
    assert_frame_equal(first, second, check_exact=True)
    assert first["fitted_documents"].max() <= 3


@pytest.mark.slow
def test_hub_2024_07_end_to_end(tmp_path_factory):
    """The whole Hub of July 2024 (760k models, no cards): build + analytics + report in about 1.5 min."""
    warehouse = _build(corpus_path("hub-2024-07"), tmp_path_factory.mktemp("hub-data"))
    with duckdb.connect(str(warehouse), read_only=True) as con:
        assert set(_tables(con)) == set(TABLE_DOCS)
        reproduction = con.sql(f"select metric, status, reading from {SCHEMA}.reproduction").pl()
        checks = dict(con.sql(f"select finding, holds from {SCHEMA}.direction_checks").fetchall())
        paths = write_report(con, tmp_path_factory.mktemp("hub-reports"))
    assert (
        reproduction.filter(pl.col("metric") == "share_models_with_card")["reading"].item().endswith("no model cards")
    )
    assert checks["metadata: siblings above parent–child"] is True
    assert checks["cards shorten from parent to child"] is None  # no cards: said, not guessed
    assert "hub-2024-07" in paths.markdown.read_text()
