"""The crawler against the local Hub server, on real corpora and on corpora written in code."""

from __future__ import annotations

import collections
from pathlib import Path

import pytest

from hubgenome.core.errors import ConfigurationError, MalformedResponseError
from hubgenome.local_hub.server import HubBehaviour, LocalHub
from tests.support.corpus_files import corpus_cards, corpus_models, slice_corpus, tiny_model, write_jsonl_gz
from tests.support.crawling import crawl, crawl_runs, landed_cards, landed_model_ids

pytestmark = pytest.mark.usefixtures("prefect_harness")


def _assert_lands_each_model_once(data_dir: Path, crawl_id: str, expected_ids: list[str]) -> None:
    landed = landed_model_ids(data_dir, crawl_id)
    duplicates = [model_id for model_id, count in collections.Counter(landed).items() if count > 1]
    assert duplicates == []
    assert set(landed) == set(expected_ids)


def test_full_crawl_of_trees_lands_every_model_once_with_identical_cards(trees_corpus, tmp_path):
    with LocalHub(trees_corpus) as hub:
        summary = crawl(hub.url, tmp_path)
    expected = [model["id"] for model in corpus_models(trees_corpus)]
    _assert_lands_each_model_once(tmp_path, summary.crawl_id, expected)
    cards = landed_cards(tmp_path, summary.crawl_id)
    readmes = corpus_cards(trees_corpus)
    assert set(cards) == set(expected)
    mismatched = [
        model_id for model_id, readme in readmes.items() if cards[model_id][0] == "ok" and cards[model_id][2] != readme
    ]
    assert mismatched == []
    gated = {model["id"] for model in corpus_models(trees_corpus) if model.get("gated") not in (None, False)}
    assert {model_id for model_id, card in cards.items() if card[0] == "gated"} == gated & set(readmes)
    assert summary.cards.get("error", 0) == 0
    [run] = crawl_runs(tmp_path)
    assert run["state"] == "succeeded" and run["next_url"] is None and run["models_landed"] == len(expected)


def test_full_crawl_of_cards_corpus_lands_cards_byte_identical(cards_corpus, tmp_path):
    with LocalHub(cards_corpus) as hub:
        summary = crawl(hub.url, tmp_path)
    expected = [model["id"] for model in corpus_models(cards_corpus)]
    _assert_lands_each_model_once(tmp_path, summary.crawl_id, expected)
    cards = landed_cards(tmp_path, summary.crawl_id)
    readmes = corpus_cards(cards_corpus)
    assert {model_id for model_id, card in cards.items() if card[0] == "ok"} == set(readmes)
    assert all(cards[model_id][2] == text for model_id, text in readmes.items())


def test_crawl_of_a_hub_2024_slice_lands_every_model_once(hub_corpus, tmp_path):
    slice_dir = tmp_path / "slice"
    ids = slice_corpus(hub_corpus, slice_dir, models=20_000)
    with LocalHub(slice_dir) as hub:
        summary = crawl(hub.url, tmp_path / "data", cards=False)
    assert summary.pages == 20
    _assert_lands_each_model_once(tmp_path / "data", summary.crawl_id, ids)


def _write_small_corpus(folder: Path) -> list[dict]:
    models = [
        tiny_model("org/open", created="2024-01-01T00:00:00.000Z"),
        tiny_model("org/no-card", created="2024-01-02T00:00:00.000Z"),
        tiny_model("org/gated-auto", created="2024-01-03T00:00:00.000Z", gated="auto"),
        tiny_model("org/gated-manual", created="2024-01-04T00:00:00.000Z", gated="manual"),
        tiny_model("legacy-id", created="2022-03-02T23:29:05.000Z"),
    ]
    write_jsonl_gz(folder / "models-00.jsonl.gz", models)
    cards = [
        {"id": "org/open", "readme": "---\nlicense: mit\n---\n# Open\nünïcödé ✓\r\nwindows line\n"},
        {"id": "org/gated-auto", "readme": "# gated"},
        {"id": "org/gated-manual", "readme": "# gated too"},
        {"id": "legacy-id", "readme": "# legacy"},
    ]
    write_jsonl_gz(folder / "cards-00.jsonl.gz", cards)
    return models


def test_card_outcomes_are_recorded_not_raised(tmp_path):
    _write_small_corpus(tmp_path / "corpus")
    with LocalHub(tmp_path / "corpus") as hub:
        summary = crawl(hub.url, tmp_path / "data")
    cards = landed_cards(tmp_path / "data")
    assert cards["org/open"] == ("ok", 200, "---\nlicense: mit\n---\n# Open\nünïcödé ✓\r\nwindows line\n")
    assert cards["legacy-id"][0] == "ok"
    assert cards["org/no-card"][:2] == ("missing", 404)
    assert cards["org/gated-auto"][0] == "gated" and cards["org/gated-auto"][1] in (401, 403)
    assert cards["org/gated-manual"][0] == "gated"
    assert summary.cards == {"ok": 2, "missing": 1, "gated": 2}


def test_second_full_crawl_fetches_only_cards_whose_sha_changed(tmp_path):
    corpus = tmp_path / "corpus"
    models = _write_small_corpus(corpus)
    with LocalHub(corpus) as hub:
        crawl(hub.url, tmp_path / "data")
        models[0]["sha"] = "f" * 40
        write_jsonl_gz(corpus / "models-00.jsonl.gz", models)
        hub.reload()
        second = crawl(hub.url, tmp_path / "data")
    assert second.cards == {"ok": 1}
    assert len(landed_model_ids(tmp_path / "data", second.crawl_id)) == len(models)


