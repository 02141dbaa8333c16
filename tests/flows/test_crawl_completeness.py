"""One test per way a crawl of a changing Hub used to lose something silently (issue: "A living Hub").

Each builds the smallest Hub that shows the defect: a corpus written in code, changed between
pages or nights through the local Hub's ``reload``, or a single answer inspected directly.
"""

from __future__ import annotations

import datetime as dt
import email.utils
import socket
from pathlib import Path

import duckdb
import httpx2
import pytest

from hubgenome.core.errors import HubCrawlError
from hubgenome.flows import landing
from hubgenome.flows.crawl import run_crawl
from hubgenome.flows.hub_client import HubClient, _bucket_for
from hubgenome.flows.options import CrawlOptions, PipelineOptions
from hubgenome.flows.pipeline import run_pipeline
from hubgenome.local_hub.server import HubBehaviour, HubEvent, LocalHub
from tests.support.corpus_files import tiny_model, write_jsonl_gz
from tests.support.crawling import DiesAfterPages, crawl, crawl_runs, fast_client, landed_cards
from tests.support.night_clock import NightClock

pytestmark = pytest.mark.usefixtures("prefect_harness")


def _iso(moment: dt.datetime) -> str:
    return moment.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.000Z")


def _hub_now(url: str) -> dt.datetime:
    """The Hub's own clock, from the ``Date`` header of one answer."""
    response = httpx2.get(f"{url}/api/models?limit=1")
    return email.utils.parsedate_to_datetime(response.headers["date"])


def _write(corpus: Path, models: list[dict], cards: dict[str, str] | None = None) -> None:
    write_jsonl_gz(corpus / "models-00.jsonl.gz", models)
    if cards is not None:
        write_jsonl_gz(corpus / "cards-00.jsonl.gz", [{"id": key, "readme": text} for key, text in cards.items()])


def _landed_ids(data_dir: Path) -> set[str]:
    with duckdb.connect(str(data_dir / "raw.duckdb"), read_only=True) as con:
        return {row[0] for row in con.execute("select distinct model_id from raw_models").fetchall()}


def test_a_full_crawl_resumed_later_does_not_set_the_watermark_past_models_created_meanwhile(tmp_path: Path) -> None:
    """Watermark too new: the newest lastModified a long (resumed) crawl saw is later than models created after
    its first page; the next incremental crawl stopped before them and no crawl ever landed them."""
    corpus, data_dir = tmp_path / "corpus", tmp_path / "data"
    with LocalHub(_seed_corpus(corpus)) as hub:
        now = _hub_now(hub.url)
        base = [tiny_model(f"org/m{i:04d}", created=_iso(now - dt.timedelta(days=400 - i / 10))) for i in range(2500)]
        _write(corpus, base)
        hub.reload()
        _full_crawl_killed_after_one_page(hub.url, data_dir)
        # Meanwhile on the Hub: a model is created (and never modified again), and an old model, on a
        # page the crawl has not read yet, is committed to the next day.
        created_meanwhile = tiny_model("org/created-meanwhile", created=_iso(now + dt.timedelta(minutes=5)))
        base[10] = tiny_model("org/m0010", created=base[10]["createdAt"], modified=_iso(now + dt.timedelta(days=1)))
        _write(corpus, [*base, created_meanwhile])
        hub.reload()
        resumed = crawl(hub.url, data_dir, cards=False)
        assert resumed.resumed
        assert "org/created-meanwhile" not in _landed_ids(data_dir)  # ahead of where the full crawl started
        crawl(hub.url, data_dir, mode="incremental", cards=False)
    assert "org/created-meanwhile" in _landed_ids(data_dir)
    full = next(run for run in crawl_runs(data_dir) if run["mode"] == "full")
    assert full["watermark"] <= full["hub_started_at"] < now + dt.timedelta(minutes=5)


def _full_crawl_killed_after_one_page(endpoint: str, data_dir: Path) -> None:
    with pytest.raises(HubCrawlError):
        run_crawl(
            client=DiesAfterPages(endpoint, 1),
            data_dir=data_dir,
            mode="full",
            options=CrawlOptions(cards=False),
            show_progress=False,
            task_retries=0,
        )


