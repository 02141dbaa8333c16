"""``hubgenome import-snapshot``: the paper's published snapshot, as Parquet and as CSV, into the landing and warehouse.

The snapshot files are written here in the published schema (``model_id``, ``tags`` as Python-repr
strings, ``modelCard``, the authors' derived columns, odd values a real 1.86M-row file holds), then
imported from disk and downloaded from the local Hub with the real ``huggingface_hub`` client.
"""

from __future__ import annotations

import csv
import gzip
import hashlib
import math
from pathlib import Path

import duckdb
import orjson
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from huggingface_hub import HfApi

from hubgenome.core.errors import HubCrawlError, HubRequestError, SnapshotFormatError
from hubgenome.flows import snapshot_import
from hubgenome.flows.build import build_warehouse
from hubgenome.flows.snapshot_import import (
    SNAPSHOT_MODE,
    SNAPSHOT_REPO,
    card_data,
    download_snapshot,
    import_snapshot,
    local_source,
    parse_tags,
)
from hubgenome.local_hub.server import HubBehaviour, LocalHub
from tests.support.cli import run_hubgenome
from tests.support.corpus_files import tiny_model, write_jsonl_gz

# -- the snapshot, written in code -----------------------------------------------------------------

#: child -> [(parent, relation)]: a small tree with every typed relation, a merge and a dangling parent.
LINEAGE: dict[str, list[tuple[str, str]]] = {
    "org/ft-1": [("org/base", "finetune")],
    "org/ft-2": [("org/base", "finetune")],
    "user/ft-1-gguf": [("org/ft-1", "quantized")],
    "user/ft-2-lora": [("org/ft-2", "adapter")],
    "user/merged": [("org/ft-1", "merge"), ("org/ft-2", "merge")],
    "user/orphan": [("gone/deleted-parent", "finetune")],
}
BASE_CARD = '---\nlicense: apache-2.0\nlanguage:\n- en\n- fr\n---\n# Base\nSays "hi", then, a comma.\r\nSecond line.\n'
MALFORMED_CARD = "---\nlicense: [mit\n\tbad: indent\n---\n# Broken front matter\n"
PLAIN_CARD = "# No front matter\n\nJust text, with 'quotes' and \"double quotes\".\n"
ODD_TAGS = ["it's", 'say "hi"', "back\\slash", "ünïcode", "region:us"]


def _tags(model_id: str) -> list[str]:
    tags = ["transformers", "license:mit"]
    for parent, relation in LINEAGE.get(model_id, []):
        tags += [f"base_model:{parent}", f"base_model:{relation}:{parent}"]
    return tags


def _card(model_id: str) -> str:
    parents = [parent for parent, _ in LINEAGE.get(model_id, [])]
    base = f"base_model: {parents[0]}\n" if len(parents) == 1 else ""
    return f"---\nlicense: mit\n{base}tags:\n- test\n---\n# {model_id}\n\nA card.\n"


def snapshot_rows() -> list[dict]:
    """The rows of the snapshot, in the published columns (``tags`` still a list here)."""
    rows = []

    def add(model_id: str, **values: object) -> None:
        row = {
            "model_id": model_id,
            "likes": len(rows) % 4,
            "trendingScore": float(len(rows) % 3),
            "private": False,
            "downloads": float(len(rows) * 10),
            "tags": _tags(model_id),
            "pipeline_tag": "text-generation",
            "library_name": "transformers",
            "createdAt": f"2025-0{1 + len(rows) % 6}-1{len(rows) % 10}T08:00:00.000Z",
            "modelCard": _card(model_id),
        }
        row.update(values)
        tags = row["tags"] if isinstance(row["tags"], list) else []
        row["licenses"] = [tag for tag in tags if tag.startswith("license:")]  # derived by the authors
        rows.append(row)

    add("org/base", modelCard=BASE_CARD, likes=100, downloads=123456.0)
    for child in LINEAGE:
        add(child)
    add("legacy-model", tags=["pytorch"], pipeline_tag=None)
    add("user/no-card", modelCard=None)
    add("user/empty-card", modelCard="")
    add("user/malformed-yaml", modelCard=MALFORMED_CARD)
    add("user/plain-card", modelCard=PLAIN_CARD)
    add("user/odd-tags", tags=ODD_TAGS, downloads=None, trendingScore=math.nan, private=True)
    add("user/bad-date", createdAt="not a date")
    add("user/tags-unparsed", tags="not a list")
    for number in range(24):
        add(f"filler/model-{number:02d}", library_name=("diffusers", "peft", None)[number % 3])
    add("", modelCard=PLAIN_CARD)  # a row without id: skipped, counted
    return rows


