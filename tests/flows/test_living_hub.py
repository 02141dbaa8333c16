"""The living local Hub: a simulated clock, events applied while serving, private repos, heavy pages.

Tiny corpora written in code; time moves only on the hub clock (no sleeps).
"""

from __future__ import annotations

import os
import random
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime
from pathlib import Path

import httpx2
import orjson
import pytest
from huggingface_hub import HfApi, hf_hub_download
from huggingface_hub.errors import GatedRepoError, RepositoryNotFoundError

from hubgenome.core.errors import ConfigurationError
from hubgenome.local_hub.server import (
    DEFAULT_RATES,
    EVENT_KINDS,
    HubBehaviour,
    HubClock,
    HubEvent,
    LivingCorpus,
    LocalHub,
    format_rates,
    generate_events,
    load_corpus,
    parse_rates,
    read_events,
    write_events,
)
from hubgenome.local_hub.server._corpus import ListingQuery
from tests.support.corpus_files import write_corpus
from tests.support.hub_server import ALL_MODELS, CARD_TEXT, TINY_MODELS, make_model, raised_by, walk

REPO_ROOT = Path(__file__).resolve().parents[2]
START = datetime(2025, 1, 1, tzinfo=UTC)
SORTS = ("createdAt", "lastModified", "downloads", "likes", "trendingScore", "id", "_id")


@pytest.fixture
def corpus(tmp_path: Path) -> Path:
    cards = {model["id"]: f"{CARD_TEXT}{model['id']}\n" for model in ALL_MODELS}
    details = [{**make_model(5), "safetensors": {"parameters": {"F16": 123}, "total": 123}}]
    return write_corpus(tmp_path / "corpus", ALL_MODELS, cards, details)


def at(minutes: float) -> datetime:
    return START + timedelta(minutes=minutes)


def ids_of(objects: list[dict]) -> list[str]:
    return [obj["id"] for obj in objects]


def first_page(url: str, **params: object) -> list[dict]:
    answer = httpx2.get(f"{url}/api/models", params={"limit": 1000, **params})
    assert answer.status_code == 200, answer.text
    return answer.json()


# --- the clock -----------------------------------------------------------------------------------


def test_clock_moves_only_forward_per_request_or_scaled_on_real_time() -> None:
    real = [100.0]
    clock = HubClock("2025-01-01T00:00:00Z", seconds_per_request=30, speed=60, monotonic=lambda: real[0])
    assert clock.now() == START
    assert clock.tick() == at(0.5)
    real[0] += 2  # two real seconds at 60x: two simulated minutes
    assert clock.now() == at(2.5)
    assert clock.advance(60) == at(3.5)
    assert clock.set(at(10)) == at(10)
    with pytest.raises(ValueError, match="never goes backwards"):
        clock.set(at(5))
    with pytest.raises(ValueError, match="never goes backwards"):
        clock.advance(-1)


def test_default_clock_starts_a_day_after_the_newest_date_and_dates_every_answer(corpus: Path) -> None:
    newest = max(m.get(key) or "" for m in ALL_MODELS for key in ("createdAt", "lastModified"))
    with LocalHub(corpus) as hub:
        expected = datetime.fromisoformat(newest) + timedelta(days=1)
        assert hub.clock.now() == expected
        answers = [
            httpx2.get(f"{hub.url}/api/models"),
            httpx2.get(f"{hub.url}/api/models/acme/nope"),
            httpx2.get(f"{hub.url}/acme/model-000/resolve/main/README.md"),
            httpx2.get(f"{hub.url}/_hubgenome/stats"),
        ]
        assert [parsedate_to_datetime(a.headers["date"]) for a in answers] == [expected] * 4
        assert all(len(a.headers.get_list("date")) == 1 for a in answers)  # uvicorn's own Date is off
        hub.clock.advance(3 * 3600)
        later = httpx2.get(f"{hub.url}/api/models")
        assert parsedate_to_datetime(later.headers["date"]) == expected + timedelta(hours=3)
        moved = httpx2.post(f"{hub.url}/_hubgenome/clock", json={"advance": 60}).json()
        assert moved["now"] == (expected + timedelta(hours=3, minutes=1)).strftime("%Y-%m-%dT%H:%M:%S.000Z")
        assert httpx2.post(f"{hub.url}/_hubgenome/clock", json={"set": "2020-01-01"}).status_code == 400