def _seed_corpus(corpus: Path) -> Path:
    _write(corpus, [tiny_model("org/seed", created="2020-01-01T00:00:00.000Z")])
    return corpus


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_cards_that_failed_in_an_outage_are_fetched_by_the_next_crawl(tmp_path: Path) -> None:
    """Card errors were never retried: a resolver outage longer than the retries left cards missing until the
    model happened to change again."""
    corpus, data_dir = tmp_path / "corpus", tmp_path / "data"
    models = [tiny_model(f"org/m{i:02d}", created=f"2024-01-{i + 1:02d}T00:00:00.000Z") for i in range(20)]
    _write(corpus, models, {model["id"]: f"# card {model['id']}\n" for model in models})
    port = _free_port()
    with LocalHub(corpus, HubBehaviour(faults="status=1.0:503;on=resolvers"), port=port) as hub:  # the outage
        first = crawl(hub.url, data_dir, max_retries=1)
    assert first.cards == {"error": 20}
    with LocalHub(corpus, port=port) as hub:  # the next night, nothing changed on the Hub
        second = crawl(hub.url, data_dir, mode="incremental")
    # The incremental crawl re-lists only what its overlap reaches; the backlog brings the rest.
    assert second.models < 20
    assert second.cards_backlog == {"ok": 20 - second.models}
    assert second.cards_backlog_remaining == 0
    assert {status for status, _, _ in landed_cards(data_dir).values()} == {"ok"}


def test_the_backlog_is_bounded_oldest_first_and_reports_what_is_still_owed(tmp_path: Path) -> None:
    corpus, data_dir = tmp_path / "corpus", tmp_path / "data"
    models = [tiny_model(f"org/m{i:02d}", created=f"2024-01-{i + 1:02d}T00:00:00.000Z") for i in range(12)]
    _write(corpus, models, {model["id"]: "# card\n" for model in models})
    port = _free_port()
    with LocalHub(corpus, port=port) as hub:
        crawl(hub.url, data_dir, cards=False)  # a crawl without cards owes every card
        second = crawl(hub.url, data_dir, mode="incremental", card_backlog_limit=5)
    assert sum(second.cards_backlog.values()) == 5
    owed = 12 - sum(second.cards.values()) - 5  # the crawl's own re-listed models got theirs first
    assert second.cards_backlog_remaining == owed > 0
    assert len(second.cards_backlog_sample) == owed
    # Oldest first: the models landed longest ago without a card are the ones fetched.
    fetched = {model_id for model_id, (status, _, _) in landed_cards(data_dir).items() if status == "ok"}
    assert not fetched & set(second.cards_backlog_sample)


def test_a_readme_with_a_byte_order_mark_lands_without_it(tmp_path: Path) -> None:
    corpus, data_dir = tmp_path / "corpus", tmp_path / "data"
    model = tiny_model("org/bom", created="2024-01-01T00:00:00.000Z")
    _write(corpus, [model], {"org/bom": "\ufeff---\nlicense: mit\n---\n# A card saved by Notepad\n"})
    with LocalHub(corpus) as hub:
        crawl(hub.url, data_dir)
    status, _, text = landed_cards(data_dir)["org/bom"]
    assert status == "ok"
    assert text.startswith("---\nlicense: mit\n")


def test_a_repo_named_api_downloads_its_card_on_the_resolver_bucket() -> None:
    """The bucket was chosen by ``"/api/" in url``: ``Abi224/api``'s README counted against the API quota."""
    client = HubClient("https://huggingface.co")
    assert _bucket_for(client.card_url("Abi224/api")) == "resolvers"
    assert _bucket_for(client.card_url("api/api", "main")) == "resolvers"
    assert _bucket_for("https://huggingface.co/datasets/api/x/resolve/main/data.csv") == "resolvers"
    assert _bucket_for(client.listing_url(sort="lastModified")) == "api"
    assert _bucket_for(client.model_url("org/resolve")) == "api"


def test_an_answer_updates_the_bucket_its_ratelimit_header_names() -> None:
    """A resolver answer's quota must not overwrite the API bucket's estimate (and vice versa)."""
    client = HubClient("https://huggingface.co")
    client.pacer.acquire("api")
    api_policy = '"fixed window";"api";q=500;w=300'
    client.pacer.release("api", {"RateLimit": '"api";r=7;t=100', "RateLimit-Policy": api_policy})
    client.pacer.acquire("api")
    client.pacer.release(
        "api", {"RateLimit": '"resolvers";r=2900;t=100', "RateLimit-Policy": '"fixed window";"resolvers";q=3000;w=300'}
    )
    buckets = client.pacer._buckets
    assert (buckets["api"].remaining, buckets["api"].quota) == (6, 500)
    assert (buckets["resolvers"].remaining, buckets["resolvers"].quota) == (2900, 3000)


