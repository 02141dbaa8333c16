"""Thirty nights of a living Hub: after every night the published warehouse equals the Hub's truth.

The Hub is real data (trees-2025-04, with cards, plus 50,000 models of hub-2024-07) changing at the
calibrated default rates of ``docs/living_hub.md``: models created (some privately, launched later
with their old dates), committed to, card-edited, deleted, renamed and transferred, gated,
disabled and re-counted. Each night's events happen up to the night's run and during its crawl
(the Hub's clock jumps an hour after the crawl's first listing page), none after: the id sweep
then sees the Hub as it stays until the next night, which is the truth every night is checked
against. On top of that, a bad week's worth of trouble:

* faults all month: 503s and 500s, 429s, dropped connections, and a night-long 429 storm (night 5);
* night 0's full crawl dies after a few pages and is resumed by night 1 (a full crawl spanning two
  nights, with a day of events in between);
* the README resolver is down for nights 10 and 11 (an outage longer than a night);
* night 20 is SIGKILLed in its cards and run again.

After every night that published: the active models of the warehouse are exactly the Hub's public
models, each with its latest sha, lastModified, gated, disabled and pipeline tag, and that night's
counters; the landing holds the card of each model's latest sha exactly as the Hub serves it, or
the model is in the card backlog the run summary counts (empty within three nights of the
outage's end); models deleted, renamed, transferred or made private since the previous night are
dated tonight (renames with their new id); no private repo is anywhere; the run's audit finds
nothing missing or stale. ``hubgenome audit`` agrees at the end. Every build after the first is
incremental (issue 13), and the month's last warehouse equals a full refresh of the same landing,
table for table and row for row.
"""

from __future__ import annotations

import datetime as dt
import gzip
import itertools
import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import duckdb
import orjson
import pytest

from hubgenome.core.errors import HubCrawlError
from hubgenome.flows import landing
from hubgenome.flows.audit import run_audit
from hubgenome.flows.build import build_warehouse
from hubgenome.flows.hub_client import HubClient, ListingPage
from hubgenome.flows.options import BuildOptions, CrawlOptions, PipelineOptions
from hubgenome.flows.pipeline import PipelineFailedError, PipelineSummary, run_pipeline
from hubgenome.local_hub.server import HubBehaviour, HubEvent, LocalHub, generate_events
from tests.support.corpus_files import write_jsonl_gz
from tests.support.night_clock import NightClock
from tests.support.shared_data import ROOT, corpus_path
from tests.support.warehouses import differing_tables, mart_row_hashes

pytestmark = [pytest.mark.slow, pytest.mark.usefixtures("prefect_harness")]

NIGHTS = 30
HUB_SLICE = 50_000
OUTAGE_NIGHTS = (10, 11)
STORM_NIGHT = 5
KILL_NIGHT = 20
#: Trouble all month long, seeded: server errors, 429 storms, connections dropped without an answer.
BASE_FAULTS = "status=0.01:503,0.005:500,0.01:429;drop=0.005;seed=11"
#: A 429 storm: a third of all answers are "too many requests" for a whole night.
STORM_FAULTS = "status=0.3:429,0.01:503;drop=0.005;seed=5"
#: During an outage every README download fails; the listing API still works.
OUTAGE_FAULTS = "status=1.0:503;on=resolvers"
#: Each night's events run from the previous night's crawl up to an hour into this night's crawl.
EVENTS_INTO_THE_CRAWL = dt.timedelta(hours=1)


# -- the Hub ----------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def living_corpus(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """trees-2025-04 (models and cards) and the first 50,000 models of hub-2024-07 (listing objects only)."""
    trees, hub = corpus_path("trees-2025-04"), corpus_path("hub-2024-07")
    corpus = tmp_path_factory.mktemp("living") / "corpus"
    corpus.mkdir()
    shutil.copy(trees / "models-00.jsonl.gz", corpus / "models-00.jsonl.gz")
    shutil.copy(trees / "cards-00.jsonl.gz", corpus / "cards-00.jsonl.gz")
    with gzip.open(trees / "models-00.jsonl.gz", "rb") as handle:
        tree_models = [orjson.loads(line) for line in handle if line.strip()]
    # A 2024 model renamed by 2025 is in both under two ids with one _id: keep the 2025 one.
    taken = {model["id"] for model in tree_models} | {model.get("_id") for model in tree_models}

    def hub_models() -> Iterator[dict]:
        for path in sorted(hub.glob("models-*.jsonl.gz")):
            with gzip.open(path, "rb") as handle:
                for line in handle:
                    model = orjson.loads(line)
                    if model["id"] not in taken and model.get("_id") not in taken:
                        yield model

    write_jsonl_gz(corpus / "models-01.jsonl.gz", itertools.islice(hub_models(), HUB_SLICE))
    return corpus