def test_incremental_crawl_stops_at_the_previous_watermark(tmp_path):
    corpus = tmp_path / "corpus"
    models = [
        tiny_model(
            f"org/m{day:02d}", created=f"2024-02-{day:02d}T00:00:00.000Z", modified=f"2024-03-{day:02d}T00:00:00.000Z"
        )
        for day in range(1, 29)
    ]
    write_jsonl_gz(corpus / "models-00.jsonl.gz", models)
    with LocalHub(corpus) as hub:
        full = crawl(hub.url, tmp_path / "data", cards=False)
        assert full.models == 28
        models[3]["lastModified"] = "2024-04-02T00:00:00.000Z"
        models[3]["sha"] = "a" * 40
        models.append(tiny_model("org/new", created="2024-04-01T00:00:00.000Z"))
        write_jsonl_gz(corpus / "models-00.jsonl.gz", models)
        hub.reload()
        incremental = crawl(hub.url, tmp_path / "data", mode="incremental", cards=False)
    landed = landed_model_ids(tmp_path / "data", incremental.crawl_id)
    # The two changes, plus what falls inside the 2-hour overlap before the old watermark (2024-03-28).
    assert set(landed) == {"org/m04", "org/new", "org/m28"}
    runs = crawl_runs(tmp_path / "data")
    assert [run["mode"] for run in runs] == ["full", "incremental"]
    assert all(run["state"] == "succeeded" for run in runs)


def test_incremental_crawl_without_a_previous_crawl_says_what_to_do(tmp_path):
    _write_small_corpus(tmp_path / "corpus")
    with LocalHub(tmp_path / "corpus") as hub, pytest.raises(ConfigurationError, match="--mode full"):
        crawl(hub.url, tmp_path / "data", mode="incremental")


def test_limit_stops_the_crawl_early(trees_corpus, tmp_path):
    with LocalHub(trees_corpus) as hub:
        summary = crawl(hub.url, tmp_path, cards=False, limit=1500)
    assert summary.models == 1500
    assert len(set(landed_model_ids(tmp_path, summary.crawl_id))) == 1500


@pytest.mark.parametrize(
    "faults",
    [
        "first_page_429=1;seed=1",
        "status=0.3:503,0.1:500;seed=2",
        "truncate=0.5;seed=3",
        "drop=0.2;seed=4",
        "status=0.1:503;truncate=0.1;drop=0.1;first_page_429=1;seed=5",
    ],
)
def test_faults_lose_nothing(faults, trees_corpus, tmp_path):
    with LocalHub(trees_corpus, HubBehaviour(faults=faults)) as hub:
        summary = crawl(hub.url, tmp_path, max_retries=12)
        stats = hub.stats()
    expected = [model["id"] for model in corpus_models(trees_corpus)]
    _assert_lands_each_model_once(tmp_path, summary.crawl_id, expected)
    cards = landed_cards(tmp_path, summary.crawl_id)
    assert [card for card in cards.values() if card[0] == "error"] == []
    assert sum(stats["faults_injected"].values()) > 0
    if "first_page_429" in faults:
        assert summary.throttled_429 >= 1


def test_pacing_keeps_every_request_within_the_quota(trees_corpus, tmp_path):
    with LocalHub(trees_corpus, HubBehaviour(api_quota=2, resolver_quota=400, window_seconds=1.0)) as hub:
        summary = crawl(hub.url, tmp_path, card_concurrency=8)
        stats = hub.stats()
    assert stats["over_quota"] == 0
    assert stats["throttled_429"] == 0
    assert summary.pacing_wait_seconds > 0
    assert summary.cards.get("error", 0) == 0


def test_without_pacing_the_server_sees_requests_over_quota(trees_corpus, tmp_path):
    """The counterpart of the pacing test: the quota is real, and only pacing keeps us under it."""
    with LocalHub(trees_corpus, HubBehaviour(api_quota=100, resolver_quota=100, window_seconds=1.0)) as hub:
        summary = crawl(hub.url, tmp_path, card_concurrency=8, pacing=False)
        stats = hub.stats()
    assert stats["over_quota"] > 0
    assert summary.throttled_429 > 0
    assert summary.cards.get("error", 0) == 0


def test_persistently_malformed_pages_fail_resumably(trees_corpus, tmp_path):
    with (
        LocalHub(trees_corpus, HubBehaviour(faults="truncate=1.0;seed=9")) as hub,
        pytest.raises(MalformedResponseError),
    ):
        crawl(hub.url, tmp_path, max_retries=2, task_retries=0)
    [failed] = crawl_runs(tmp_path)
    assert failed["state"] == "failed" and failed["next_url"] and "malformed" in failed["error"]
    # The same endpoint (a crawl resumes per endpoint), now healthy.
    with LocalHub(trees_corpus, port=int(failed["endpoint"].rsplit(":", 1)[1])) as hub:
        resumed = crawl(hub.url, tmp_path, cards=False)
    assert resumed.resumed and resumed.crawl_id == failed["crawl_id"]
    expected = [model["id"] for model in corpus_models(trees_corpus)]
    _assert_lands_each_model_once(tmp_path, resumed.crawl_id, expected)