def test_seconds_per_request_makes_events_happen_during_a_crawl(corpus: Path) -> None:
    with LocalHub(corpus, HubBehaviour(clock_start=START, seconds_per_request=60)) as hub:
        hub.schedule([HubEvent(at(2), "create", "acme/born-mid-crawl")])
        api = HfApi(endpoint=hub.url)
        with pytest.raises(RepositoryNotFoundError):
            api.model_info("acme/born-mid-crawl")  # request 1: 00:01, not yet
        assert api.model_info("acme/born-mid-crawl").created_at == at(2)  # request 2: 00:02, applied first
        assert [event.model_id for event in hub.event_log] == ["acme/born-mid-crawl"]


# --- events and keyset walks ----------------------------------------------------------------------


def test_events_between_pages_do_not_break_a_createdat_walk(corpus: Path) -> None:
    order = [m["id"] for m in sorted(ALL_MODELS, key=lambda m: (m["createdAt"], m["_id"]), reverse=True)]
    later_victim, later_committed = order[20], order[15]
    with LocalHub(corpus, HubBehaviour(clock_start=START)) as hub, httpx2.Client() as client:
        answer = client.get(f"{hub.url}/api/models", params={"sort": "createdAt", "limit": 5})
        seen = ids_of(answer.json())
        hub.schedule(
            [
                HubEvent(at(1), "create", "acme/brand-new"),
                HubEvent(at(2), "delete", later_victim),
                HubEvent(at(3), "commit", later_committed),
                HubEvent(at(4), "counters", order[12], downloads=10_000),
            ]
        )
        hub.clock.advance(300)  # applied before the next page is answered
        while "next" in answer.links:
            answer = client.get(answer.links["next"]["url"])
            assert answer.status_code == 200
            seen += ids_of(answer.json())
        fresh = ids_of(first_page(hub.url, sort="createdAt"))
    assert len(seen) == len(set(seen))
    assert "acme/brand-new" not in seen  # newer than the cursor: it sorts on pages already read
    assert later_victim not in seen
    assert later_committed in seen  # a commit does not move createdAt
    assert seen == [repo_id for repo_id in order if repo_id != later_victim]
    assert fresh[0] == "acme/brand-new" and later_victim not in fresh


def test_a_committed_model_moves_to_the_front_of_a_lastmodified_walk(corpus: Path) -> None:
    with LocalHub(corpus, HubBehaviour(clock_start=START)) as hub, httpx2.Client() as client:
        answer = client.get(f"{hub.url}/api/models", params={"sort": "lastModified", "limit": 4})
        seen = ids_of(answer.json())
        everything = ids_of(first_page(hub.url, sort="lastModified"))
        moved = everything[-2]
        hub.schedule([HubEvent(at(1), "commit", moved, sha="c" * 40)])
        hub.clock.advance(60)
        while "next" in answer.links:
            answer = client.get(answer.links["next"]["url"])
            seen += ids_of(answer.json())
        now_first = first_page(hub.url, sort="lastModified", full="true")[0]
    assert len(seen) == len(set(seen)) == len(everything) - 1
    assert seen == [repo_id for repo_id in everything if repo_id != moved]  # no skip, no duplicate
    assert (now_first["id"], now_first["sha"], now_first["lastModified"]) == (
        moved,
        "c" * 40,
        "2025-01-01T00:01:00.000Z",
    )


