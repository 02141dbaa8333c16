"""The local Hub server against tiny corpora written in code: listing, pagination, cards, limits, faults."""

from __future__ import annotations

import gzip
import subprocess
import sys
import time
from collections.abc import Iterable
from datetime import datetime
from pathlib import Path

import httpx2
import orjson
import pytest
from huggingface_hub import HfApi
from huggingface_hub.errors import (
    BadRequestError,
    DisabledRepoError,
    EntryNotFoundError,
    GatedRepoError,
    HfHubHTTPError,
    RemoteEntryNotFoundError,
    RepositoryNotFoundError,
    RevisionNotFoundError,
)
from huggingface_hub.utils import hf_raise_for_status, parse_ratelimit_headers

from hubgenome.core.errors import ConfigurationError, CorpusFormatError
from hubgenome.local_hub.server import (
    DEFAULT_LISTING_FIELDS,
    UNLIMITED_QUOTA,
    FaultSpec,
    HubBehaviour,
    LocalHub,
    load_corpus,
)
from tests.support.corpus_files import write_corpus, write_jsonl_gz
from tests.support.hub_server import ALL_MODELS, CARD_TEXT, TINY_MODELS, make_model, raised_by, walk

REPO_ROOT = Path(__file__).resolve().parents[2]
SORT_KEYS = ("createdAt", "lastModified", "downloads", "likes", "trendingScore", "id", "_id")

# --- the tiny corpus (written in code: tests.support.hub_server) ---------------------------------


@pytest.fixture
def tiny_corpus(tmp_path: Path) -> Path:
    cards = {model["id"]: f"{CARD_TEXT}{model['id']}\n" for model in ALL_MODELS if model["id"] != "zeta/model-001"}
    details = [
        {**make_model(5), "safetensors": {"parameters": {"F16": 123}, "total": 123}, "config": {"model_type": "gpt2"}}
    ]
    return write_corpus(tmp_path / "corpus", ALL_MODELS, cards, details, files=2)


@pytest.fixture
def hub(tiny_corpus: Path) -> Iterable[LocalHub]:
    with LocalHub(tiny_corpus) as running:
        yield running


def expected_order(models: list[dict], key: str) -> list[str]:
    """Hub order: descending on (value, _id), models without the value last."""
    field = "id" if key == "id" else key

    def sort_key(model: dict) -> tuple:
        value = model.get(field)
        return (value is not None, value if value is not None else 0, model["_id"])

    return [model["id"] for model in sorted(models, key=sort_key, reverse=True)]


# --- loading -------------------------------------------------------------------------------------


def test_missing_folder_or_models_files_say_what_layout_is_expected(tmp_path: Path) -> None:
    with pytest.raises(CorpusFormatError, match=r"does not exist.*models-NN\.jsonl\.gz"):
        LocalHub(tmp_path / "nowhere")
    (tmp_path / "empty").mkdir()
    with pytest.raises(CorpusFormatError, match=r"no models-\*\.jsonl\.gz"):
        load_corpus(tmp_path / "empty")


def test_malformed_line_names_file_and_line(tmp_path: Path) -> None:
    folder = tmp_path / "bad"
    folder.mkdir()
    with gzip.open(folder / "models-00.jsonl.gz", "wb") as handle:
        handle.write(orjson.dumps(make_model(1)) + b"\n\n" + b'{"id": "x/y", oops}\n')
    with pytest.raises(CorpusFormatError, match=r"models-00\.jsonl\.gz line 3: malformed JSON"):
        load_corpus(folder)


def test_object_without_id_and_shared_object_ids_are_rejected(tmp_path: Path) -> None:
    write_corpus(tmp_path / "a", [{"likes": 1}])
    with pytest.raises(CorpusFormatError, match=r"line 1.*no string 'id'"):
        load_corpus(tmp_path / "a")
    write_corpus(tmp_path / "b", [make_model(1), make_model(2, _id=make_model(1)["_id"])])
    with pytest.raises(CorpusFormatError, match="share the _id"):
        load_corpus(tmp_path / "b")