def _repr_or_null(value: object) -> str | None:
    return repr(value) if isinstance(value, list) else value


def write_parquet(path: Path, rows: list[dict]) -> Path:
    """The snapshot as Parquet, typed as a pandas frame of it would be (lists stay repr strings)."""
    columns = {
        "model_id": pa.array([row["model_id"] for row in rows], pa.string()),
        "likes": pa.array([row["likes"] for row in rows], pa.int64()),
        "trendingScore": pa.array([row["trendingScore"] for row in rows], pa.float64()),
        "private": pa.array([row["private"] for row in rows], pa.bool_()),
        "downloads": pa.array([row["downloads"] for row in rows], pa.float64()),
        "tags": pa.array([_repr_or_null(row["tags"]) for row in rows], pa.string()),
        "pipeline_tag": pa.array([row["pipeline_tag"] for row in rows], pa.string()),
        "library_name": pa.array([row["library_name"] for row in rows], pa.string()),
        "createdAt": pa.array([row["createdAt"] for row in rows], pa.string()),
        "licenses": pa.array([repr(row["licenses"]) for row in rows], pa.string()),
        "modelCard": pa.array([row["modelCard"] for row in rows], pa.string()),
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    pq.write_table(pa.table(columns), path, row_group_size=16)
    return path


def _csv_value(value: object) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""  # pandas writes NaN as an empty field
    if isinstance(value, list):
        return repr(value)
    return str(value)  # True/False, 12.0, as pandas writes them


def write_csv(path: Path, rows: list[dict]) -> Path:
    """The snapshot as CSV, the way pandas ``to_csv`` wrote the published file (index column first)."""
    names = list(rows[0])
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle, quoting=csv.QUOTE_MINIMAL)
        writer.writerow(["", *names])
        for index, row in enumerate(rows):
            writer.writerow([index, *(_csv_value(row[name]) for name in names)])
    return path


def _landed(raw_db: Path) -> tuple[dict, dict[str, dict], dict[str, tuple]]:
    with duckdb.connect(str(raw_db), read_only=True) as con:
        run = con.execute(
            "select crawl_id, mode, endpoint, state, models_landed, pages_landed from crawl_runs where mode = ?",
            [SNAPSHOT_MODE],
        ).fetchall()
        assert len(run) == 1
        crawl_id, mode, endpoint, state, models_landed, pages_landed = run[0]
        payloads = {
            model_id: orjson.loads(payload)
            for model_id, payload in con.execute(
                "select model_id, payload from raw_models where crawl_id = ?", [crawl_id]
            ).fetchall()
        }
        cards = {
            row[0]: row[1:]
            for row in con.execute(
                "select model_id, status, http_status, card_text, card_sha256 from raw_cards where crawl_id = ?",
                [crawl_id],
            ).fetchall()
        }
        pages = con.execute("select url, model_count from crawl_pages where crawl_id = ?", [crawl_id]).fetchall()
    run_row = {
        "crawl_id": crawl_id,
        "mode": mode,
        "endpoint": endpoint,
        "state": state,
        "models_landed": models_landed,
        "pages_landed": pages_landed,
        "pages": pages,
    }
    return run_row, payloads, cards


@pytest.fixture(params=["parquet", "csv"])
def snapshot_file(request, tmp_path: Path) -> Path:
    rows = snapshot_rows()
    if request.param == "parquet":
        return write_parquet(tmp_path / "snapshot" / "ai_ecosystem_withmodelcards.parquet", rows)
    return write_csv(tmp_path / "snapshot" / "ai_ecosystem_withmodelcards.csv", rows)


