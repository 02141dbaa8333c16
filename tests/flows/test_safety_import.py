"""``hubgenome safety import``: the user's evaluations land in their data directory whole, or not at all."""

from __future__ import annotations

import hashlib

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from hubgenome.app.safety_evidence import IMPORT_FILE_COLUMNS
from hubgenome.flows import landing
from hubgenome.flows.safety_import import (
    OPTIONAL_COLUMNS,
    REQUIRED_COLUMNS,
    SafetyImportError,
    import_safety_evaluations,
)
from tests.support.cli import run_hubgenome
from tests.support.landings import land_crawl, tiny_models
from tests.support.warehouses import build, query

HEADER = "model_id,method,attack_or_benchmark,metric,value,source,unit,evaluated_on"
GOOD = [
    "org/base,none,PAIR,attack_success_rate,0.62,https://example.org/run-1,fraction,2024-03-28",
    "org/base,none,GCG,attack_success_rate,0.03,https://example.org/run-1,fraction,2024-03-28",
    "a/ft,none,PAIR,attack_success_rate,0.91,https://example.org/run-2,fraction,",
    "not-crawled/model,none,PAIR,attack_success_rate,0.5,https://example.org/run-3,,",
]


def _csv(path, *lines, header=HEADER):
    path.write_text("\n".join([header, *lines]) + "\n", encoding="utf-8")
    return path


def _landing_fingerprint(raw_db):
    """A hash of every row of every landing table: equal before and after means nothing changed."""
    with duckdb.connect(str(raw_db), read_only=True) as con:
        digest = hashlib.sha256()
        for table in landing.TABLES:
            for row in con.execute(f"select * from {table} order by all").fetchall():
                digest.update(repr(row).encode())
        return digest.hexdigest()


@pytest.fixture
def raw_db(tmp_path):
    path = tmp_path / "raw.duckdb"
    land_crawl(path, tiny_models())
    return path


def test_the_app_shows_the_columns_the_importer_accepts():
    assert IMPORT_FILE_COLUMNS == REQUIRED_COLUMNS + OPTIONAL_COLUMNS


def test_a_good_csv_lands_every_row_with_its_types(raw_db, tmp_path):
    landed = import_safety_evaluations(raw_db, _csv(tmp_path / "evals.csv", *GOOD))

    assert (landed.rows_landed, landed.models) == (4, 3)
    with duckdb.connect(str(raw_db), read_only=True) as con:
        rows = con.execute(
            "select row_number, model_id, attack_or_benchmark, value, unit, cast(evaluated_on as varchar) "
            "from user_safety_evaluations order by row_number"
        ).fetchall()
        imports = con.execute("select import_id, rows_landed from safety_imports").fetchall()
    assert rows == [
        (2, "org/base", "PAIR", 0.62, "fraction", "2024-03-28"),
        (3, "org/base", "GCG", 0.03, "fraction", "2024-03-28"),
        (4, "a/ft", "PAIR", 0.91, "fraction", None),
        (5, "not-crawled/model", "PAIR", 0.5, None, None),
    ]
    assert imports == [(landed.import_id, 4)]


def test_a_parquet_file_lands_like_a_csv(raw_db, tmp_path):
    table = pa.table(
        {
            "model_id": ["org/base", "a/ft"],
            "method": ["none", "none"],
            "attack_or_benchmark": ["PAIR", "PAIR"],
            "metric": ["attack_success_rate", "attack_success_rate"],
            "value": [0.62, 0.91],
            "source": ["s", "s"],
        }
    )
    pq.write_table(table, tmp_path / "evals.parquet")

    landed = import_safety_evaluations(raw_db, tmp_path / "evals.parquet")

    assert landed.rows_landed == 2
    with duckdb.connect(str(raw_db), read_only=True) as con:
        assert con.execute("select row_number, value from user_safety_evaluations order by 1").fetchall() == [
            (1, 0.62),
            (2, 0.91),
        ]


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        pytest.param(
            "model_id,method,metric,value,source\norg/base,none,asr,0.5,s\n",
            "missing column attack_or_benchmark",
            id="missing-column",
        ),
        pytest.param(
            HEADER + ",notes\n" + GOOD[0] + ",hi\n",
            "unknown column 'notes'",
            id="unknown-column",
        ),
        pytest.param(
            "\n".join([HEADER, GOOD[0], "org/base,none,GCG,attack_success_rate,high,s,,"]) + "\n",
            "line 3, column value: 'high' is not a number",
            id="non-numeric-value",
        ),
        pytest.param(
            "\n".join([HEADER, GOOD[0], "org/base,none,GCG,attack_success_rate,nan,s,,"]) + "\n",
            "line 3, column value: 'nan' is not a finite number",
            id="not-finite",
        ),
        pytest.param(
            "\n".join([HEADER, GOOD[0], GOOD[1], GOOD[0]]) + "\n",
            "line 4: duplicates line 2",
            id="duplicate-row",
        ),
        pytest.param(
            "\n".join([HEADER, ",none,PAIR,attack_success_rate,0.5,s,,"]) + "\n",
            "line 2, column model_id: empty",
            id="empty-model-id",
        ),
        pytest.param(
            "\n".join([HEADER, "org/base,none,PAIR,attack_success_rate,0.5,s,,28/03/2024"]) + "\n",
            "line 2, column evaluated_on: '28/03/2024' is not an ISO date",
            id="bad-date",
        ),
        pytest.param(HEADER + "\n", "no rows under the header", id="header-only"),
        pytest.param("", "the file is empty", id="empty-file"),
    ],
)
def test_a_bad_file_is_refused_whole_with_row_and_column_and_the_landing_is_unchanged(
    raw_db, tmp_path, content, expected
):
    import_safety_evaluations(raw_db, _csv(tmp_path / "before.csv", GOOD[2]))
    before = _landing_fingerprint(raw_db)
    bad = tmp_path / "bad.csv"
    bad.write_text(content, encoding="utf-8")

    with pytest.raises(SafetyImportError) as refused:
        import_safety_evaluations(raw_db, bad)

    assert expected in str(refused.value)
    assert _landing_fingerprint(raw_db) == before