def test_models_without_object_id_get_a_stable_synthetic_one(tmp_path: Path) -> None:
    models = [{key: value for key, value in make_model(n).items() if key != "_id"} for n in range(5)]
    models[0].pop("createdAt")
    write_corpus(tmp_path / "c", models)
    with LocalHub(tmp_path / "c") as first:
        listed, _ = walk(first.url, {"sort": "likes", "full": "true"})
    again = load_corpus(tmp_path / "c")
    object_ids = {model["id"]: model["_id"] for model in listed}
    assert len(set(object_ids.values())) == 5
    assert all(len(oid) == 24 and int(oid, 16) >= 0 for oid in object_ids.values())
    assert object_ids == {again.ids[i]: again.object_ids[i].decode() for i in range(5)}
    created = datetime.fromisoformat(models[3]["createdAt"]).timestamp()
    assert object_ids["acme/model-003"].startswith(f"{int(created):08x}")  # ObjectId-like: creation time first


def test_a_later_line_for_the_same_id_replaces_the_earlier_one(tmp_path: Path) -> None:
    write_corpus(tmp_path / "d", [make_model(1), make_model(2)])
    write_jsonl_gz(tmp_path / "d" / "models-01.jsonl.gz", [make_model(1, likes=999)])
    corpus = load_corpus(tmp_path / "d")
    assert len(corpus) == 2
    assert corpus.model(corpus.lookup("zeta/model-001"))["likes"] == 999


# --- listing -------------------------------------------------------------------------------------


@pytest.mark.parametrize("sort", SORT_KEYS)
def test_pagination_returns_every_model_once_in_hub_order(hub: LocalHub, sort: str) -> None:
    listed, responses = walk(hub.url, {"sort": sort, "limit": "4"})
    assert [model["id"] for model in listed] == expected_order(ALL_MODELS, sort)
    assert len(responses) == 8  # 29 models, 4 a page
    assert "link" not in responses[-1].headers


def test_default_sort_is_object_id_descending_and_hfapi_reads_every_model(hub: LocalHub) -> None:
    models = list(HfApi(endpoint=hub.url).list_models())
    assert [m.id for m in models] == [m["id"] for m in walk(hub.url, {"sort": "_id"})[0]]
    assert len(models) == len(hub.corpus)


def test_link_points_back_at_the_server_and_keeps_the_query(hub: LocalHub) -> None:
    params = [
        ("sort", "likes"),
        ("limit", "2"),
        ("expand[]", "likes"),
        ("expand[]", "tags"),
        ("filter", "transformers"),
    ]
    params.append(("filter", "license:mit"))
    _, responses = walk(hub.url, params)
    next_url = responses[0].links["next"]["url"]
    assert next_url.startswith(f"{hub.url}/api/models?")
    query = httpx2.URL(next_url).params
    assert query.get_list("expand[]") == ["likes", "tags"]
    assert query.get_list("filter") == ["transformers", "license:mit"]
    assert query["cursor"]


def test_cursor_encodes_a_position_not_an_offset(tiny_corpus: Path) -> None:
    """Models added before and after the cursor between two pages: nothing skipped, nothing twice."""
    with LocalHub(tiny_corpus) as hub, httpx2.Client() as client:
        first = client.get(f"{hub.url}/api/models", params={"sort": "downloads", "limit": "10"})
        seen = [model["id"] for model in first.json()]
        boundary = hub.corpus.model(hub.corpus.lookup(seen[-1]))["downloads"]
        removed_later = expected_order(ALL_MODELS, "downloads")[12]
        models = [model for model in ALL_MODELS if model["id"] != removed_later]
        models += [
            make_model(200, id="new/above-cursor", downloads=10**9),
            make_model(201, id="new/below-cursor", downloads=boundary - 1),
            make_model(202, id="new/tied-below", downloads=boundary, _id="000000000000000000000001"),
        ]
        write_corpus(tiny_corpus, models)
        reloaded = client.post(f"{hub.url}/_hubgenome/reload").json()
        assert reloaded["models"] == len(models)
        response = client.get(first.links["next"]["url"])
        rest = []
        while True:
            rest += [model["id"] for model in response.json()]
            if "next" not in response.links:
                break
            response = client.get(response.links["next"]["url"])
    assert not set(seen) & set(rest)
    assert "new/above-cursor" not in rest
    assert {"new/below-cursor", "new/tied-below"} <= set(rest)
    assert removed_later not in rest
    assert seen + rest == [i for i in expected_order(models, "downloads") if i != "new/above-cursor"]