def _brute_order(models: dict[str, dict], sort: str) -> list[str]:
    from hubgenome.local_hub.server._corpus import _number, _timestamp_ms

    def key(obj: dict) -> tuple:
        if sort == "_id":
            value: object = obj["_id"].encode()
        elif sort == "id":
            value = obj["id"].encode()
        elif sort in ("createdAt", "lastModified"):
            value = _timestamp_ms(obj.get(sort))
        else:
            value = _number(obj.get(sort))
        return (value, obj["_id"].encode())

    return [obj["id"] for obj in sorted(models.values(), key=key, reverse=True)]


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_overlay_pages_match_a_brute_force_sort_while_events_keep_landing(tmp_path: Path, seed: int) -> None:
    models = [make_model(number) for number in range(120)]
    base = load_corpus(write_corpus(tmp_path / "c", models))
    living = LivingCorpus(base)
    rates = (
        "create=2,commit=2,card_edit=1,delete=1,rename=1,transfer=1,launch=2,make_private=1,gate=1,disable=1,counters=3"
    )
    events = generate_events(base, START, START + timedelta(days=2), rates, seed=seed)
    assert {event.kind for event in events} >= {"create", "commit", "delete", "rename", "counters", "make_private"}
    rng = random.Random(seed)
    pending = list(events)
    for sort in SORTS:
        query = ListingQuery(sort=sort)
        walked: list[str] = []
        touched: set[str] = set()
        at_start = set(_brute_order(living.truth()[0], sort))
        cursor = None
        while True:
            page = living.page(query, 7, cursor)
            walked += [living.base.ids[p] if live is None else live.id for p, live in page.items]
            batch = rng.randrange(0, 25)
            for event in pending[:batch]:
                if living.apply(event):
                    touched.update({event.model_id, event.new_id} - {None})
            pending = pending[batch:]
            cursor = page.next_cursor
            if cursor is None:
                break
        assert len(walked) == len(set(walked)), sort
        untouched = (at_start - touched) & set(living.truth()[0])
        assert untouched <= set(walked), sort  # nobody left alone was skipped
        complete = []
        cursor = None
        while True:
            page = living.page(query, 11, cursor)
            complete += [living.base.ids[p] if live is None else live.id for p, live in page.items]
            if page.next_cursor is None:
                break
            cursor = page.next_cursor
        assert complete == _brute_order(living.truth()[0], sort), sort


def test_filters_search_and_author_see_the_merged_view(corpus: Path) -> None:
    with LocalHub(corpus, HubBehaviour(clock_start=START)) as hub:
        hub.schedule(
            [
                HubEvent(at(1), "create", "acme/special", tags=("license:mit", "special")),
                HubEvent(at(1), "commit", "zeta/model-001", tags=("special",)),
                HubEvent(at(1), "delete", "acme/model-003"),
            ]
        )
        hub.advance(60)
        api = HfApi(endpoint=hub.url)
        assert {m.id for m in api.list_models(filter="special")} == {"acme/special", "zeta/model-001"}
        mit = {m.id for m in api.list_models(filter="license:mit")}
        assert "acme/special" in mit and "acme/model-003" not in mit
        assert "acme/special" in {m.id for m in api.list_models(author="ACME")}
        assert {m.id for m in api.list_models(search="SPECIAL")} == {"acme/special"}
        assert "zeta/model-001" not in {m.id for m in api.list_models(filter="license:apache-2.0")}


def test_rename_answers_307_with_a_relative_location_that_clients_follow(corpus: Path, tmp_path: Path) -> None:
    with LocalHub(corpus, HubBehaviour(clock_start=START)) as hub:
        before = httpx2.get(f"{hub.url}/api/models/acme/model-000").json()
        hub.schedule(
            [
                HubEvent(at(1), "rename", "acme/model-000", new_id="acme/model-zero"),
                HubEvent(at(2), "transfer", "acme/model-zero", new_id="neworg/model-zero"),
            ]
        )
        hub.advance(120)
        info = httpx2.get(f"{hub.url}/api/models/ACME/model-000", follow_redirects=False)
        assert info.status_code == 307 and info.headers["location"] == "/api/models/neworg/model-zero"
        card = httpx2.get(f"{hub.url}/acme/model-000/resolve/main/README.md", follow_redirects=False)
        assert card.status_code == 307 and card.headers["location"] == "/neworg/model-zero/resolve/main/README.md"
        moved = HfApi(endpoint=hub.url).model_info("acme/model-000")
        assert (moved.id, moved.author) == ("neworg/model-zero", "neworg")
        assert (moved.sha, moved.last_modified) == (before["sha"], datetime.fromisoformat(before["lastModified"]))
        path = hf_hub_download("acme/model-000", "README.md", endpoint=hub.url, cache_dir=tmp_path / "cache")
        assert Path(path).read_bytes() == f"{CARD_TEXT}acme/model-000\n".encode()
        listed = {m["id"]: m for m in first_page(hub.url)}
        assert "acme/model-000" not in listed and listed["neworg/model-zero"]["_id"] == before["_id"]
        hub.schedule([HubEvent(at(3), "delete", "neworg/model-zero")])
        hub.advance(60)
        assert httpx2.get(f"{hub.url}/api/models/acme/model-000").status_code == 404