@pytest.mark.parametrize(
    ("headers", "expected"),
    [
        ({"RateLimit": '"api";r=0;t=5'}, 6.0),  # t + 1, as huggingface_hub's own http_backoff waits
        ({"RateLimit": '"api";r=0;t=5', "Retry-After": "2"}, 6.0),  # an exhausted bucket's reset first
        ({"Retry-After": "3"}, 4.0),
        ({"RateLimit": '"api";r=12;t=5', "Retry-After": "3"}, 4.0),  # not exhausted: Retry-After when sent
        ({}, 5.0),
    ],
)
def test_a_429_waits_the_reset_plus_one_second(headers: dict[str, str], expected: float) -> None:
    response = httpx2.Response(429, headers=headers, request=httpx2.Request("GET", "https://huggingface.co/api/models"))
    assert HubClient._rate_limit_wait(response) == expected


def test_a_rate_limited_crawl_sleeps_reset_plus_one(tmp_path: Path) -> None:
    corpus, data_dir = tmp_path / "corpus", tmp_path / "data"
    _write(corpus, [tiny_model(f"org/m{i}", created="2024-01-01T00:00:00.000Z") for i in range(3)])
    slept: list[float] = []
    with LocalHub(corpus, HubBehaviour(faults="first_page_429=1")) as hub:
        client = fast_client(hub.url, sleep=slept.append)
        run_crawl(client=client, data_dir=data_dir, options=CrawlOptions(cards=False), show_progress=False)
    assert slept[0] == 2.0  # the injected 429 says Retry-After: 1