def test_bad_cursors_and_parameters_are_400(hub: LocalHub) -> None:
    with httpx2.Client(base_url=hub.url) as client:
        cursor = httpx2.URL(client.get("/api/models", params={"sort": "likes", "limit": 2}).links["next"]["url"])
        token = cursor.params["cursor"]
        answers = [
            client.get("/api/models", params={"cursor": "not-a-cursor"}),
            client.get("/api/models", params={"sort": "downloads", "cursor": token}),
            client.get("/api/models", params={"sort": "stars"}),
            client.get("/api/models", params={"limit": "0"}),
            client.get("/api/models", params={"limit": "many"}),
        ]
        capped = client.get("/api/models", params={"limit": "5000"})
    for answer in answers:
        assert answer.status_code == 400
        assert "error" in answer.json()
        assert raised_by(answer) is BadRequestError
    assert "sort='likes'" in answers[1].json()["error"]
    assert len(capped.json()) == len(ALL_MODELS)  # the page-size cap is 1000, not an error


def test_expand_returns_only_the_requested_properties_plus_ids(hub: LocalHub) -> None:
    listed, _ = walk(hub.url, [("expand[]", "downloads"), ("expand[]", "gated"), ("expand", "cardData")])
    for model in listed:
        assert set(model) <= {"_id", "id", "downloads", "gated", "cardData"}
        assert {"_id", "id", "gated", "cardData"} <= set(model)
    assert list(listed[0])[:2] == ["_id", "id"]
    assert sum("downloads" not in model for model in listed) == 4  # the Hub omits what a model lacks


def test_unknown_expand_property_is_a_400_like_the_hub(hub: LocalHub) -> None:
    for path in ("/api/models", "/api/models/acme/model-000"):
        answer = httpx2.get(f"{hub.url}{path}", params=[("expand[]", "likes"), ("expand[]", "stars")])
        assert answer.status_code == 400
        assert '"expand[1]" must be one of' in answer.json()["error"]
        assert raised_by(answer) is BadRequestError
    with pytest.raises(BadRequestError):
        list(HfApi(endpoint=hub.url).list_models(expand=["nope"]))  # type: ignore[list-item]


def test_default_listing_fields_and_full(hub: LocalHub) -> None:
    default, _ = walk(hub.url)
    assert {key for model in default for key in model} == DEFAULT_LISTING_FIELDS
    full, _ = walk(hub.url, {"full": "true"})
    assert {model["id"]: model for model in full}["acme/model-000"] == {"_id": TINY_MODELS[0]["_id"], **TINY_MODELS[0]}
    with_card_data, _ = walk(hub.url, {"cardData": "true"})
    assert all("cardData" in model and "siblings" not in model for model in with_card_data)


def test_search_author_and_repeated_filters(hub: LocalHub) -> None:
    api = HfApi(endpoint=hub.url)
    assert {m.id for m in api.list_models(search="MODEL-01")} == {f"{m['id']}" for m in TINY_MODELS[10:20]}
    assert {m.id for m in api.list_models(author="mixed-case")} == {m["id"] for m in TINY_MODELS[2::3]}
    both = {m.id for m in api.list_models(filter=["license:mit", "base_model:finetune:acme/model-003"])}
    assert both == {"zeta/model-004"}
    typed = {m.id for m in api.list_models(filter="base_model:finetune:acme/model-007", sort="likes")}
    assert typed == {"Mixed-Case/model-008"}
    assert list(api.list_models(filter="no-such-tag")) == []
    paged, _ = walk(hub.url, {"filter": "license:apache-2.0", "limit": 3, "sort": "createdAt"})
    odd = [m for m in ALL_MODELS if "license:apache-2.0" in m["tags"]]
    assert [m["id"] for m in paged] == expected_order(odd, "createdAt")