def test_a_file_not_in_utf8_is_refused_with_its_line(raw_db, tmp_path):
    before = _landing_fingerprint(raw_db)
    latin1 = tmp_path / "latin1.csv"
    latin1.write_bytes((HEADER + "\n" + GOOD[0] + "\nmodèle/x,none,PAIR,asr,0.5,s,,\n").encode("latin-1"))

    with pytest.raises(SafetyImportError, match=r"line 3 is not UTF-8.*save the file as UTF-8"):
        import_safety_evaluations(raw_db, latin1)
    assert _landing_fingerprint(raw_db) == before


def test_other_formats_and_missing_files_are_refused(raw_db, tmp_path):
    (tmp_path / "evals.xlsx").write_bytes(b"PK")
    with pytest.raises(SafetyImportError, match=r"expected a \.csv or \.parquet file"):
        import_safety_evaluations(raw_db, tmp_path / "evals.xlsx")
    with pytest.raises(SafetyImportError, match="no such file"):
        import_safety_evaluations(raw_db, tmp_path / "nowhere.csv")


def test_the_build_joins_evaluations_flags_unknown_models_and_a_later_import_supersedes(raw_db, tmp_path):
    import_safety_evaluations(raw_db, _csv(tmp_path / "first.csv", *GOOD))
    corrected = GOOD[0].replace("0.62", "0.64")
    import_safety_evaluations(raw_db, _csv(tmp_path / "second.csv", corrected))

    warehouse = build(tmp_path, raw_db).warehouse

    rows = query(
        warehouse,
        "select model_id, family_id, is_model_in_warehouse, attack_or_benchmark, value "
        "from fct_safety_evaluations where evidence_kind = 'user_import' order by model_id, attack_or_benchmark",
    )
    assert rows == [
        ("a/ft", "org/base", True, "PAIR", 0.91),
        ("not-crawled/model", None, False, "PAIR", 0.5),
        ("org/base", "org/base", True, "GCG", 0.03),
        ("org/base", "org/base", True, "PAIR", 0.64),
    ]
    # beside the bundled reference set, whose models this ecosystem does not hold
    assert query(
        warehouse,
        "select distinct evidence_label, is_model_in_warehouse from fct_safety_evaluations "
        "where evidence_kind = 'bundled_reference'",
    ) == [("bundled reference (JailbreakBench 2024)", False)]
    # the unknown model is kept and flagged, but never placed in a family
    placed = query(warehouse, "select model_id, nearest_evaluated_model_id from fct_family_safety order by 1")
    assert "not-crawled/model" not in {model_id for model_id, _ in placed}
    assert ("a/ft", "a/ft") in placed and ("a/q", "a/ft") in placed


def test_the_command_lands_a_file_and_refuses_a_bad_one_in_one_line(tmp_path):
    good = _csv(tmp_path / "evals.csv", *GOOD)
    done = run_hubgenome("--data-dir", str(tmp_path / "data"), "safety", "import", str(good))
    assert done.returncode == 0, done.stderr
    assert "Run `hubgenome build`" in done.stderr

    bad = _csv(tmp_path / "bad.csv", GOOD[0], GOOD[0])
    refused = run_hubgenome("--data-dir", str(tmp_path / "data"), "safety", "import", str(bad))
    assert refused.returncode == 1
    assert "duplicates line 2" in refused.stderr
    assert "Traceback" not in refused.stderr
