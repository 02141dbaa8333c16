"""The local Hub server on the real corpora of shared/hubdata (skipped where that folder is absent)."""

from __future__ import annotations

import gzip
import itertools
from collections.abc import Iterable
from pathlib import Path

import httpx2
import orjson
import pytest
from huggingface_hub import HfApi
from huggingface_hub.errors import GatedRepoError
from huggingface_hub.utils import hf_raise_for_status

from hubgenome.core.settings import CRAWL_EXPAND
from hubgenome.local_hub.server import HubBehaviour, LocalHub

NUMERIC_SORTS = ("downloads", "likes", "trendingScore")
DATE_SORTS = ("createdAt", "lastModified")


def read_rows(paths: Iterable[Path]) -> list[dict]:
    rows: list[dict] = []
    for path in sorted(paths):
        with gzip.open(path, "rb") as handle:
            rows.extend(orjson.loads(line) for line in handle if line.strip())
    return rows


def walk(url: str, params: list[tuple[str, str]] | dict) -> list[dict]:
    objects: list[dict] = []
    with httpx2.Client(timeout=60) as client:
        response = client.get(f"{url}/api/models", params=params)
        while True:
            assert response.status_code == 200, response.text
            objects.extend(response.json())
            next_url = response.links.get("next", {}).get("url")
            if next_url is None:
                return objects
            assert next_url.startswith(url)
            response = client.get(next_url)


def assert_hub_order(objects: list[dict], sort: str) -> None:
    """Descending on (value, _id); models without the value last."""
    keys = [(model.get(sort) is not None, model.get(sort) or 0, model["_id"]) for model in objects]
    assert keys == sorted(keys, reverse=True)


@pytest.mark.parametrize("sort", [*DATE_SORTS, *NUMERIC_SORTS, "id"])
def test_trees_every_sort_lists_each_model_once(trees_corpus: Path, sort: str) -> None:
    expected = {row["id"] for row in read_rows(trees_corpus.glob("models-*.jsonl.gz"))}
    with LocalHub(trees_corpus) as hub:
        listed = walk(hub.url, [("sort", sort), ("limit", "300"), ("expand[]", sort if sort != "id" else "likes")])
    assert len(listed) == len(expected) == 1815
    assert {model["id"] for model in listed} == expected
    if sort != "id":
        assert_hub_order(listed, sort)
    else:
        assert [model["id"] for model in listed] == sorted(expected, reverse=True)


def test_trees_hfapi_reads_every_model_with_the_crawl_expand(trees_corpus: Path) -> None:
    rows = {row["id"]: row for row in read_rows(trees_corpus.glob("models-*.jsonl.gz"))}
    with LocalHub(trees_corpus) as hub:
        models = list(HfApi(endpoint=hub.url).list_models(sort="lastModified", expand=list(CRAWL_EXPAND)))
    assert len(models) == len({m.id for m in models}) == len(rows)
    sample = next(m for m in models if m.id == "deepseek-ai/DeepSeek-R1")
    assert sample.sha == rows[sample.id]["sha"]
    assert sample.card_data is not None and sample.siblings is None  # siblings were not asked for
    assert sum(m.gated not in (False, None) for m in models) == 52


@pytest.mark.parametrize(
    "parent",
    [
        "deepseek-ai/DeepSeek-R1",
        "meta-llama/Llama-2-7b-chat-hf",
        "meta-llama/Llama-2-7b",  # a prefix of the one above: tags match exactly, not by prefix
        "stabilityai/stable-diffusion-2-1",
    ],
)
def test_trees_typed_base_model_filter(trees_corpus: Path, parent: str) -> None:
    tag = f"base_model:finetune:{parent}"
    rows = read_rows(trees_corpus.glob("models-*.jsonl.gz"))
    expected = {row["id"] for row in rows if tag in row["tags"]}
    with LocalHub(trees_corpus) as hub:
        found = {m.id for m in HfApi(endpoint=hub.url).list_models(filter=tag, sort="downloads")}
        paged = walk(hub.url, {"filter": tag, "limit": 7, "sort": "createdAt"})
    assert expected, f"the corpus has no {tag} children"
    assert found == expected == {model["id"] for model in paged}
    assert len(paged) == len(expected)