# --- model info ----------------------------------------------------------------------------------


def test_model_info_serves_details_else_listing_object(hub: LocalHub) -> None:
    api = HfApi(endpoint=hub.url)
    detailed = api.model_info(TINY_MODELS[5]["id"])
    assert detailed.safetensors is not None and detailed.safetensors.total == 123
    assert detailed.config == {"model_type": "gpt2"}
    plain = httpx2.get(f"{hub.url}/api/models/acme/model-000").json()
    assert plain == {"_id": TINY_MODELS[0]["_id"], **TINY_MODELS[0]}
    assert api.model_info("gpt2").id == "gpt2"
    assert api.model_info("MIXED-CASE/Model-002").id == "Mixed-Case/model-002"  # ids are case-insensitive
    assert api.model_info("acme/model-000", revision=TINY_MODELS[0]["sha"]).sha == TINY_MODELS[0]["sha"]
    narrowed = httpx2.get(f"{hub.url}/api/models/{TINY_MODELS[5]['id']}", params={"expand[]": "safetensors"})
    assert narrowed.json() == {
        "_id": TINY_MODELS[5]["_id"],
        "id": TINY_MODELS[5]["id"],
        "safetensors": {"parameters": {"F16": 123}, "total": 123},
    }


def test_model_info_errors_map_to_the_clients_exceptions(hub: LocalHub) -> None:
    missing = httpx2.get(f"{hub.url}/api/models/acme/nope")
    assert missing.status_code == 404
    assert missing.headers["x-error-code"] == "RepoNotFound"
    assert "error" in missing.json()
    with pytest.raises(RepositoryNotFoundError):
        HfApi(endpoint=hub.url).model_info("acme/nope")
    assert raised_by(httpx2.get(f"{hub.url}/api/models/a/b/c")) is RepositoryNotFoundError
    with pytest.raises(RevisionNotFoundError):
        HfApi(endpoint=hub.url).model_info("acme/model-000", revision="v9")


# --- cards ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("route", ["resolve", "raw"])
def test_card_is_byte_identical_with_commit_and_etag(hub: LocalHub, route: str) -> None:
    answer = httpx2.get(f"{hub.url}/acme/model-000/{route}/main/README.md")
    assert answer.status_code == 200
    assert answer.content == f"{CARD_TEXT}acme/model-000\n".encode()
    assert answer.headers["content-type"] == "text/plain; charset=utf-8"
    assert answer.headers["x-repo-commit"] == TINY_MODELS[0]["sha"]
    assert answer.headers["etag"].startswith('"') and len(answer.headers["etag"]) == 42
    legacy = httpx2.get(f"{hub.url}/gpt2/{route}/main/README.md")
    assert legacy.text.endswith("gpt2\n")


def test_head_and_hf_hub_download_work_on_the_resolver(hub: LocalHub, tmp_path: Path) -> None:
    from huggingface_hub import hf_hub_download

    head = httpx2.head(f"{hub.url}/acme/model-000/resolve/main/README.md")
    assert head.status_code == 200 and head.content == b""
    assert int(head.headers["content-length"]) == len(f"{CARD_TEXT}acme/model-000\n".encode())
    path = hf_hub_download("acme/model-000", "README.md", endpoint=hub.url, cache_dir=tmp_path / "cache")
    assert Path(path).read_bytes() == f"{CARD_TEXT}acme/model-000\n".encode()