def test_the_crawl_records_the_hubs_clock_not_ours(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The crawl records the Hub's clock of its first page, whatever our own clock says."""
    corpus, data_dir = tmp_path / "corpus", tmp_path / "data"
    _write(corpus, [tiny_model("org/a", created="2024-01-01T00:00:00.000Z")])
    far_future = dt.datetime(2099, 1, 1, tzinfo=dt.UTC)
    monkeypatch.setattr(landing, "utcnow", lambda: far_future)
    with LocalHub(corpus) as hub:
        hub_now = _hub_now(hub.url)
        crawl(hub.url, data_dir, cards=False)
    [run] = crawl_runs(data_dir)
    assert abs(run["hub_started_at"] - hub_now) < dt.timedelta(minutes=5)
    assert run["watermark"] == dt.datetime(2024, 1, 1, tzinfo=dt.UTC)


# -- against the living Hub ----------------------------------------------------------------------------


def _small_hub_corpus(corpus: Path, count: int = 30) -> list[dict]:
    models = [
        tiny_model(f"org/m{i:02d}", created=_iso(dt.datetime(2024, 1, 1, tzinfo=dt.UTC) + dt.timedelta(days=i)))
        for i in range(count)
    ]
    _write(corpus, models, {model["id"]: f"---\nlicense: mit\n---\n# {model['id']}\n" for model in models})
    return models


def test_private_repos_a_token_can_see_are_neither_landed_nor_asked_for_cards(tmp_path: Path) -> None:
    """With HF_TOKEN set (as the README recommends), the owner's private repos were listed, landed and their
    READMEs fetched; nothing filtered them."""
    corpus, data_dir = tmp_path / "corpus", tmp_path / "data"
    _small_hub_corpus(corpus)
    with LocalHub(corpus, HubBehaviour(tokens={"hf_alice": "alice"})) as hub:
        at = hub.clock.now()
        hub.schedule([HubEvent(at, "create", "alice/secret", private=True), HubEvent(at, "create", "alice/open")])
        hub.apply_due_events()
        summary = crawl(hub.url, data_dir, token="hf_alice")
        assert "alice/secret" in {m["id"] for m in httpx2.get(f"{hub.url}/api/models", headers=_bearer()).json()}
        landed = _landed_ids(data_dir)
        assert "alice/open" in landed and "alice/secret" not in landed
        assert "alice/secret" not in landed_cards(data_dir)
        assert summary.skipped_private == 1
        # --include-private lands it marked, with its card.
        private_data = tmp_path / "private"
        with_private = crawl(hub.url, private_data, token="hf_alice", include_private=True)
    assert with_private.skipped_private == 0
    with duckdb.connect(str(private_data / "raw.duckdb"), read_only=True) as con:
        flag = con.execute("select payload ->> 'private' from raw_models where model_id = 'alice/secret'").fetchone()
    assert flag == ("true",)
    assert landed_cards(private_data)["alice/secret"][0] == "ok"


def _bearer() -> dict[str, str]:
    return {"Authorization": "Bearer hf_alice"}


def test_a_page_that_always_times_out_is_asked_for_at_half_size_and_the_checkpoint_keeps_it(tmp_path: Path) -> None:
    """A page answering 504 at limit=1000 (heavy expands; the Hub does this) was frozen into the checkpoint:
    the crawl failed the same way every night."""
    corpus, data_dir = tmp_path / "corpus", tmp_path / "data"
    models = _small_hub_corpus(corpus, count=700)
    budget = 17 * 300  # the crawl asks for 17 properties: pages of 1,000 and 500 are too heavy, 250 is not
    with LocalHub(corpus, HubBehaviour(heavy_page_budget=budget)) as hub:
        _full_crawl_killed_after_one_page(hub.url, data_dir)  # its first page is a shrunk one
        [killed] = crawl_runs(data_dir)
        assert "limit=250" in killed["next_url"] and "cursor=" in killed["next_url"]
        resumed = crawl(hub.url, data_dir, cards=False)
        statuses = hub.stats()["by_status"]
    assert resumed.resumed
    assert _landed_ids(data_dir) == {model["id"] for model in models}
    assert statuses.get("504", 0) == 4  # 1000 and 500, twice each, on the first page only


@pytest.mark.slow
def test_changes_that_move_no_last_modified_reach_the_warehouse_through_reconciliation(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A private repo made public, a rename, a gating and a disabled flip move no lastModified: incremental
    crawls never saw them, and the id sweep saw the new ids but nothing landed them."""
    corpus, data_dir = tmp_path / "corpus", tmp_path / "data"
    _small_hub_corpus(corpus)
    clock = NightClock()
    monkeypatch.setattr(landing, "utcnow", clock)
    with LocalHub(corpus) as hub:
        at = hub.clock.now()
        # Created privately long ago: launched, it keeps those old dates, behind any watermark.
        hub.schedule([HubEvent(at - dt.timedelta(days=10), "create", "org/launched-later", private=True)])
        hub.apply_due_events()
        first = _night(hub, data_dir)
        assert first.state == "succeeded"
        hub.schedule(
            [
                HubEvent(at + dt.timedelta(hours=1), "launch", "org/launched-later"),
                HubEvent(at + dt.timedelta(hours=1), "rename", "org/m03", new_id="neworg/m03-renamed"),
                HubEvent(at + dt.timedelta(hours=1), "gate", "org/m04", gated="manual"),
                HubEvent(at + dt.timedelta(hours=1), "disable", "org/m05"),
            ]
        )
        hub.advance(24 * 3600)
        clock.next_night()
        second = _night(hub, data_dir)
        truth = hub.truth()
    assert second.state == "succeeded", second.error
    warehouse = data_dir / "warehouse.duckdb"
    with duckdb.connect(str(warehouse), read_only=True) as con:
        active = {
            model_id: (sha, gated, disabled)
            for model_id, sha, gated, disabled in con.execute(
                """
                select models.model_id, models.model_sha, models.gated_mode, models.is_disabled
                from dim_models as models inner join dim_model_lifecycle using (model_id)
                where dim_model_lifecycle.is_active
                """
            ).fetchall()
        }
        renamed = con.execute(
            "select lifecycle_status, renamed_to_model_id from dim_model_lifecycle where model_id = 'org/m03'"
        ).fetchone()
        card = con.execute("select card_status from dim_models where model_id = 'org/launched-later'").fetchone()
    assert set(active) == set(truth.models)
    assert active["org/m04"][1] == "manual" and active["org/m05"][2] is True
    assert renamed == ("renamed", "neworg/m03-renamed")
    assert card == ("ok",)
    assert second.models_reconciled == 4
    assert second.audit_missing == 0 and second.audit_stale == 0


def _night(hub: LocalHub, data_dir: Path):
    return run_pipeline(
        client=fast_client(hub.url), data_dir=data_dir, options=PipelineOptions(id_sweep="always"), show_progress=False
    )