class _NightClient(HubClient):
    """The crawler's client on one night: fast backoff, no real sleeping on 429s, and two hooks.

    ``after_first_page`` runs once, after the night's first listing page (the Hub's clock moves on
    then, so the rest of the crawl meets the Hub changing under it); ``pages_before_dying`` makes the
    listing die like a killed process after that many pages.
    """

    def __init__(self, endpoint: str, *, after_first_page=None, pages_before_dying: int | None = None) -> None:
        super().__init__(endpoint, backoff_base=0.001, backoff_cap=0.01, sleep=lambda _seconds: None)
        self._after_first_page = after_first_page
        self._pages_left = pages_before_dying

    def get_page(self, url: str, **options) -> ListingPage:
        if self._pages_left is not None and self._pages_left <= 0:
            msg = "connection lost (killed)"
            raise HubCrawlError(msg)
        page = super().get_page(url, **options)
        if self._pages_left is not None:
            self._pages_left -= 1
        if self._after_first_page is not None:
            hook, self._after_first_page = self._after_first_page, None
            hook()
        return page


#: Every night sweeps ids, without the analytics (the nights check the landing and the marts).
NIGHT = PipelineOptions(crawl=CrawlOptions(card_concurrency=4), build=BuildOptions(analytics=False), id_sweep="always")


def _run_night(hub: LocalHub, data_dir: Path, client: HubClient, *, task_retries: int | None = None) -> PipelineSummary:
    return run_pipeline(client=client, data_dir=data_dir, options=NIGHT, show_progress=False, task_retries=task_retries)


def _kill_mid_cards(hub: LocalHub, data_dir: Path, night: int) -> None:
    """Run the night in a child process and SIGKILL it while it downloads cards."""
    from prefect.settings import PREFECT_API_URL

    env = {**os.environ, "PYTHONPATH": str(ROOT), "PREFECT_API_URL": PREFECT_API_URL.value() or ""}
    resolver_requests = hub.stats()["by_bucket"]["resolvers"]
    command = [sys.executable, "-m", "tests.support.pipeline_night", "--night", str(night)]
    command += ["--endpoint", hub.url, "--data-dir", str(data_dir)]
    child = subprocess.Popen(command, cwd=ROOT, env=env, start_new_session=True)
    try:
        deadline = time.monotonic() + 300
        while hub.stats()["by_bucket"]["resolvers"] < resolver_requests + 10:
            assert child.poll() is None, "the night ended before it fetched cards: nothing to kill"
            assert time.monotonic() < deadline, "the night never reached its cards"
            time.sleep(0.05)
    finally:
        os.killpg(child.pid, signal.SIGKILL)
        child.wait()


# -- the truth, and the warehouse against it -------------------------------------------------------


def _query(path: Path, sql: str, params: list | None = None) -> list[tuple]:
    with duckdb.connect(str(path), read_only=True) as con:
        return con.execute(sql, params or []).fetchall()


def _moment(value: object) -> dt.datetime | None:
    if not isinstance(value, str):
        return None
    moment = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    return moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)


def _gated(value: object) -> str:
    return value if value in ("auto", "manual") else "none"


def _mismatches(expected: dict, actual: dict) -> list[str]:
    return sorted(key for key in expected.keys() | actual.keys() if expected.get(key) != actual.get(key))