def test_card_statuses_map_to_the_clients_exceptions(hub: LocalHub) -> None:
    def get(repo: str, revision: str = "main", filename: str = "README.md") -> httpx2.Response:
        return httpx2.get(f"{hub.url}/{repo}/resolve/{revision}/{filename}")

    no_card = get("zeta/model-001")
    assert (no_card.status_code, no_card.headers["x-error-code"]) == (404, "EntryNotFound")
    assert raised_by(no_card) is RemoteEntryNotFoundError
    assert issubclass(RemoteEntryNotFoundError, EntryNotFoundError)
    assert raised_by(get("acme/model-000", filename="config.json")) is RemoteEntryNotFoundError
    unknown = get("acme/unknown")
    assert (unknown.status_code, unknown.headers["x-error-code"]) == (404, "RepoNotFound")
    assert raised_by(unknown) is RepositoryNotFoundError
    for gated in ("acme/gated-auto", "acme/gated-manual"):
        answer = get(gated)
        assert (answer.status_code, answer.headers["x-error-code"]) == (401, "GatedRepo")
        assert raised_by(answer) is GatedRepoError
    assert raised_by(get("acme/model-000", revision="nope")) is RevisionNotFoundError
    disabled = get("acme/disabled")
    assert disabled.status_code == 403 and raised_by(disabled) is DisabledRepoError


def test_gated_cards_can_answer_403_or_be_served(tiny_corpus: Path) -> None:
    with LocalHub(tiny_corpus, HubBehaviour(gated_status=403)) as hub:
        answer = httpx2.get(f"{hub.url}/acme/gated-auto/resolve/main/README.md")
    assert answer.status_code == 403 and raised_by(answer) is GatedRepoError
    with LocalHub(tiny_corpus, HubBehaviour(serve_gated_cards=True)) as hub:
        answer = httpx2.get(f"{hub.url}/acme/gated-manual/resolve/main/README.md")
    assert answer.status_code == 200 and answer.text.endswith("acme/gated-manual\n")
    with pytest.raises(ValueError, match="401 or 403"):
        LocalHub(tiny_corpus, HubBehaviour(gated_status=404))


# --- rate limits ---------------------------------------------------------------------------------


def test_every_answer_carries_ratelimit_headers_the_client_parses(tiny_corpus: Path) -> None:
    with (
        LocalHub(tiny_corpus, HubBehaviour(api_quota=10, resolver_quota=5, window_seconds=60)) as hub,
        httpx2.Client() as client,
    ):
        answers = [
            client.get(f"{hub.url}/api/models"),
            client.get(f"{hub.url}/api/models/acme/nope"),
            client.get(f"{hub.url}/api/models", params={"sort": "bad"}),
            client.get(f"{hub.url}/acme/model-000/resolve/main/README.md"),
            client.get(f"{hub.url}/acme/model-001/resolve/main/README.md"),
        ]
        control = client.get(f"{hub.url}/_hubgenome/stats")
    infos = [parse_ratelimit_headers(answer.headers) for answer in answers]
    assert [(i.resource_type, i.remaining, i.limit, i.window_seconds) for i in infos] == [
        ("api", 9, 10, 60),
        ("api", 8, 10, 60),
        ("api", 7, 10, 60),
        ("resolvers", 4, 5, 60),
        ("resolvers", 3, 5, 60),
    ]
    assert all(0 < info.reset_in_seconds <= 60 for info in infos)
    assert "ratelimit" not in control.headers
    assert control.json()["requests"] == 5


def test_unlimited_buckets_still_announce_a_large_quota(hub: LocalHub) -> None:
    info = parse_ratelimit_headers(httpx2.get(f"{hub.url}/api/models").headers)
    assert info is not None and info.limit == UNLIMITED_QUOTA and info.remaining == UNLIMITED_QUOTA - 1