def test_launch_keeps_old_dates_and_flags_do_not_move_lastmodified(corpus: Path) -> None:
    tokens = {"hf_alice": "alice"}
    with LocalHub(corpus, HubBehaviour(clock_start=START, tokens=tokens)) as hub:
        hub.schedule(
            [
                HubEvent(at(1), "create", "alice/stealth", private=True),
                HubEvent(at(5), "commit", "alice/stealth", sha="d" * 40),
                HubEvent(at(60), "launch", "alice/stealth"),
                HubEvent(at(61), "gate", "acme/model-000", gated="manual"),
                HubEvent(at(62), "disable", "acme/model-006"),
                HubEvent(at(63), "counters", "acme/model-009", downloads=999, likes=77, trending_score=5),
            ]
        )
        hub.advance(24 * 3600)
        api = HfApi(endpoint=hub.url)
        launched = api.model_info("alice/stealth")
        assert (launched.created_at, launched.last_modified, launched.private) == (at(1), at(5), False)
        for repo_id in ("acme/model-000", "acme/model-006", "acme/model-009"):
            original = next(m for m in ALL_MODELS if m["id"] == repo_id)
            assert httpx2.get(f"{hub.url}/api/models/{repo_id}").json()["lastModified"] == original["lastModified"]
        assert raised_by(httpx2.get(f"{hub.url}/acme/model-000/resolve/main/README.md")) is GatedRepoError
        assert httpx2.get(f"{hub.url}/acme/model-006/resolve/main/README.md").status_code == 403
        top = first_page(hub.url, sort="downloads")[0]
        assert (top["id"], top["downloads"], top["likes"]) == ("acme/model-009", 999, 77)
        assert [event.kind for event in hub.event_log] == ["create", "commit", "launch", "gate", "disable", "counters"]


def test_card_edit_is_a_commit_with_new_text_sha_and_lastmodified(corpus: Path) -> None:
    with LocalHub(corpus, HubBehaviour(clock_start=START)) as hub:
        hub.schedule([HubEvent(at(1), "card_edit", "acme/model-000", card="# new card\n", sha="e" * 40)])
        hub.advance(60)
        card = httpx2.get(f"{hub.url}/acme/model-000/resolve/main/README.md")
        assert (card.text, card.headers["x-repo-commit"]) == ("# new card\n", "e" * 40)
        info = httpx2.get(f"{hub.url}/api/models/acme/model-000").json()
        assert (info["sha"], info["lastModified"]) == ("e" * 40, "2025-01-01T00:01:00.000Z")
        old_sha = TINY_MODELS[0]["sha"]
        assert httpx2.get(f"{hub.url}/acme/model-000/resolve/{old_sha}/README.md").status_code == 404
        hub.schedule([HubEvent(at(2), "card_edit", "acme/model-003")])  # a generated edit appends a line
        hub.advance(60)
        assert hub.truth().cards["acme/model-003"].startswith(f"{CARD_TEXT}acme/model-003")