def _check_night(
    night: int,
    summary: PipelineSummary,
    hub: LocalHub,
    data_dir: Path,
    clock: NightClock,
    gone_tonight: dict[str, str | None],
) -> None:
    warehouse, raw_db = data_dir / "warehouse.duckdb", data_dir / "raw.duckdb"
    truth = hub.truth()
    public = truth.models
    context = f"night {night}"
    assert summary.state == "succeeded", f"{context}: {summary.error}"

    held = {
        model_id: (sha, last_modified, gated, disabled, pipeline_tag)
        for model_id, sha, last_modified, gated, disabled, pipeline_tag in _query(
            warehouse,
            """
            select models.model_id, models.model_sha, models.last_modified_at, models.gated_mode,
                   models.is_disabled, models.pipeline_tag
            from dim_models as models inner join dim_model_lifecycle as lifecycle using (model_id)
            where lifecycle.is_active
            """,
        )
    }
    missing, extra = sorted(public.keys() - held.keys()), sorted(held.keys() - public.keys())
    assert (missing[:5], extra[:5]) == ([], []), f"{context}: {len(missing)} missing, {len(extra)} extra"
    expected = {
        model_id: (
            obj.get("sha"),
            _moment(obj.get("lastModified")),
            _gated(obj.get("gated")),
            obj.get("disabled") is True,
            obj.get("pipeline_tag"),
        )
        for model_id, obj in public.items()
    }
    actual = {
        model_id: (sha, last_modified, gated, bool(disabled), pipeline_tag)
        for model_id, (sha, last_modified, gated, disabled, pipeline_tag) in held.items()
    }
    stale = _mismatches(expected, actual)
    assert stale[:5] == [], (
        f"{context}: {len(stale)} models differ, e.g. {[(expected[m], actual.get(m)) for m in stale[:2]]}"
    )

    # That night's counters: the fct_model_counters interval valid at the night's counters sweep (a
    # model gone before it has its last interval ended by that sweep, which no longer listed it).
    # The sweep runs every checked night: night 1's full crawl was resumed, not fresh.
    assert summary.counters_crawl_id is not None, context
    rows = _query(
        warehouse,
        """
        select counters.model_id, counters.downloads_30d, counters.likes
        from fct_model_counters as counters
        cross join (select started_at from staging.stg_hub__crawls where crawl_id = ?) as sweep
        where counters.valid_from <= sweep.started_at
          and (counters.valid_to is null or counters.valid_to > sweep.started_at)
        """,
        [summary.counters_crawl_id],
    )
    counters = {model_id: (downloads, likes) for model_id, downloads, likes in rows}
    assert len(rows) == len(counters), f"{context}: overlapping counter intervals"
    expected_counters = {model_id: (obj.get("downloads"), obj.get("likes")) for model_id, obj in public.items()}
    wrong = _mismatches(expected_counters, counters)
    assert wrong[:5] == [], f"{context}: {len(wrong)} counters differ"

    # Cards: the latest sha's card as the Hub serves it, or owed in the backlog the summary counts.
    with duckdb.connect(str(raw_db), read_only=True) as con:
        owed = {model_id for model_id, _ in landing.card_backlog(con)[0]}
        landed = dict(
            con.execute(
                """
                with latest as (
                    select raw_models.model_id,
                           arg_max(raw_models.payload ->> 'sha', (crawl_runs.started_at, raw_models.rowid)) as sha
                    from raw_models inner join crawl_runs using (crawl_id) group by 1
                )
                select latest.model_id, arg_max(raw_cards.card_text, raw_cards.fetched_at)
                from latest inner join raw_cards
                  on raw_cards.model_id = latest.model_id and raw_cards.model_sha is not distinct from latest.sha
                where raw_cards.status = 'ok'
                group by 1
                """
            ).fetchall()
        )
        private_rows = con.execute("select count(*) from raw_models where payload ->> 'private' = 'true'").fetchone()[0]
    assert summary.cards_backlog_remaining == len(owed), context
    wrong_cards = [m for m, text in truth.cards.items() if landed.get(m) != text and m not in owed]
    assert wrong_cards[:5] == [], f"{context}: {len(wrong_cards)} cards neither landed nor owed"
    if night >= OUTAGE_NIGHTS[-1] + 3:
        assert owed == set(), f"{context}: the backlog outlived the outage by three nights: {sorted(owed)[:5]}"

    # Deletions, renames, transfers and models made private since last night: dated tonight.
    if gone_tonight:
        lifecycle = {
            model_id: (status, renamed_to, day)
            for model_id, status, renamed_to, day in _query(
                warehouse,
                """
                select model_id, lifecycle_status, renamed_to_model_id,
                       cast(timezone('UTC', disappeared_at) as date)
                from dim_model_lifecycle where model_id in (select unnest(?))
                """,
                [list(gone_tonight)],
            )
        }
        expected_gone = {
            model_id: ("renamed" if new_id else "disappeared", new_id, clock.date)
            for model_id, new_id in gone_tonight.items()
        }
        undated = _mismatches(expected_gone, lifecycle)
        assert undated[:5] == [], f"{context}: {[(expected_gone[m], lifecycle.get(m)) for m in undated[:3]]}"

    # No private repo anywhere; the run's own audit found the Hub complete.
    assert private_rows == 0, context
    assert _query(warehouse, "select count(*) from dim_models where is_private")[0][0] == 0, context
    assert (summary.audit_missing, summary.audit_stale, summary.audit_private) == (0, 0, 0), context


def _gone_since(events: list[HubEvent], held_active: set[str], public_now: set[str]) -> dict[str, str | None]:
    """Models active in the warehouse that the events made disappear: id → the id it lives on as, if any.

    A model renamed (or transferred) and still public under its last id is expected as ``renamed``
    to that id; one deleted or made private, or renamed and then gone, as ``disappeared``; one made
    private and launched again is not gone at all.
    """
    origin_of: dict[str, str] = {}  # the id a model has now → the id the warehouse holds it under
    touched: set[str] = set()
    for event in events:
        origin = origin_of.pop(event.model_id, event.model_id)
        if origin not in held_active:
            continue
        touched.add(origin)
        if event.kind in ("rename", "transfer") and event.new_id:
            origin_of[event.new_id] = origin
        elif event.kind in ("delete", "make_private"):
            origin_of[f"\0gone:{origin}"] = origin
        else:
            origin_of[event.model_id] = origin
    lives_as = {origin: current for current, origin in origin_of.items()}
    gone: dict[str, str | None] = {}
    for origin in touched:
        current = lives_as.get(origin, origin)
        if current == origin and origin in public_now:
            continue
        gone[origin] = current if current in public_now and current != origin else None
    return gone