def test_over_quota_is_429_per_bucket_and_client_until_the_window_resets(tiny_corpus: Path) -> None:
    with (
        LocalHub(tiny_corpus, HubBehaviour(api_quota=3, resolver_quota=1, window_seconds=1.0)) as hub,
        httpx2.Client() as client,
    ):
        statuses = [client.get(f"{hub.url}/api/models").status_code for _ in range(5)]
        if statuses != [200, 200, 200, 429, 429]:  # the window turned mid-burst: try once more
            time.sleep(0.2)
            statuses = [client.get(f"{hub.url}/api/models").status_code for _ in range(5)]
        throttled = client.get(f"{hub.url}/api/models")
        other_client = client.get(f"{hub.url}/api/models", headers={"Authorization": "Bearer someone-else"})
        card = client.get(f"{hub.url}/acme/model-000/resolve/main/README.md")
        info = parse_ratelimit_headers(throttled.headers)
        time.sleep(info.reset_in_seconds + 0.05)
        after_reset = client.get(f"{hub.url}/api/models")
        stats = hub.stats()
    assert statuses[:3] == [200, 200, 200] and statuses[3:] == [429, 429]
    assert throttled.status_code == 429 and int(throttled.headers["retry-after"]) >= 1
    assert info.remaining == 0 and info.resource_type == "api"
    with pytest.raises(HfHubHTTPError, match="rate limit"):
        hf_raise_for_status(throttled)
    assert other_client.status_code == 200  # a token has its own bucket
    assert card.status_code == 200  # and so has the resolver
    assert after_reset.status_code == 200
    assert stats["over_quota"] == stats["throttled_429"] >= 3
    assert stats["by_bucket"]["resolvers"] == 1


# --- faults --------------------------------------------------------------------------------------


def test_fault_spec_grammar_round_trips() -> None:
    spec = FaultSpec.parse(" status=0.1:503, 0.05:500 ; slow=0.02:1.5;drop=0.01;truncate=0.02;first_page_429=1;seed=7")
    assert spec.status == ((0.1, 503), (0.05, 500))
    assert spec.slow == (0.02, 1.5)
    assert (spec.drop, spec.truncate, spec.first_page_429, spec.seed) == (0.01, 0.02, 1, 7)
    assert FaultSpec.parse(str(spec)) == spec
    assert FaultSpec.parse("status=1:503;on=resolvers").on == frozenset({"resolvers"})
    assert not FaultSpec.parse(None).active and not FaultSpec.parse("none").active and not FaultSpec.parse("").active


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ("explode=0.1", "unknown fault kind"),
        ("status=0.1", "share:code"),
        ("status=0.5:200", "not an HTTP error"),
        ("drop=1.5", "between 0 and 1"),
        ("drop=0.6;status=0.6:503", "add up to 1.2"),
        ("seed=7;seed=8", "given twice"),
        ("slow=0.1", "share:seconds"),
        ("on=everything", "subset"),
        ("drop", "name=value"),
    ],
)
def test_bad_fault_specs_say_what_is_wrong(spec: str, message: str) -> None:
    with pytest.raises(ConfigurationError, match=message):
        FaultSpec.parse(spec)


def test_fault_decisions_are_seeded_and_reproducible() -> None:
    spec = FaultSpec.parse("status=0.2:503,0.1:500;drop=0.1;truncate=0.1;slow=0.1:0.5;seed=3")
    first = [spec.decide(n) for n in range(5000)]
    assert first == [FaultSpec.parse(str(spec)).decide(n) for n in range(5000)]
    other_seed = FaultSpec.parse(str(spec).replace("seed=3", "seed=4"))
    assert first != [other_seed.decide(n) for n in range(5000)]
    shares = {kind: sum(d.kind == kind for d in first) / 5000 for kind in ("drop", "status", "truncate")}
    assert shares == pytest.approx({"drop": 0.1, "status": 0.3, "truncate": 0.1}, abs=0.03)
    assert sum(d.delay == 0.5 for d in first) / 5000 == pytest.approx(0.1, abs=0.03)