def test_private_models_exist_only_for_their_owners_token(corpus: Path, tmp_path: Path) -> None:
    tokens = {"hf_alice": "alice", "hf_bob": "bob"}
    with LocalHub(corpus, HubBehaviour(clock_start=START, tokens=tokens)) as hub:
        hub.schedule(
            [
                HubEvent(at(1), "create", "alice/secret", private=True, card="secret card\n"),
                HubEvent(at(2), "make_private", "acme/model-001"),
            ]
        )
        hub.advance(60)
        alice, bob, anonymous = (HfApi(endpoint=hub.url, token=t) for t in ("hf_alice", "hf_bob", None))
        info = alice.model_info("alice/secret")
        assert info.private is True
        for api in (bob, anonymous):
            with pytest.raises(RepositoryNotFoundError):
                api.model_info("alice/secret")
            assert "alice/secret" not in {m.id for m in api.list_models()}
        listed = {m.id: m for m in alice.list_models(author="alice")}
        assert listed["alice/secret"].private is True
        url = f"{hub.url}/alice/secret/resolve/main/README.md"
        assert httpx2.get(url, headers={"authorization": "Bearer hf_alice"}).text == "secret card\n"
        assert httpx2.get(url, headers={"authorization": "Bearer hf_bob"}).headers["x-error-code"] == "RepoNotFound"
        assert httpx2.get(url).status_code == 404
        acme_private = httpx2.get(f"{hub.url}/api/models/acme/model-001", headers={"authorization": "Bearer hf_bob"})
        assert acme_private.status_code == 404  # owned by the acme namespace, not bob
        truth = hub.truth()
        assert "alice/secret" not in truth.models and "acme/model-001" not in truth.models
        assert "alice/secret" not in truth.cards


def test_heavy_pages_answer_504_and_a_smaller_limit_succeeds(corpus: Path) -> None:
    with LocalHub(corpus, HubBehaviour(heavy_page_budget=1000)) as hub:
        heavy = httpx2.get(f"{hub.url}/api/models", params={"full": "true", "limit": 100})
        assert heavy.status_code == 504 and "smaller limit" in heavy.json()["error"]
        assert httpx2.get(f"{hub.url}/api/models", params={"full": "true", "limit": 30}).status_code == 200
        assert httpx2.get(f"{hub.url}/api/models").status_code == 504  # 1,000 x the default fields
        assert httpx2.get(f"{hub.url}/api/models", params={"limit": 100}).status_code == 200
        expand = [("expand[]", "sha"), ("expand[]", "tags"), ("limit", "500")]
        assert httpx2.get(f"{hub.url}/api/models", params=expand).status_code == 200
    with pytest.raises(ValueError, match="heavy_page_budget"):
        LocalHub(corpus, HubBehaviour(heavy_page_budget=0))


# --- generator, rates, JSONL ----------------------------------------------------------------------


def test_seeded_generator_is_reproducible_and_round_trips_through_jsonl(corpus: Path, tmp_path: Path) -> None:
    base = load_corpus(corpus)
    rates = "default,create=0.5,commit=0.5,rename=0.1,delete=0.1,launch=0.2,gate=0.1,counters=1"
    first = generate_events(base, START, START + timedelta(days=3), rates, seed=42)
    assert first == generate_events(base, START, START + timedelta(days=3), rates, seed=42)
    assert first != generate_events(base, START, START + timedelta(days=3), rates, seed=43)
    assert [event.at for event in first] == sorted(event.at for event in first)
    assert all(START <= event.at < START + timedelta(days=3) for event in first)
    path = tmp_path / "events.jsonl"
    assert write_events(path, first) == len(first)
    assert read_events(path) == first
    line = orjson.loads(path.read_bytes().splitlines()[0])
    assert line["at"].endswith("Z") and line["kind"] in EVENT_KINDS
    living = LivingCorpus(base)
    assert all(living.apply(event) for event in first)  # generated events always apply in order


def test_rate_specs_parse_print_and_reject_nonsense() -> None:
    assert parse_rates("default") == {kind: DEFAULT_RATES.get(kind, 0.0) for kind in EVENT_KINDS}
    parsed = parse_rates("create=0.005;commit=0.01, delete=0.0005")
    assert (parsed["create"], parsed["commit"], parsed["counters"]) == (0.005, 0.01, 0.0)
    assert parse_rates(format_rates(DEFAULT_RATES)) == parse_rates("default")
    for bad, message in (("explode=1", "cannot read"), ("create=x", "not a number"), ("create=-1", ">= 0")):
        with pytest.raises(ConfigurationError, match=message):
            parse_rates(bad)
    with pytest.raises(ConfigurationError, match="unknown event kind"):
        HubEvent(START, "teleport", "a/b")
    with pytest.raises(ConfigurationError, match="needs new_id"):
        HubEvent(START, "rename", "a/b")


