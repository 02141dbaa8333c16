"""End to end through the real path: corpus → local Hub server → crawler → dbt warehouse.

The demo ecosystem's lineage is known exactly (its manifest), and trees-2025-04 records the Hub's
own typed relations: the warehouse built from what the crawler landed must agree with both.
"""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest

from hubgenome.flows.build import build_warehouse
from hubgenome.local_hub.demo import generate_corpus
from hubgenome.local_hub.server import LocalHub
from tests.support.corpus_files import read_jsonl_gz
from tests.support.crawling import crawl

pytestmark = pytest.mark.usefixtures("prefect_harness")


def _crawl_and_build(corpus: Path, data_dir: Path) -> Path:
    with LocalHub(corpus) as hub:
        crawl(hub.url, data_dir)
    return build_warehouse(data_dir).warehouse


@pytest.fixture(scope="module")
def demo_warehouse(tmp_path_factory: pytest.TempPathFactory, prefect_harness) -> tuple[Path, object]:
    root = tmp_path_factory.mktemp("demo")
    manifest = generate_corpus(root / "corpus", n_models=3000, seed=20250712)
    return _crawl_and_build(root / "corpus", root / "data"), manifest


def test_demo_roots_and_depths_are_exactly_the_known_ones(demo_warehouse):
    warehouse, manifest = demo_warehouse
    with duckdb.connect(str(warehouse), read_only=True) as con:
        rows = con.execute("select model_id, root_model_id, depth from dim_models").fetchall()
    assert len(rows) == manifest.model_count

    present = manifest.expected_depth.keys()

    def root_of(model_id: str) -> str:
        # A model whose tree parent is absent from the Hub (dangling) heads its own family.
        while manifest.tree_parent.get(model_id) in present:
            model_id = manifest.tree_parent[model_id]
        return model_id

    wrong_depth = [(m, d, manifest.expected_depth[m]) for m, _, d in rows if d != manifest.expected_depth[m]]
    wrong_root = [(m, r, root_of(m)) for m, r, _ in rows if r != root_of(m)]
    assert wrong_depth == []
    assert wrong_root == []


def test_demo_relations_are_exactly_the_known_ones(demo_warehouse):
    warehouse, manifest = demo_warehouse
    truth = {(row["child"], row["parent"]): row["relation"] for row in read_jsonl_gz([manifest.relations_file])}
    with duckdb.connect(str(warehouse), read_only=True) as con:
        landed = con.execute(
            """
            select child_model_id, case when is_dangling then parent_reference else parent_model_id end, relation
            from fct_lineage_edges
            """
        ).fetchall()
    assert {(child, parent): relation for child, parent, relation in landed} == truth


def test_trees_typed_edges_land_with_their_relation(trees_corpus, tmp_path):
    warehouse = _crawl_and_build(trees_corpus, tmp_path)
    relations = read_jsonl_gz([trees_corpus / "relations.jsonl.gz"])
    with duckdb.connect(str(warehouse), read_only=True) as con:
        crawled = {row[0] for row in con.execute("select model_id from dim_models").fetchall()}
        edges = {
            (child, parent): relation
            for child, parent, relation in con.execute(
                "select child_model_id, parent_model_id, relation from fct_lineage_edges where not is_dangling"
            ).fetchall()
        }
    both_ends = [row for row in relations if row["child"] in crawled and row["parent"] in crawled]
    assert len(both_ends) > 1000
    missing = [row for row in both_ends if (row["child"], row["parent"]) not in edges]
    wrong = [row for row in both_ends if edges.get((row["child"], row["parent"]), row["relation"]) != row["relation"]]
    assert missing == []
    assert wrong == []