# -- landing ---------------------------------------------------------------------------------------


def test_every_row_lands_as_the_crawlers_listing_payload(snapshot_file, tmp_path):
    rows = snapshot_rows()
    raw_db = tmp_path / "data" / "raw.duckdb"
    summary = import_snapshot(local_source(snapshot_file), raw_db)
    run, payloads, cards = _landed(raw_db)

    with_id = [row for row in rows if row["model_id"]]
    assert run["mode"] == SNAPSHOT_MODE and run["state"] == "succeeded"
    assert run["endpoint"] == f"file://{snapshot_file}"
    assert run["models_landed"] == summary.models == len(payloads) == len(with_id)
    assert summary.rows_without_id == len(rows) - len(with_id)
    assert sum(count for _, count in run["pages"]) == len(with_id)
    assert all(url.startswith(f"file://{snapshot_file}#rows=") for url, _ in run["pages"])
    assert "licenses" in summary.ignored_columns

    for row in with_id:
        payload = payloads[row["model_id"]]
        assert payload["id"] == payload["modelId"] == row["model_id"]
        if isinstance(row["tags"], list):
            assert payload["tags"] == row["tags"]
        assert payload["likes"] == row["likes"]
        if row["downloads"] is not None:
            assert payload["downloads"] == int(row["downloads"])
        if row["pipeline_tag"] is not None:
            assert payload["pipeline_tag"] == row["pipeline_tag"]

    assert payloads["org/ft-1"]["author"] == "org"
    assert "author" not in payloads["legacy-model"]  # an un-namespaced id has no author
    assert "pipeline_tag" not in payloads["legacy-model"]
    assert payloads["org/base"]["createdAt"] == rows[0]["createdAt"]
    assert payloads["org/base"]["cardData"] == {"license": "apache-2.0", "language": ["en", "fr"]}
    assert payloads["org/ft-1"]["cardData"]["base_model"] == "org/base"

    odd = payloads["user/odd-tags"]
    assert odd["tags"] == ODD_TAGS
    assert odd["private"] is True
    assert "downloads" not in odd and "trendingScore" not in odd  # NaN is no number
    assert "createdAt" not in payloads["user/bad-date"]
    assert "tags" not in payloads["user/tags-unparsed"]
    assert summary.tags_unparsed == 1
    assert "cardData" not in payloads["user/malformed-yaml"]
    assert "cardData" not in payloads["user/plain-card"]

    expected_cards = {row["model_id"]: row["modelCard"] for row in with_id if row["modelCard"]}
    assert set(cards) == set(expected_cards)  # no card row for a missing or empty card
    for model_id, text in expected_cards.items():
        assert cards[model_id] == ("ok", 200, text, hashlib.sha256(text.encode()).hexdigest())
    assert summary.cards == len(expected_cards)


def test_parquet_and_csv_land_identical_payloads(tmp_path):
    rows = snapshot_rows()
    landed = []
    for name, writer in (("a.parquet", write_parquet), ("a.csv", write_csv)):
        raw_db = tmp_path / name / "raw.duckdb"
        import_snapshot(local_source(writer(tmp_path / "files" / name, rows)), raw_db)
        _, payloads, cards = _landed(raw_db)
        landed.append((payloads, cards))
    assert landed[0] == landed[1]


def test_a_folder_with_both_formats_imports_the_parquet_files_only(tmp_path):
    rows = snapshot_rows()
    folder = tmp_path / "download"
    write_csv(folder / "ai_ecosystem_withmodelcards.csv", rows)
    write_parquet(folder / "data" / "train-00000-of-00002.parquet", rows[:20])
    write_parquet(folder / "data" / "train-00001-of-00002.parquet", rows[20:])
    source = local_source(folder)
    assert source.names == ("data/train-00000-of-00002.parquet", "data/train-00001-of-00002.parquet")
    summary = import_snapshot(source, tmp_path / "raw.duckdb")
    run, payloads, _ = _landed(tmp_path / "raw.duckdb")
    assert summary.models == len(payloads) == sum(1 for row in rows if row["model_id"])
    assert {url.split("#")[0].rsplit("/", 1)[-1] for url, _ in run["pages"]} == {
        "train-00000-of-00002.parquet",
        "train-00001-of-00002.parquet",
    }