def test_events_that_no_longer_apply_are_skipped_not_applied(corpus: Path) -> None:
    with LocalHub(corpus, HubBehaviour(clock_start=START)) as hub:
        hub.schedule(
            [
                HubEvent(at(1), "delete", "acme/model-000"),
                HubEvent(at(2), "commit", "acme/model-000"),
                HubEvent(at(3), "create", "zeta/model-001"),
                HubEvent(at(4), "rename", "zeta/model-001", new_id="acme/model-003"),
                HubEvent(at(5), "launch", "zeta/model-001"),
            ]
        )
        applied = hub.advance(600)
        assert [event.kind for event in applied] == ["delete"] == [event.kind for event in hub.event_log]
        assert [event.kind for event in hub.skipped_events] == ["commit", "create", "rename", "launch"]


# --- ground truth, runtime control ----------------------------------------------------------------


def test_truth_matches_a_full_listing_after_generated_events(corpus: Path) -> None:
    rates = "create=0.5,commit=0.5,card_edit=0.2,delete=0.1,rename=0.1,make_private=0.1,launch=0.5,counters=1"
    with LocalHub(corpus, HubBehaviour(event_rate=rates, seed=5, clock_start=START, tokens={"t": "acme"})) as hub:
        hub.advance(2 * 86_400)
        truth = hub.truth()
        assert truth.events_applied == len(hub.event_log) > 20
        listed, _ = walk(hub.url, {"full": "true", "limit": 7, "sort": "lastModified"})
        assert sorted(ids_of(listed)) == sorted(truth.models)
        for obj in listed:
            served = truth.models[obj["id"]]
            for key in ("_id", "sha", "lastModified", "createdAt", "private", "gated", "disabled", "downloads"):
                assert obj.get(key) == served.get(key), (obj["id"], key)
        remote = httpx2.get(f"{hub.url}/_hubgenome/truth").json()
        assert remote["models"] == truth.models and remote["cards"] == truth.cards
        log = httpx2.get(f"{hub.url}/_hubgenome/events").text.splitlines()
        assert [HubEvent.from_json(orjson.loads(line)) for line in log] == hub.event_log
        for repo_id, text in list(truth.cards.items())[:5]:
            assert httpx2.get(f"{hub.url}/{repo_id}/resolve/main/README.md").text == text
        stats = httpx2.get(f"{hub.url}/_hubgenome/stats").json()["living"]
        assert stats["events_applied"] == len(hub.event_log) and stats["models"] == len(hub.living)


def test_reload_replays_the_applied_events(corpus: Path) -> None:
    with LocalHub(corpus, HubBehaviour(clock_start=START)) as hub:
        hub.schedule([HubEvent(at(1), "create", "acme/kept"), HubEvent(at(1), "delete", "acme/model-002")])
        hub.advance(60)
        hub.reload()
        ids = set(ids_of(first_page(hub.url)))
        assert "acme/kept" in ids and "acme/model-002" not in ids


def test_faults_can_be_replaced_at_runtime(corpus: Path) -> None:
    with LocalHub(corpus) as hub:
        card = f"{hub.url}/acme/model-000/resolve/main/README.md"
        assert httpx2.get(card).status_code == 200
        hub.set_faults("status=1.0:503;on=resolvers")
        assert httpx2.get(card).status_code == 503 and httpx2.get(f"{hub.url}/api/models").status_code == 200
        hub.set_faults(None)
        assert httpx2.get(card).status_code == 200
        answer = httpx2.post(f"{hub.url}/_hubgenome/faults", json={"faults": "status=1.0:500;on=api"})
        assert answer.json()["faults"].startswith("status=1:500")
        assert httpx2.get(f"{hub.url}/api/models").status_code == 500 and httpx2.get(card).status_code == 200
        assert httpx2.post(f"{hub.url}/_hubgenome/faults", json={"faults": "drop=2"}).status_code == 400
        httpx2.post(f"{hub.url}/_hubgenome/faults", json={"faults": "none"})
        assert httpx2.get(f"{hub.url}/api/models").status_code == 200