def _outcomes(url: str, requests: int) -> list[str]:
    outcomes = []
    with httpx2.Client(timeout=10) as client:
        for n in range(requests):
            path = "/api/models" if n % 2 else "/acme/model-000/resolve/main/README.md"
            try:
                answer = client.get(url + path)
            except httpx2.TransportError as exc:
                outcomes.append(type(exc).__name__)
                continue
            if answer.status_code == 200 and path == "/api/models":
                try:
                    answer.json()
                except ValueError:
                    outcomes.append("truncated")
                    continue
            outcomes.append(str(answer.status_code))
    return outcomes


def test_same_seed_same_faults_seen_by_the_client(tiny_corpus: Path) -> None:
    spec = "status=0.2:503,0.1:500;drop=0.15;truncate=0.2;seed=11"
    runs = []
    for _ in range(2):
        with LocalHub(tiny_corpus, HubBehaviour(faults=spec)) as hub:
            runs.append(_outcomes(hub.url, 60))
            stats = hub.stats()
    assert runs[0] == runs[1]
    assert {"200", "503", "500", "RemoteProtocolError", "truncated"} <= set(runs[0])
    assert stats["faults_injected"]["drop"] == runs[0].count("RemoteProtocolError")
    assert stats["faults_injected"]["truncate"] == runs[0].count("truncated")
    assert stats["faults_injected"]["status_503"] == runs[0].count("503")
    with LocalHub(tiny_corpus, HubBehaviour(faults=spec.replace("seed=11", "seed=12"))) as hub:
        assert _outcomes(hub.url, 60) != runs[0]


def test_each_fault_kind_as_the_client_sees_it(tiny_corpus: Path) -> None:
    with LocalHub(tiny_corpus, HubBehaviour(faults="drop=1")) as hub, pytest.raises(httpx2.RemoteProtocolError):
        httpx2.get(f"{hub.url}/api/models")
    with LocalHub(tiny_corpus, HubBehaviour(faults="truncate=1")) as hub:
        cut = httpx2.get(f"{hub.url}/api/models", params={"full": "true"})
        card = httpx2.get(f"{hub.url}/acme/model-000/resolve/main/README.md")
        info = httpx2.get(f"{hub.url}/api/models/acme/model-000")
    assert cut.status_code == 200 and int(cut.headers["content-length"]) == len(cut.content)
    with pytest.raises(ValueError):
        cut.json()
    assert card.content.endswith(b"acme/model-000\n")  # cards are never cut (a client could not tell)
    with pytest.raises(ValueError):
        info.json()
    with LocalHub(tiny_corpus, HubBehaviour(faults="status=1:503")) as hub:
        unavailable = httpx2.get(f"{hub.url}/api/models")
    assert unavailable.status_code == 503 and parse_ratelimit_headers(unavailable.headers) is not None
    with LocalHub(tiny_corpus, HubBehaviour(faults="slow=1:0.4")) as hub:
        started = time.perf_counter()
        slow = httpx2.get(f"{hub.url}/api/models")
        assert time.perf_counter() - started >= 0.4 and slow.status_code == 200
        assert hub.stats()["faults_injected"] == {"slow": 1}


def test_first_page_429_then_normal_and_control_routes_never_faulted(tiny_corpus: Path) -> None:
    with (
        LocalHub(tiny_corpus, HubBehaviour(faults="first_page_429=1;drop=1;on=resolvers")) as hub,
        httpx2.Client() as client,
    ):
        info = client.get(f"{hub.url}/api/models/acme/model-000")
        first = client.get(f"{hub.url}/api/models")
        second = client.get(f"{hub.url}/api/models")
        with pytest.raises(httpx2.RemoteProtocolError):
            client.get(f"{hub.url}/acme/model-000/resolve/main/README.md")
        stats = client.get(f"{hub.url}/_hubgenome/stats").json()
        reload = client.post(f"{hub.url}/_hubgenome/reload")
    assert info.status_code == 200  # only listing requests get the first-page 429
    assert first.status_code == 429 and first.headers["retry-after"] == "1"
    assert second.status_code == 200
    assert stats["faults_injected"] == {"first_page_429": 1, "drop": 1}
    assert stats["throttled_429"] == 1 and stats["over_quota"] == 0
    assert reload.status_code == 200