def test_trees_cards_byte_identical_and_gated_statuses(trees_corpus: Path) -> None:
    cards = {row["id"]: row["readme"] for row in read_rows(trees_corpus.glob("cards-*.jsonl.gz"))}
    gated = {row["id"] for row in read_rows(trees_corpus.glob("models-*.jsonl.gz")) if row["gated"]}
    statuses = {}
    with LocalHub(trees_corpus) as hub, httpx2.Client(base_url=hub.url) as client:
        for repo_id, readme in cards.items():
            answer = client.get(f"/{repo_id}/resolve/main/README.md")
            statuses[repo_id] = answer.status_code
            if repo_id in gated:
                with pytest.raises(GatedRepoError):
                    hf_raise_for_status(answer)
            else:
                assert answer.content == readme.encode("utf-8"), repo_id
    assert {repo_id for repo_id, status in statuses.items() if status == 401} == gated
    assert len(gated) == 52 and sum(status == 200 for status in statuses.values()) == len(cards) - 52
    with LocalHub(trees_corpus, HubBehaviour(serve_gated_cards=True)) as hub, httpx2.Client(base_url=hub.url) as client:
        for repo_id in sorted(gated):
            assert client.get(f"/{repo_id}/raw/main/README.md").content == cards[repo_id].encode()


def test_trees_model_info_is_the_corpus_object(trees_corpus: Path) -> None:
    rows = read_rows(trees_corpus.glob("models-*.jsonl.gz"))
    with LocalHub(trees_corpus) as hub, httpx2.Client(base_url=hub.url) as client:
        for row in rows[::100]:
            assert client.get(f"/api/models/{row['id']}").json() == row


@pytest.mark.parametrize("sort", [*DATE_SORTS, *NUMERIC_SORTS, "id", "_id"])
def test_cards_corpus_every_sort_lists_each_model_once(cards_corpus: Path, sort: str) -> None:
    expected = [row["id"] for row in read_rows(cards_corpus.glob("models-*.jsonl.gz"))]
    expand = sort if sort in CRAWL_EXPAND else "likes"
    with LocalHub(cards_corpus) as hub:
        listed = walk(hub.url, [("sort", sort), ("expand[]", expand)])
    ids = [model["id"] for model in listed]
    assert len(ids) == len(set(ids)) == len(expected) == 16590
    assert set(ids) == set(expected)
    if sort in (*DATE_SORTS, *NUMERIC_SORTS):
        assert_hub_order(listed, sort)
    if sort == "createdAt":  # the 2022 crawl has no createdAt: the order falls back to _id
        assert [model["_id"] for model in listed] == sorted((model["_id"] for model in listed), reverse=True)


def test_cards_corpus_cards_byte_identical_including_legacy_ids(cards_corpus: Path) -> None:
    cards = {row["id"]: row["readme"] for row in read_rows(cards_corpus.glob("cards-*.jsonl.gz"))}
    legacy = [repo_id for repo_id in cards if "/" not in repo_id]
    sample = legacy + list(itertools.islice(cards, 0, None, 16))
    with LocalHub(cards_corpus) as hub, httpx2.Client(base_url=hub.url) as client:
        for repo_id in sample:
            answer = client.get(f"/{repo_id}/resolve/main/README.md")
            assert answer.status_code == 200, repo_id
            assert answer.content == cards[repo_id].encode("utf-8"), repo_id
        info = HfApi(endpoint=hub.url).model_info(legacy[0])
    assert len(legacy) == 50
    assert info.id == legacy[0] and info.sha is not None


def test_hub_slice_default_listing_is_the_corpus_verbatim(hub_corpus: Path, tmp_path: Path) -> None:
    """A 5,000-model slice of hub-2024-07: default fields are exactly the Hub's listing objects."""
    folder = tmp_path / "slice"
    folder.mkdir()
    with gzip.open(sorted(hub_corpus.glob("models-*.jsonl.gz"))[0], "rb") as handle:
        lines = list(itertools.islice(handle, 5000))
    with gzip.open(folder / "models-00.jsonl.gz", "wb") as handle:
        handle.writelines(lines)
    rows = {row["id"]: row for row in map(orjson.loads, lines)}
    with LocalHub(folder) as hub:
        listed = walk(hub.url, {"sort": "downloads"})
        by_last_modified = walk(hub.url, {"sort": "lastModified"})
    assert {model["id"]: model for model in listed} == rows
    assert_hub_order(listed, "downloads")
    # no lastModified in this corpus: the order is _id descending (creation order), not createdAt
    assert [m["_id"] for m in by_last_modified] == sorted((m["_id"] for m in by_last_modified), reverse=True)


@pytest.mark.slow
def test_whole_hub_pages_through_760000_models(hub_corpus: Path) -> None:
    expected = 760_000
    with LocalHub(hub_corpus) as hub:
        for sort in ("createdAt", "downloads"):
            listed = walk(hub.url, [("sort", sort), *(("expand[]", prop) for prop in CRAWL_EXPAND)])
            assert len(listed) == len({model["id"] for model in listed}) == expected
            assert_hub_order(listed, sort)
            assert all("modelId" not in model for model in listed[:1000])
        details_id = next(repo_id for repo_id in hub.corpus.ids if repo_id in hub.corpus.details)
        info = HfApi(endpoint=hub.url).model_info(details_id)
        stats = hub.stats()
    assert info.sha is not None and info.siblings is not None  # the details answer, not the listing object
    assert stats["listing_pages"] == 2 * 760