# -- the month ----------------------------------------------------------------------------------------


def test_thirty_nights_of_a_living_hub_lose_nothing(
    living_corpus: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    data_dir = tmp_path / "data"
    clock = NightClock()
    monkeypatch.setattr(landing, "utcnow", clock)
    with LocalHub(living_corpus, HubBehaviour(faults=BASE_FAULTS)) as hub:
        first_night = hub.clock.now()
        events_until = first_night - dt.timedelta(days=1)
        held_active: set[str] = set()
        build_modes: list[tuple[int, str | None, str | None]] = []
        for night in range(NIGHTS):
            night_starts = first_night + dt.timedelta(days=night)
            crawl_until = night_starts + EVENTS_INTO_THE_CRAWL
            log_before = len(hub.event_log)
            hub.schedule(generate_events(hub.living, events_until, crawl_until, "default", seed=night))
            events_until = crawl_until
            hub.advance(max(0.0, (night_starts - hub.clock.now()).total_seconds()))

            def move_on(until: dt.datetime = crawl_until) -> None:
                hub.advance(max(0.0, (until - hub.clock.now()).total_seconds()))

            if night in OUTAGE_NIGHTS:
                hub.set_faults(OUTAGE_FAULTS)
            elif night == STORM_NIGHT:
                hub.set_faults(STORM_FAULTS)
            elif night in (OUTAGE_NIGHTS[-1] + 1, STORM_NIGHT + 1):
                hub.set_faults(BASE_FAULTS)
            if night == 0:
                client = _NightClient(hub.url, after_first_page=move_on, pages_before_dying=8)
                with pytest.raises(PipelineFailedError):
                    _run_night(hub, data_dir, client, task_retries=0)
                assert not (data_dir / "warehouse.duckdb").exists()
                clock.next_night()
                continue
            if night == KILL_NIGHT:
                move_on()
                hub.set_faults(BASE_FAULTS + ";slow=1.0:0.2;on=api,resolvers")
                _kill_mid_cards(hub, data_dir, night)
                hub.set_faults(BASE_FAULTS)
            summary = _run_night(hub, data_dir, _NightClient(hub.url, after_first_page=move_on))
            build_modes.append((night, summary.build_mode, summary.build_mode_reason))
            if night == 1:
                assert summary.crawl_mode == "full" and summary.crawl_resumed
            assert len(hub.event_log) > log_before
            public_now = set(hub.truth().models)
            gone = _gone_since(hub.event_log[log_before:], held_active, public_now) if night > 1 else {}
            _check_night(night, summary, hub, data_dir, clock, gone)
            held_active = set(hub.truth().models)
            clock.next_night()
        report = run_audit(client=HubClient(hub.url), data_dir=data_dir)
    assert report.missing == 0 and report.ok
    runs = _query(
        data_dir / "warehouse.duckdb",
        "select run_state, count(*) from fct_pipeline_runs group by 1 order by 1",
    )
    assert ("abandoned", 1) in runs and ("failed", 1) in runs

    # A month of incremental builds (issue 13) equals one full refresh of the same landing, table for
    # table and row for row. The last night's build read its own pipeline run while it was running:
    # one more build, with no new landing rows, brings both to the same landing.
    # Night 1 (the first build) is a full refresh; a later one only for a crawl resumed across builds
    # (its rows split between two builds).
    full_refreshes = [(night, reason) for night, mode, reason in build_modes[1:] if mode != "incremental"]
    assert build_modes[0][1] == "full_refresh"
    resumed = ("resumed across builds", "a build ran while it was landing")
    assert all(any(why in (reason or "") for why in resumed) for _, reason in full_refreshes), full_refreshes
    assert len(full_refreshes) <= 2, full_refreshes
    incremental = build_warehouse(data_dir)
    assert incremental.build_mode == "incremental", incremental.mode_reason
    fresh_dir = tmp_path / "fresh"
    fresh_dir.mkdir()
    shutil.copyfile(data_dir / "raw.duckdb", fresh_dir / "raw.duckdb")
    fresh = build_warehouse(fresh_dir, full_refresh=True)
    got, expected = mart_row_hashes(incremental.warehouse), mart_row_hashes(fresh.warehouse)
    assert "main.dim_models" in expected
    assert differing_tables(got, expected) == {}