def test_rows_stream_in_batches_and_pages_never_span_files(tmp_path, monkeypatch):
    monkeypatch.setattr(snapshot_import, "BATCH_ROWS", 4)
    monkeypatch.setattr(snapshot_import, "PAGE_SIZE", 4)
    rows = [row for row in snapshot_rows() if row["model_id"]]
    folder = tmp_path / "files"
    write_csv(folder / "part-1.csv", rows[:10])
    write_csv(folder / "part-2.csv", rows[10:])
    batches = []
    summary = import_snapshot(local_source(folder), tmp_path / "raw.duckdb", on_batch=batches.append)
    run, payloads, _ = _landed(tmp_path / "raw.duckdb")
    assert len(batches) == math.ceil(10 / 4) + math.ceil((len(rows) - 10) / 4)
    assert summary.models == len(payloads) == len(rows)
    assert run["pages_landed"] == len(batches)  # 4-row pages, restarting at each file
    assert sorted(count for _, count in run["pages"]) == sorted(
        [min(4, 10 - start) for start in range(0, 10, 4)]
        + [min(4, len(rows) - 10 - start) for start in range(0, len(rows) - 10, 4)]
    )


# -- bad input: a clear error and the landing untouched --------------------------------------------


@pytest.fixture
def existing_landing(tmp_path: Path) -> Path:
    raw_db = tmp_path / "data" / "raw.duckdb"
    import_snapshot(local_source(write_parquet(tmp_path / "first" / "a.parquet", snapshot_rows())), raw_db)
    return raw_db


def _counts(raw_db: Path) -> tuple:
    with duckdb.connect(str(raw_db), read_only=True) as con:
        return con.execute(
            "select (select count(*) from crawl_runs), (select count(*) from raw_models), "
            "(select count(*) from raw_cards), (select count(*) from crawl_pages)"
        ).fetchone()


def test_a_file_without_model_id_is_refused_before_anything_lands(existing_landing, tmp_path):
    before = _counts(existing_landing)
    folder = tmp_path / "mixed"
    write_parquet(folder / "good.parquet", snapshot_rows())
    pq.write_table(pa.table({"id": ["a/b"], "tags": ["[]"]}), folder / "wrong.parquet")
    with pytest.raises(SnapshotFormatError, match="no 'model_id' column"):
        import_snapshot(local_source(folder), existing_landing)
    assert _counts(existing_landing) == before


