"""Acceptance of issue 14 on hub-2024-07 (a slice around the evaluated models, tests.support.safety):
the bundled JailbreakBench rows, and the Llama-2-7b-chat-hf family's evaluated member and un-evaluated
descendants. Expectations come from the reference file (read with the csv module, not through the
seed) and from the corpus's own base_model tags, walked in Python."""

from __future__ import annotations

import datetime as dt
import itertools

from tests.support.safety import LLAMA, VICUNA, reference_rows
from tests.support.shared_data import reference_path
from tests.support.warehouses import query

BUNDLED = "bundled reference (JailbreakBench 2024)"


def test_bundled_rows_match_the_reference_file(safety_slice):
    data_dir, _ = safety_slice
    reference = reference_rows(reference_path("jailbreakbench-2024.csv"))
    expected = {
        (
            row["model_id"] or None,
            row["benchmark_model"],
            row["defense"],
            row["method"],
            float(row["value"]),
            dt.date.fromisoformat(row["evaluation_date"]),
            row["source"],
        )
        for row in reference
    }
    got = query(
        data_dir / "warehouse.duckdb",
        "select model_id, evaluated_model_name, method, attack_or_benchmark, value, evaluated_on, source, "
        "evidence_kind, evidence_label, is_closed_model, is_model_in_warehouse, family_id "
        "from fct_safety_evaluations",
    )
    assert {row[:7] for row in got} == expected
    assert len(got) == len(reference)
    assert {row[7:9] for row in got} == {("bundled_reference", BUNDLED)}
    closed = [row for row in got if row[0] is None]
    assert len(closed) == sum(1 for row in reference if not row["model_id"])
    assert all(row[9] and not row[10] and row[11] is None for row in closed)  # labelled, never joined
    llama = [row for row in got if row[0] == LLAMA]
    assert {row[3] for row in llama} == {row["method"] for row in reference if row["model_id"] == LLAMA}
    assert len({row[3] for row in llama}) == 5
    assert all(row[10] and row[11] == LLAMA for row in llama)


def test_llama_family_evaluated_member_and_descendants_ranked_by_downloads(safety_slice):
    data_dir, lineage = safety_slice
    warehouse = data_dir / "warehouse.duckdb"
    from_llama, from_vicuna = lineage.distances_from(LLAMA), lineage.distances_from(VICUNA)

    def nearest(model_id: str) -> str | None:  # fewest edges, ties to the smaller id (as the mart documents)
        candidates = [(d[model_id], root) for root, d in ((LLAMA, from_llama), (VICUNA, from_vicuna)) if model_id in d]
        return min(candidates)[1] if candidates else None

    expected = sorted(
        (m for m in from_llama if m != LLAMA and nearest(m) == LLAMA),
        key=lambda m: (-lineage.downloads(m), m),
    )
    assert len(lineage.children[LLAMA]) == 1243  # hub-2024-07's direct children of Llama-2-7b-chat-hf

    evaluated = query(
        warehouse,
        "select model_id, family_id, evaluated_ancestor_distance, is_evaluated, own_evaluation_count "
        "from fct_family_safety where is_evaluated order by 1",
    )
    assert evaluated == [(VICUNA, VICUNA, 0, True, 5), (LLAMA, LLAMA, 0, True, 5)]

    rows = query(
        warehouse,
        "select model_id, evaluated_ancestor_distance, relation_path, relations, path_model_ids, downloads, "
        "download_rank_under_ancestor from fct_family_safety "
        "where nearest_evaluated_model_id = ? and has_evaluated_ancestor order by download_rank_under_ancestor",
        [LLAMA],
    )
    assert [row[0] for row in rows] == expected
    assert [row[6] for row in rows] == list(range(1, len(expected) + 1))
    assert [row[1] for row in rows] == [from_llama[m] for m in expected]
    assert [row[5] for row in rows] == [lineage.downloads(m) for m in expected]
    assert {row[1] for row in rows} == {1, 2}

    edges = {
        (child, parent): relation
        for child, parent, relation in query(
            warehouse, "select child_model_id, parent_model_id, relation from fct_lineage_edges"
        )
    }
    for model_id, distance, relation_path, relations, path, *_ in rows:
        assert path[0] == LLAMA and path[-1] == model_id and len(path) == distance + 1
        assert relations == [edges[(child, parent)] for parent, child in itertools.pairwise(path)]
        assert relation_path == " > ".join(relations)


def test_report_states_the_family_safety_view(safety_slice, tmp_path):
    import duckdb

    from hubgenome.analytics.report import write_report

    data_dir, _ = safety_slice
    reference = [row for row in reference_rows(reference_path("jailbreakbench-2024.csv")) if row["model_id"] == LLAMA]
    values = [float(row["value"]) for row in reference]
    (year,) = {row["evaluation_date"][:4] for row in reference}
    with duckdb.connect(str(data_dir / "warehouse.duckdb"), read_only=True) as con:
        markdown = write_report(con, tmp_path).markdown.read_text(encoding="utf-8")
    ((below, downloads, top, path),) = query(
        data_dir / "warehouse.duckdb",
        "select count(*), sum(downloads), arg_max(model_id, downloads), arg_max(relation_path, downloads) "
        "from fct_family_safety where nearest_evaluated_model_id = ? and has_evaluated_ancestor",
        [LLAMA],
    )
    assert (
        f"**{LLAMA}** (family {LLAMA}): ASR {min(values):g}–{max(values):g} % across five attacks, {year}; "
        f"{below:,} un-evaluated descendants with {downloads:,} downloads (30 d) point to it."
    ) in markdown
    assert f"| {top} | {LLAMA} | 1 | {path} |" in markdown
    assert "No score is estimated, copied or averaged" in markdown