def test_events_can_be_scheduled_over_http(corpus: Path) -> None:
    with LocalHub(corpus, HubBehaviour(clock_start=START)) as hub:
        body = orjson.dumps(HubEvent(at(1), "create", "acme/remote").to_json())
        assert httpx2.post(f"{hub.url}/_hubgenome/events", content=body).json()["scheduled"] == 1
        assert httpx2.post(f"{hub.url}/_hubgenome/clock", json={"advance": 60}).json()["applied"] == 1
        assert HfApi(endpoint=hub.url).model_info("acme/remote").id == "acme/remote"


# --- the command -----------------------------------------------------------------------------------


def test_serve_hub_command_runs_a_living_hub(corpus: Path, tmp_path: Path) -> None:
    env = dict(os.environ, CI="true", COLUMNS="200", TERM="dumb")
    help_text = subprocess.run(
        [sys.executable, "-m", "hubgenome.cli", "serve-hub", "--help"],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    ).stdout
    for option in ("--events", "--event-rate", "--seed", "--clock-start", "--clock-speed", "--seconds-per-request"):
        assert option in help_text
    assert "--heavy-page-budget" in help_text and "--token" in help_text
    command = [sys.executable, "-m", "hubgenome.cli", "--data-dir", str(tmp_path / "data"), "serve-hub"]
    command += ["--corpus", str(corpus), "--port", "0", "--event-rate", "default,create=1,commit=1", "--seed", "7"]
    command += ["--clock-start", "2025-01-01T00:00:00Z", "--seconds-per-request", "3600", "--token", "hf_a=acme"]
    command += ["--heavy-page-budget", "100000"]
    server = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    try:
        url = server.stdout.readline().strip()  # type: ignore[union-attr]
        assert url.startswith("http://127.0.0.1:"), server.stderr.read()  # type: ignore[union-attr]
        for _ in range(30):
            assert httpx2.get(f"{url}/api/models", params={"limit": 5}).status_code == 200
        clock = httpx2.get(f"{url}/_hubgenome/clock").json()
    finally:
        server.terminate()
        server.wait(timeout=30)
    assert clock["now"] == "2025-01-02T06:00:00.000Z"
    assert clock["events_applied"] > 0
    bad = subprocess.run(
        [*command[:-2], "--event-rate", "explode=1"], capture_output=True, text=True, env=env, timeout=120
    )
    assert bad.returncode != 0 and "cannot read" in bad.stderr


# --- a real corpus ---------------------------------------------------------------------------------


def test_a_real_corpus_lives_through_a_crawl_without_losing_anybody(trees_corpus: Path) -> None:
    rates = "default,create=0.05,commit=0.05,card_edit=0.02,delete=0.01,rename=0.01,counters=0.2"
    with LocalHub(trees_corpus, HubBehaviour(event_rate=rates, seed=11, seconds_per_request=1800)) as hub:
        start = hub.clock.now()
        api = HfApi(endpoint=hub.url)
        expand = ["lastModified", "createdAt", "sha"]
        seen = [model.id for model in api.list_models(sort="lastModified", expand=expand)]
        assert len(seen) == len(set(seen))
        truth = hub.truth()
        assert hub.clock.now() > start and len(hub.event_log) > 10
        touched = {event.model_id for event in hub.event_log} | {e.new_id for e in hub.event_log if e.new_id}
        # everybody alive now and left alone by the events was listed exactly once
        assert set(truth.models) - touched <= set(seen)
        hub.clock.seconds_per_request = 0  # hold the Hub still for a second, complete listing
        fresh = list(api.list_models(sort="lastModified", expand=expand))
        assert {model.id for model in fresh} == set(truth.models)
        assert fresh[0].last_modified == max(datetime.fromisoformat(m["lastModified"]) for m in truth.models.values())


@pytest.mark.slow
def test_default_rates_are_the_calibration_of_the_real_corpora(hub_corpus: Path, trees_corpus: Path) -> None:
    from hubgenome.local_hub.server._calibrate import calibrate

    measured = calibrate(hub_corpus.parent)["rates"]
    for kind, rate in DEFAULT_RATES.items():
        assert rate == pytest.approx(measured[kind], rel=0.05), kind