# --- reload and the process --------------------------------------------------------------------


def test_reload_picks_up_added_and_removed_models(tiny_corpus: Path) -> None:
    with LocalHub(tiny_corpus) as hub:
        api = HfApi(endpoint=hub.url)
        before = {m.id for m in api.list_models()}
        write_corpus(tiny_corpus, [*TINY_MODELS[1:], make_model(300, id="new/model")], {"new/model": "hello"})
        assert {m.id for m in api.list_models()} == before  # nothing changes until a reload
        corpus = hub.reload()
        after = {m.id for m in api.list_models()}
        card = httpx2.get(f"{hub.url}/new/model/resolve/main/README.md").text
        with pytest.raises(RepositoryNotFoundError):
            api.model_info("acme/model-000")
        write_corpus(tiny_corpus, TINY_MODELS[:3])
        assert httpx2.post(f"{hub.url}/_hubgenome/reload").json()["models"] == 3
        final = {m.id for m in api.list_models()}
        (tiny_corpus / "models-00.jsonl.gz").write_bytes(b"garbage")
        failed = httpx2.post(f"{hub.url}/_hubgenome/reload")
        still = len(list(api.list_models()))
    assert len(corpus) == len(TINY_MODELS)
    assert after == {m["id"] for m in TINY_MODELS[1:]} | {"new/model"}
    assert card == "hello"
    assert final == {m["id"] for m in TINY_MODELS[:3]}
    assert failed.status_code == 422 and "still serving" in failed.json()["error"]
    assert still == 3


def test_url_before_start_says_how_to_start(tiny_corpus: Path) -> None:
    with pytest.raises(RuntimeError, match="context manager"):
        LocalHub(tiny_corpus).url  # noqa: B018


def test_stats_count_requests_by_bucket_and_reset(hub: LocalHub) -> None:
    httpx2.get(f"{hub.url}/api/models")
    httpx2.get(f"{hub.url}/acme/model-000/resolve/main/README.md")
    stats = hub.stats()
    assert stats["requests"] == 2
    assert stats["by_bucket"] == {"api": 1, "resolvers": 1}
    assert stats["listing_pages"] == 1 and stats["by_status"] == {"200": 2}
    assert (stats["throttled_429"], stats["over_quota"], stats["faults_injected"]) == (0, 0, {})
    remote = httpx2.get(f"{hub.url}/_hubgenome/stats").json()
    assert remote["corpus"]["models"] == len(hub.corpus) and remote["corpus"]["cards"] == len(hub.corpus.cards)
    httpx2.post(f"{hub.url}/_hubgenome/stats/reset")
    assert hub.stats()["requests"] == 0


def test_runs_as_a_process_and_prints_its_url(tiny_corpus: Path, tmp_path: Path) -> None:
    command = [sys.executable, "-m", "hubgenome.local_hub.server", "--corpus", str(tiny_corpus), "--port", "0"]
    server = subprocess.Popen(
        [*command, "--api-quota", "50", "--faults", "seed=1"],
        cwd=REPO_ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        url = server.stdout.readline().strip()  # type: ignore[union-attr]
        answer = httpx2.get(f"{url}/api/models")
    finally:
        server.terminate()
        server.wait(timeout=30)
    assert url.startswith("http://127.0.0.1:")
    assert answer.status_code == 200 and parse_ratelimit_headers(answer.headers).limit == 50
    bad = subprocess.run(
        [sys.executable, "-m", "hubgenome.local_hub.server", "--corpus", str(tmp_path / "nowhere")],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert bad.returncode == 2 and "does not exist" in bad.stderr
    bad_faults = subprocess.run(
        [*command, "--faults", "drop=2"], cwd=REPO_ROOT, capture_output=True, text=True, timeout=60
    )
    assert bad_faults.returncode == 2 and "between 0 and 1" in bad_faults.stderr