def test_an_unreadable_file_is_refused(existing_landing, tmp_path):
    before = _counts(existing_landing)
    good = write_parquet(tmp_path / "x" / "a.parquet", snapshot_rows())
    truncated = tmp_path / "x" / "truncated.parquet"
    truncated.write_bytes(good.read_bytes()[: good.stat().st_size // 2])
    with pytest.raises(SnapshotFormatError, match="Cannot read"):
        import_snapshot(local_source(truncated), existing_landing)
    not_data = tmp_path / "x" / "notes.txt"
    not_data.write_text("model_id\n")
    with pytest.raises(SnapshotFormatError, match=r"neither a \.parquet nor a \.csv"):
        local_source(not_data)
    with pytest.raises(SnapshotFormatError, match="does not exist"):
        local_source(tmp_path / "nowhere")
    assert _counts(existing_landing) == before


def test_a_failure_after_rows_landed_rolls_the_whole_import_back(existing_landing, tmp_path, monkeypatch):
    monkeypatch.setattr(snapshot_import, "BATCH_ROWS", 5)
    before = _counts(existing_landing)
    source = local_source(write_csv(tmp_path / "y" / "a.csv", snapshot_rows()))

    def interrupt(read: int) -> None:
        if read >= 15:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        import_snapshot(source, existing_landing, on_batch=interrupt)
    assert _counts(existing_landing) == before


def test_a_malformed_csv_line_part_way_is_a_clear_error(existing_landing, tmp_path):
    before = _counts(existing_landing)
    path = write_csv(tmp_path / "z" / "a.csv", snapshot_rows())
    with path.open("a", encoding="utf-8") as handle:
        handle.write('99,"org/unclosed,1,0.0,False,1.0,"[\'a\']",x,y,2025-01-01,"never closed\n')
    with pytest.raises(SnapshotFormatError):
        import_snapshot(local_source(path), existing_landing)
    assert _counts(existing_landing) == before


# -- values ----------------------------------------------------------------------------------------


def test_tags_are_parsed_as_literals_never_evaluated(tmp_path):
    marker = tmp_path / "pwned"
    assert parse_tags(repr(ODD_TAGS)) == ODD_TAGS
    assert parse_tags("['a', \"b'c\"]") == ["a", "b'c"]
    assert parse_tags(["x", None, "y"]) == ["x", "y"]
    assert parse_tags("") == [] and parse_tags("nan") == [] and parse_tags(None) == []
    assert parse_tags(f"__import__('pathlib').Path('{marker}').touch()") is None
    assert parse_tags(f"[__import__('pathlib').Path('{marker}').touch()]") is None
    assert parse_tags("{'a': 1}") is None and parse_tags("['unclosed'") is None
    assert not marker.exists()


def test_card_data_is_the_front_matter_mapping_or_nothing():
    assert card_data("---\ndate: 2024-01-02\nbase_model:\n- a/b\n- c/d\n---\nbody") == {
        "date": __import__("datetime").date(2024, 1, 2),
        "base_model": ["a/b", "c/d"],
    }
    assert card_data("---\n- just\n- a list\n---\n") is None
    assert card_data(MALFORMED_CARD) is None
    assert card_data("---\nlicense: mit\n") is None  # never closed
    assert card_data("---\n!!python/object/apply:os.system ['true']\n---\n") is None  # safe loader only


# -- the warehouse built from it -------------------------------------------------------------------


def test_the_warehouse_rebuilds_the_snapshots_lineage(tmp_path):
    rows = snapshot_rows()
    data_dir = tmp_path / "data"
    import_snapshot(local_source(write_parquet(tmp_path / "s" / "a.parquet", rows)), data_dir / "raw.duckdb")
    warehouse = build_warehouse(data_dir).warehouse
    with duckdb.connect(str(warehouse), read_only=True) as con:
        edges = con.execute(
            """
            select child_model_id, coalesce(parent_model_id, parent_reference), relation, is_dangling
            from fct_lineage_edges
            """
        ).fetchall()
        models = {
            row[0]: row[1:]
            for row in con.execute(
                "select model_id, root_model_id, depth, author, downloads from dim_models"
            ).fetchall()
        }
    # A row flagged private is landed as it came but kept out of the warehouse, like a crawled private repo.
    ids = {row["model_id"] for row in rows if row["model_id"] and row["private"] is not True}
    expected = {
        (child, parent, relation, parent not in ids)
        for child, parents in LINEAGE.items()
        for parent, relation in parents
    }
    assert set(edges) == expected
    assert set(models) == ids
    assert models["org/base"][:2] == ("org/base", 0)
    for child in ("org/ft-1", "org/ft-2"):
        assert models[child][:2] == ("org/base", 1)
    for grandchild in ("user/ft-1-gguf", "user/ft-2-lora"):
        assert models[grandchild][:2] == ("org/base", 2)
    assert models["user/orphan"][:2] == ("user/orphan", 0)  # its parent is not in the snapshot
    assert models["legacy-model"][2] is None
    assert models["org/base"][3] == int(rows[0]["downloads"])


# -- downloading from a Hub ------------------------------------------------------------------------


@pytest.fixture
def local_hub(tmp_path: Path):
    write_jsonl_gz(tmp_path / "corpus" / "models-00.jsonl.gz", [tiny_model("org/a", created="2024-01-01T00:00:00Z")])
    repo = tmp_path / "datasets" / SNAPSHOT_REPO
    write_csv(repo / "ai_ecosystem_withmodelcards.csv", snapshot_rows())
    (repo / "README.md").write_text("---\nlicense: mit\n---\n# The paper's snapshot\n")
    with LocalHub(tmp_path / "corpus", HubBehaviour(datasets=tmp_path / "datasets")) as hub:
        yield hub


def test_download_fetches_the_data_files_at_a_recorded_revision(local_hub, tmp_path):
    source = download_snapshot(endpoint=local_hub.url, cache_dir=tmp_path / "hf-cache")
    sha = HfApi(endpoint=local_hub.url).dataset_info(SNAPSHOT_REPO).sha
    assert source.revision == sha and source.repo_id == SNAPSHOT_REPO
    assert source.names == ("ai_ecosystem_withmodelcards.csv",)
    assert source.files[0].read_bytes() == (tmp_path / "datasets" / SNAPSHOT_REPO / source.names[0]).read_bytes()
    assert source.endpoint == f"{local_hub.url}/datasets/{SNAPSHOT_REPO}/tree/{sha}"
    assert local_hub.stats()["by_bucket"]["resolvers"] >= 1
    with pytest.raises(HubRequestError, match="HTTP 404"):
        download_snapshot("modelbiome/not-there", endpoint=local_hub.url, cache_dir=tmp_path / "hf-cache")
    with pytest.raises(HubRequestError, match="HTTP 404"):
        download_snapshot(revision="no-such-branch", endpoint=local_hub.url, cache_dir=tmp_path / "hf-cache")
    with pytest.raises(HubCrawlError, match="Could not reach"):
        download_snapshot(endpoint="http://127.0.0.1:9", cache_dir=tmp_path / "hf-cache")


def test_cli_imports_the_snapshot_from_the_endpoint(local_hub, tmp_path):
    data_dir = tmp_path / "cli-data"
    env = {"HF_HUB_CACHE": str(tmp_path / "hf-cache")}
    result = run_hubgenome("--data-dir", str(data_dir), "import-snapshot", "--endpoint", local_hub.url, env_extra=env)
    assert result.returncode == 0, result.stderr
    run, payloads, _ = _landed(data_dir / "raw.duckdb")
    sha = HfApi(endpoint=local_hub.url).dataset_info(SNAPSHOT_REPO).sha
    assert run["endpoint"] == f"{local_hub.url}/datasets/{SNAPSHOT_REPO}/tree/{sha}"
    assert {url.split("#")[0] for url, _ in run["pages"]} == {
        f"{local_hub.url}/datasets/{SNAPSHOT_REPO}/resolve/{sha}/ai_ecosystem_withmodelcards.csv"
    }
    assert len(payloads) == sum(1 for row in snapshot_rows() if row["model_id"])

    refused = run_hubgenome(
        "--data-dir", str(data_dir), "import-snapshot", "--endpoint", local_hub.url, "--repo-id", "x/missing"
    )
    assert refused.returncode == 1
    assert "error:" in refused.stderr and "HTTP 404" in refused.stderr
    assert "Traceback" not in refused.stderr.split("error:")[-1]  # Prefect logs the task's, the CLI none


def test_cli_refuses_a_bad_local_file_without_a_traceback(tmp_path):
    bad = tmp_path / "bad.csv.gz"
    with gzip.open(bad, "wt") as handle:
        handle.write("id,tags\na/b,[]\n")
    result = run_hubgenome("--data-dir", str(tmp_path / "data"), "import-snapshot", "--from", str(bad))
    assert result.returncode == 1
    assert "no 'model_id' column" in result.stderr
    assert "Traceback" not in result.stderr.split("error:")[-1]


def test_docstring_examples_run():
    import doctest

    assert doctest.testmod(snapshot_import, optionflags=doctest.NORMALIZE_WHITESPACE).failed == 0
