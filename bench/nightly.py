"""Benchmark one incremental night of the pipeline at whole-Hub scale (issue 6).

Setup (not timed): the 3.04M-model tiled corpus (``bench/tile_corpus.py``) is served by a local Hub
in a child process; the landing gets the corpus as one succeeded ``full`` crawl of that endpoint
(``hubgenome.flows.corpus_import.import_corpus``) plus one id sweep, as after a first night. Then
``--changed`` models get a new sha, ``lastModified`` and README (and as many others new counters)
and the Hub reloads.

Timed: ``run_pipeline`` (incremental crawl + cards of the changed models, counters sweep, id sweep,
build with the analytics step) in this process. Printed: the wall time of each stage, the time
spent waiting on the rate limit (429 waits + pacing) reported apart, and this process's peak RSS
(the Hub's memory is its child process's, not counted). Goal: ≤ 5 min without rate-limit waits,
≤ 8 GB.

    .venv/bin/python bench/nightly.py [--corpus DIR] [--changed 30000] [--work DIR] [--no-analytics]

Living-Hub mode (``--living``, see docs/living_hub.md): the same corpus served by a *living* Hub
(``serve-hub`` options ``--event-rate``/``--seed``) and the same first-night landing, plus the
cards a first night would have settled (a 404 ``missing`` row for every imported model without a
card; without it every night fetches 20,000 backlog cards the Hub does not have). Then, ``--nights``
times: the Hub's seeded events of one simulated day (``generate_events`` drawn by the Hub from its
state: ``--changed`` commits + card edits a night in the calibrated 5:1 split, ``--recounted``
counter changes, the calibrated default rates of every other kind), the hub clock advanced by a
day through ``/_hubgenome/clock``, and ``run_pipeline`` (id sweep every night) timed. Printed per
night: requests (the client's, and the Hub's by bucket and by stage) against the minimum the
night's changes require, models missed (published warehouse vs the Hub's truth), stage walls,
peak RSS.

    .venv/bin/python bench/nightly.py --living [--nights 2] [--corpus DIR] [--changed N] [--recounted N] [--seed 7]

The truth is replayed from the corpus plus ``/_hubgenome/events`` (the truth route of 3M models
would be gigabytes of JSON); on corpora under 200,000 models the replay is checked against
``/_hubgenome/truth``.

History mode (``--nights 2,30,90``, issue 13): what one night costs after N-1 nights of history.

    .venv/bin/python bench/nightly.py --nights 2,30,90 [--corpus DIR] [--changed 30000] [--work DIR] [--no-analytics]
    .venv/bin/python bench/nightly.py --nights 2,5 --quick      # 20,000 models of hub-2024-07, minutes

Setup (not timed, kept under ``--work``, default ``<data dir>/bench/nightly-history``): night 1 is
the corpus (default the 3.04M tiled one) landed as a full crawl, every model's card settled (a 404
``missing`` row where the corpus has none) and one id sweep. Its timestamps are moved
``HISTORY_HORIZON_DAYS`` (400) days back; the simulated nights follow one a day, so all of them
end before the real clock and the timed night, run now, comes after them. For each N of
``--nights``, ascending, the landing is extended to N-1 nights by SQL (:func:`add_night`), each
night landing what the nightly pipeline lands (checked row for row against a real night on a
20,000-model slice: every value of the four raw tables equal, only timestamps and crawl ids differ):

* an ``incremental`` crawl: ``--changed`` (30,000) models, picked by a hash of (model, night), with
  a new sha and a lastModified within the day before, their latest landed object patched, 1,000 a
  page in ``crawl_pages``, plus the models of the previous crawl within its 2 h overlap (read again
  as they are); a ``raw_cards`` row (``ok``) for each changed model's new sha: a real README of
  ``cards-2022-02`` (mean 2.7 kB) picked by hash, headed by the model id;
* a ``counters`` sweep: one ``raw_model_counters`` row per model. A model's counters change with
  probability ``1 - exp(-downloads_30d / 30)``, its chance of at least one download that day
  (``downloads`` is a rolling 30-day count), as ``local_hub/server/_calibrate.py`` measured on
  hub-2024-07: 12 % of the Hub's models a day (``DEFAULT_RATES["counters"]``);
* an ``ids`` sweep: one ``raw_id_sweeps`` row per model with the night's shas; an empty
  ``reconcile`` crawl; the night's ``pipeline_runs`` row.

30,000 changed models a night is issue 13's figure: about ten times the commits measured on the
real Hub (``DEFAULT_RATES``: commits 0.0008 + card edits 0.00016 of the models a day, 2,900 at
3.04M), so it bounds the listing and card volume from above; creations, deletions, renames and
flips are not simulated (the living mode has them). On a corpus of under 300,000 models the
default is scaled to the corpus (30,000 x models / 3.04M).

Every build of a run uses a copy of the dbt project taken when the run starts
(``<work>/dbt-project``): an edit of the checkout's project during a bench of hours would otherwise
turn the timed night's build into a full refresh. Then one full-refresh build
(``BuildOptions(full_refresh=True)``, untimed, in a child process;
its wall is printed) gives the warehouse of night N-1: incremental and full-refresh builds give the
same tables. Night N is then real: the Hub serves the landing's state after night N-1 (every
model's latest sha, lastModified and counters) with night N's changes drawn as :func:`add_night`
draws them (:func:`write_served_corpus`), and ``run_pipeline`` (crawl + cards, counters sweep, id
sweep, reconcile, incremental build with analytics, audit) runs in a fresh child process, so its
peak RSS is the night's own. Printed per N: each stage's wall, the whole nightly and its ratio to
the first N's, build wall = dbt (with the copy of the published warehouse) + analytics + the rest,
the build's mode, peak RSS, warehouse size, landing size and the night's landing growth (file bytes
after minus before, after a CHECKPOINT, and the growth of DuckDB's used blocks). The timed night's
rows are then taken out of the landing again (:func:`restore_landing`) and the next N extends it.
Without 365 among the nights, a linear fit of the measured nights projects night 365, labelled as a
projection. Goals (issue 13, 3.04M models): whole nightly <= 150 s at night 2, night 365 <= 1.2 x
night 2, landing growth <= 150 MB a night, peak RSS <= 8 GB.
"""

from __future__ import annotations

import argparse
import datetime as dt
import gzip
import hashlib
import math
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

import orjson

from hubgenome.core.paths import resolve_data_dir
from hubgenome.core.settings import configure_prefect

REPO = Path(__file__).resolve().parents[1]
# Run as a script, bench/ comes first on sys.path, and bench/analytics.py would shadow the package.
sys.path[:] = [entry for entry in sys.path if Path(entry or ".").resolve() != REPO / "bench"]
sys.path.insert(0, str(REPO))
HUB = REPO.parent / "shared" / "hubdata" / "hub-2024-07"


def _picked(model_id: str, salt: str, share: float) -> bool:
    digest = hashlib.blake2b(f"{salt}:{model_id}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big") / 2**64 < share


def evolve_tiled(corpus: Path, *, changed: int, night: str) -> tuple[list[str], int]:
    """Give ``changed`` models a new sha/lastModified/card and about as many others new counters.

    Rewrites the corpus files in place (streaming); returns the changed ids and the recounted total.
    """
    files = sorted(corpus.glob("models-*.jsonl.gz"))
    total = 0
    for path in files:
        with gzip.open(path, "rb") as handle:
            total += sum(1 for _ in handle)
    share = changed / total
    changed_ids: list[str] = []
    recounted = 0
    for path in files:
        tmp = path.with_suffix(".tmp")
        with gzip.open(path, "rb") as source, gzip.open(tmp, "wb", compresslevel=1) as target:
            for line in source:
                model = orjson.loads(line)
                if len(changed_ids) < changed and _picked(model["id"], night, share * 1.02):
                    model["sha"] = hashlib.sha1(f"{night}:{model['id']}".encode()).hexdigest()
                    model["lastModified"] = night
                    changed_ids.append(model["id"])
                elif _picked(model["id"], night + "counters", share):
                    model["downloads"] = int(model.get("downloads") or 0) + 7
                    model["likes"] = int(model.get("likes") or 0) + 1
                    recounted += 1
                target.write(orjson.dumps(model) + b"\n")
        tmp.replace(path)
    cards = corpus / "cards-99.jsonl.gz"
    with gzip.open(cards, "wb", compresslevel=1) as target:
        for model_id in changed_ids:
            target.write(orjson.dumps({"id": model_id, "readme": f"# {model_id}\n\nUpdated {night}.\n"}) + b"\n")
    return changed_ids, recounted


def start_hub(corpus: Path, port: int = 0, extra: tuple[str, ...] = ()) -> tuple[subprocess.Popen, str]:
    hub = subprocess.Popen(  # the Hub's memory stays out of this process's peak RSS
        [sys.executable, "-m", "hubgenome.local_hub.server", "--corpus", str(corpus), "--port", str(port), *extra],
        stdout=subprocess.PIPE,
        text=True,
        cwd=REPO,
    )
    url = hub.stdout.readline().strip()
    if not url.startswith("http"):
        msg = f"the local Hub did not start (said {url!r})"
        raise RuntimeError(msg)
    return hub, url


# --- living-Hub mode ---------------------------------------------------------------------------

#: Models of the 4x tiled hub-2024-07: ``--changed`` / ``--recounted`` are per night at this size.
WHOLE_HUB = 3_040_000
#: Below this many models the replayed truth is also checked against ``GET /_hubgenome/truth``.
TRUTH_ROUTE_LIMIT = 200_000
PAGE_LIMIT = 1000
DAY = 86_400.0
SAMPLES = 5


def _control(url: str, path: str, payload: dict | None = None, *, timeout: float = 3600.0) -> dict:
    """A control route of the living Hub (never counted, limited or faulted): GET, or POST ``payload``."""
    import httpx

    if payload is None:
        response = httpx.get(url + path, timeout=timeout)
    else:
        response = httpx.post(url + path, content=orjson.dumps(payload), timeout=timeout)
    response.raise_for_status()
    return orjson.loads(response.content)


def _new_events(url: str, skip: int) -> list:
    """The events the Hub applied after the first ``skip`` of ``GET /_hubgenome/events`` (streamed)."""
    import httpx

    from hubgenome.local_hub.server import HubEvent

    events = []
    with httpx.stream("GET", url + "/_hubgenome/events", timeout=3600.0) as response:
        response.raise_for_status()
        for number, line in enumerate(response.iter_lines()):
            if number >= skip and line.strip():
                events.append(HubEvent.from_json(orjson.loads(line)))
    return events


def _count_models(corpus: Path) -> int:
    total = 0
    for path in sorted(corpus.glob("models-*.jsonl.gz")):
        with gzip.open(path, "rb") as handle:
            total += sum(1 for _ in handle)
    return total


def _living_rates(models: int, changed: int, recounted: int) -> str:
    """The calibrated default rates, with commits + card edits and counter changes set to per-night counts."""
    from hubgenome.local_hub.server import DEFAULT_RATES, format_rates

    rates = dict(DEFAULT_RATES)
    commits = rates["commit"] + rates["card_edit"]
    share = changed / models
    rates["commit"], rates["card_edit"] = share * rates["commit"] / commits, share * rates["card_edit"] / commits
    rates["counters"] = recounted / models
    return format_rates({kind: round(rate, 9) for kind, rate in rates.items()})


def _settle_first_night_cards(raw_db: Path) -> int:
    """Land a 404 ``missing`` card for every imported model without one, as a first night's card fetches would."""
    import duckdb

    con = duckdb.connect(str(raw_db))
    try:
        con.execute(
            """
            insert into raw_cards
            select models.crawl_id, models.model_id, models.fetched_at, models.payload ->> 'sha', 'missing', 404,
                   null, null, null
            from raw_models as models anti join raw_cards using (model_id)
            """
        )
        return int(con.execute("select count(*) from raw_cards where status = 'missing'").fetchone()[0])
    finally:
        con.close()


class TruthReplay:
    """The Hub's public state replayed from its event log over the corpus, light enough for 3M models.

    Only models some event touched are held (``live``, by current id); every other corpus model is
    public and as loaded. Counter changes are ignored (nothing the check compares). Each record notes
    the night it was last committed to (``committed``), arrived under its id as a public model
    (``arrived``: launch, rename, transfer, public creation) and flipped without a commit
    (``flipped``: launch, rename, transfer, gating, disabling), for the night's minimum.
    """

    def __init__(self) -> None:
        self.live: dict[str, dict] = {}
        self.touched_base: set[str] = set()
        self.applied = 0

    def apply(self, event, night: int) -> None:
        from hubgenome.local_hub.server._events import derived_sha

        self.applied += 1
        kind = event.kind
        if kind == "counters":
            return
        if kind == "create":
            self.live[event.model_id] = {
                "origin": None,
                "private": bool(event.private),
                "sha": event.sha or derived_sha(event),
                "gated_set": True,
                "gated": "false",
                "disabled": False,
                "has_card": True,
                "committed": night,
                "arrived": None if event.private else night,
                "flipped": None,
            }
            return
        record = self.live.get(event.model_id)
        if record is None:  # every id not created or renamed on the living Hub is a corpus model
            self.touched_base.add(event.model_id)
            record = self.live[event.model_id] = {
                "origin": event.model_id,
                "private": False,
                "sha": None,
                "gated_set": False,
                "gated": None,
                "disabled": None,
                "has_card": None,
                "committed": None,
                "arrived": None,
                "flipped": None,
            }
        if kind in ("commit", "card_edit"):
            record["sha"] = event.sha or derived_sha(event)
            record["committed"] = night
            if kind == "card_edit":
                record["has_card"] = True
        elif kind == "delete":
            del self.live[event.model_id]
        elif kind in ("rename", "transfer"):
            self.live[event.new_id] = self.live.pop(event.model_id)
            record["arrived"] = record["flipped"] = night
        elif kind == "launch":
            record["private"] = False
            record["arrived"] = record["flipped"] = night
        elif kind == "make_private":
            record["private"] = True
        elif kind == "gate":
            record["gated_set"], record["gated"] = True, str(event.gated).lower()
            record["flipped"] = night
        elif kind in ("disable", "enable"):
            record["disabled"] = kind == "disable"
            record["flipped"] = night

    def rows(self) -> list[dict]:
        """The touched models that exist now (public or private), for the verifier."""
        return [
            {
                "model_id": model_id,
                "origin_id": record["origin"],
                "is_public": not record["private"],
                "sha": record["sha"],
                "gated_set": record["gated_set"],
                "gated": record["gated"],
                "disabled": record["disabled"],
                "has_card": record["has_card"],
            }
            for model_id, record in self.live.items()
        ]

    def night(self, night: int) -> dict[str, int]:
        """What night ``night`` changed among the models public at its end."""
        public = [record for record in self.live.values() if not record["private"]]
        committed = sum(record["committed"] == night for record in public)
        carded = sum(record["committed"] == night or record["arrived"] == night for record in public)
        flipped = sum(record["flipped"] == night and record["committed"] != night for record in public)
        return {"committed": committed, "carded": carded, "flipped": flipped, "public_touched": len(public)}


def _finding(con, sql: str) -> dict:
    con.execute(f"create or replace temporary table finding as {sql}")
    count = con.execute("select count(*) from finding").fetchall()[0][0]
    sample = [row[0] for row in con.execute(f"select * from finding order by 1 limit {SAMPLES}").fetchall()]
    return {"count": int(count), "sample": sample}


def verify_night(
    corpus: str, truth_db: str, warehouse_db: str, touched: list[dict], touched_base: list[str], url: str | None
) -> dict:
    """Compare the published warehouse with the Hub's truth (replayed); run in a child process.

    The corpus's public state (``base``: id, sha, gated, disabled, card) is read once into
    ``truth_db``; the replay's touched models override it. With ``url`` the replayed truth is also
    compared with ``GET /_hubgenome/truth``.
    """
    import duckdb
    import pyarrow as pa

    started = time.perf_counter()
    con = duckdb.connect(truth_db)
    con.execute("set enable_progress_bar = false")
    folder = Path(corpus)
    if not con.execute("select count(*) from information_schema.tables where table_name = 'base'").fetchall()[0][0]:
        models = [str(path) for path in sorted(folder.glob("models-*.jsonl.gz"))]
        details = [str(path) for path in sorted(folder.glob("details-*.jsonl.gz"))]
        cards = [str(path) for path in sorted(folder.glob("cards-*.jsonl.gz"))]
        extract = """
            select json_extract_string(json, '$.id') as model_id, json_extract_string(json, '$.sha') as sha,
                   json_extract_string(json, '$.gated') as gated,
                   try_cast(json_extract_string(json, '$.disabled') as boolean) as disabled
            from read_ndjson_objects(?, format = 'newline_delimited', compression = 'gzip')
        """
        con.execute(f"create table listed as {extract}", [models])
        if details:  # /api/models/{id} (the truth) answers the details object where the corpus has one
            con.execute(f"create table detailed as {extract}", [details])
        else:
            con.execute("create table detailed as select * from listed limit 0")
        con.execute(
            """
            create table base as
            select listed.model_id,
                   case when detailed.model_id is null then listed.sha else detailed.sha end as sha,
                   case when detailed.model_id is null then listed.gated else detailed.gated end as gated,
                   case when detailed.model_id is null then listed.disabled else detailed.disabled end as disabled
            from listed left join detailed using (model_id)
            """
        )
        con.execute("drop table listed")
        con.execute("drop table detailed")
        if cards:
            con.execute(
                """
                create table base_cards as
                select distinct json_extract_string(json, '$.id') as model_id
                from read_ndjson_objects(?, format = 'newline_delimited', compression = 'gzip')
                where json_extract_string(json, '$.readme') is not null
                """,
                [cards],
            )
        else:
            con.execute("create table base_cards (model_id varchar)")
    schema = pa.schema(
        [
            ("model_id", pa.string()),
            ("origin_id", pa.string()),
            ("is_public", pa.bool_()),
            ("sha", pa.string()),
            ("gated_set", pa.bool_()),
            ("gated", pa.string()),
            ("disabled", pa.bool_()),
            ("has_card", pa.bool_()),
        ]
    )
    touched_table = pa.Table.from_pylist(touched, schema=schema)  # noqa: F841 - read by duckdb
    touched_base_table = pa.table({"model_id": pa.array(touched_base, pa.string())})  # noqa: F841
    con.execute("create or replace temporary table touched as select * from touched_table")
    con.execute("create or replace temporary table touched_base as select * from touched_base_table")
    con.execute(
        """
        create or replace temporary table truth as
        select base.model_id, base.sha,
               base_cards.model_id is not null and coalesce(base.gated, 'false') = 'false'
                   and not coalesce(base.disabled, false) as has_public_card
        from base left join base_cards using (model_id)
        where base.model_id not in (select model_id from touched_base)
        union all
        select touched.model_id, coalesce(touched.sha, base.sha) as sha,
               coalesce(touched.has_card, base_cards.model_id is not null)
                   and coalesce(case when touched.gated_set then touched.gated else base.gated end, 'false') = 'false'
                   and not coalesce(touched.disabled, base.disabled, false) as has_public_card
        from touched
        left join base on touched.origin_id = base.model_id
        left join base_cards on touched.origin_id = base_cards.model_id
        where touched.is_public
        """
    )
    result: dict = {
        "public": con.execute("select count(*) from truth").fetchall()[0][0],
        "public_cards": con.execute("select count(*) from truth where has_public_card").fetchall()[0][0],
    }
    if url is not None:
        import httpx

        answer = orjson.loads(httpx.get(url + "/_hubgenome/truth", timeout=3600.0).content)
        route_rows = [
            {"model_id": model_id, "sha": obj.get("sha"), "has_public_card": model_id in answer["cards"]}
            for model_id, obj in answer["models"].items()
        ]
        route = pa.Table.from_pylist(
            route_rows,
            schema=pa.schema([("model_id", pa.string()), ("sha", pa.string()), ("has_public_card", pa.bool_())]),
        )
        con.register("route_rows", route)
        con.execute("create or replace temporary table route as select * from route_rows")
        result["route_differences"] = _finding(
            con,
            """
            select coalesce(truth.model_id, route.model_id) from truth full join route using (model_id)
            where truth.model_id is null or route.model_id is null or truth.sha is distinct from route.sha
               or truth.has_public_card is distinct from route.has_public_card
            """,
        )
    con.execute(f"attach '{warehouse_db}' as wh (read_only)")
    con.execute(
        """
        create or replace temporary table held as
        select models.model_id, models.model_sha, models.card_status, models.is_private,
               coalesce(lifecycle.is_active, true) as is_active
        from wh.dim_models as models
        left join wh.dim_model_lifecycle as lifecycle using (model_id)
        """
    )
    active = "select model_id from held where is_active"
    result["missing"] = _finding(con, f"select model_id from truth where model_id not in ({active})")
    result["extra"] = _finding(
        con, "select model_id from held where is_active and model_id not in (select model_id from truth)"
    )
    result["sha_mismatch"] = _finding(
        con,
        "select truth.model_id from truth inner join held using (model_id) "
        "where held.is_active and truth.sha is distinct from held.model_sha",
    )
    result["cards_missing"] = _finding(
        con,
        "select truth.model_id from truth inner join held using (model_id) "
        "where truth.has_public_card and held.card_status is distinct from 'ok'",
    )
    result["private_flagged"] = _finding(con, "select model_id from held where is_private")
    result["private_active"] = _finding(
        con,
        "select held.model_id from held inner join touched using (model_id) "
        "where held.is_active and not touched.is_public",
    )
    con.close()
    result["seconds"] = round(time.perf_counter() - started, 1)
    return result


def _requests_by_stage(marks: list[tuple[int, int, dict]]) -> list[tuple[int, int, int]]:
    """Per stage (1..6): (client requests, Hub api requests, Hub resolver requests), from the run's records."""
    first: dict[int, tuple[int, dict]] = {}
    for stages, requests, hub in marks:
        first.setdefault(stages, (requests, hub))
    rows = []
    for stage in range(1, max(first, default=0) + 1):
        if stage not in first or stage - 1 not in first:
            rows.append((0, 0, 0))
            continue
        (before, hub_before), (after, hub_after) = first[stage - 1], first[stage]
        rows.append(
            (
                after - before,
                hub_after["by_bucket"].get("api", 0) - hub_before["by_bucket"].get("api", 0),
                hub_after["by_bucket"].get("resolvers", 0) - hub_before["by_bucket"].get("resolvers", 0),
            )
        )
    return rows


def _show(finding: dict) -> str:
    sample = f" (e.g. {', '.join(finding['sample'])})" if finding["count"] else ""
    return f"{finding['count']:,}{sample}"


def run_living(args: argparse.Namespace, corpus: Path, work: Path) -> None:
    """The living-Hub benchmark: setup as the existing mode, then ``args.nights`` nights of events."""
    import multiprocessing
    from collections import Counter
    from concurrent.futures import ProcessPoolExecutor

    # Line by line: a forked helper (Prefect's temporary server) would print a pending buffer again.
    sys.stdout.reconfigure(line_buffering=True)
    data_dir = work / "data"
    configure_prefect(data_dir)
    os.environ.setdefault("PREFECT_LOGGING_TO_API_WHEN_MISSING_FLOW", "ignore")
    from hubgenome.core.paths import paths
    from hubgenome.flows import pipeline as pipeline_module
    from hubgenome.flows.corpus_import import import_corpus
    from hubgenome.flows.hub_client import HubClient
    from hubgenome.flows.options import BuildOptions, PipelineOptions
    from hubgenome.flows.pipeline import STAGES, run_pipeline
    from hubgenome.flows.sweeps import run_sweep

    nightly = PipelineOptions(id_sweep="always", build=BuildOptions(analytics=not args.no_analytics))
    started = time.perf_counter()
    models = _count_models(corpus)
    changed = args.changed if args.changed is not None else max(1, round(30_000 * models / WHOLE_HUB))
    recounted = args.recounted if args.recounted is not None else changed
    rates = _living_rates(models, changed, recounted)
    print(f"setup: {models:,} models in {corpus}; Hub event rates {rates}, seed {args.seed}")
    hub, url = start_hub(corpus, extra=("--event-rate", rates, "--seed", str(args.seed)))
    pool = ProcessPoolExecutor(max_workers=1, mp_context=multiprocessing.get_context("spawn"))
    try:
        raw_db = data_dir / "raw.duckdb"
        for stale in (raw_db, work / "truth.duckdb"):
            if stale.exists():
                stale.unlink()
        warehouse = paths(data_dir).warehouse_db
        if warehouse.exists():
            warehouse.unlink()
        data_dir.mkdir(parents=True, exist_ok=True)
        import_corpus(corpus, raw_db, mode="full", endpoint=url)
        settled = _settle_first_night_cards(raw_db)
        run_sweep("ids", data_dir=data_dir, client=HubClient(url))
        clock = _control(url, "/_hubgenome/clock")
        print(
            f"setup: landed the first night in {time.perf_counter() - started:.0f} s "
            f"({settled:,} cards settled missing); hub clock {clock['now']}, {clock['events_pending']:,} events pending"
        )
        marks: list[tuple[int, int, dict]] = []
        record = pipeline_module._record
        clients: list[HubClient] = []

        def recording(raw: Path, summary: pipeline_module.PipelineSummary) -> None:
            requests = clients[-1].stats.requests if clients else summary.requests
            marks.append((len(summary.stages), requests, _control(url, "/_hubgenome/stats")))
            record(raw, summary)

        pipeline_module._record = recording  # the bench reads each stage's requests as the run records it
        replay = TruthReplay()
        check_route = models < TRUTH_ROUTE_LIMIT
        for night in range(1, args.nights + 1):
            moved = time.perf_counter()
            clock = _control(url, "/_hubgenome/clock", {"advance": DAY})
            events = _new_events(url, replay.applied)
            kinds = Counter(event.kind for event in events)
            for event in events:
                replay.apply(event, night)
            print(
                f"night {night}: hub clock {clock['now']}, {len(events):,} events applied "
                f"({', '.join(f'{kind} {count:,}' for kind, count in kinds.most_common())}) "
                f"in {time.perf_counter() - moved:.0f} s"
            )
            _control(url, "/_hubgenome/stats/reset", {})
            marks.clear()
            clients[:] = [HubClient(url)]
            started = time.perf_counter()
            summary = run_pipeline(client=clients[0], data_dir=data_dir, options=nightly, show_progress=False)
            wall = time.perf_counter() - started
            peak_gib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20
            hub_stats = _control(url, "/_hubgenome/stats")
            changes = replay.night(night)
            verdict = pool.submit(
                verify_night,
                str(corpus),
                str(work / "truth.duckdb"),
                str(warehouse),
                replay.rows(),
                sorted(replay.touched_base),
                url if check_route else None,
            ).result()
            public = verdict["public"]
            listing = math.ceil(changes["committed"] / PAGE_LIMIT) + 1
            sweep = math.ceil(public / PAGE_LIMIT)
            minimum = listing + changes["carded"] + sweep + changes["flipped"]
            waits = summary.rate_limit_wait_seconds + summary.pacing_wait_seconds
            print(f"night {night} on {corpus.name}: {wall:.1f} s wall, {wall - waits:.1f} s without rate-limit waits")
            by_stage = _requests_by_stage(marks)
            for index, stage in enumerate(summary.stages):
                client_n, api_n, resolver_n = by_stage[index] if index < len(by_stage) else (0, 0, 0)
                print(
                    f"  {stage.stage:<9} {stage.state:<9} {stage.seconds:8.1f} s  "
                    f"requests {client_n:>7,} (hub: api {api_n:,}, resolvers {resolver_n:,})  {stage.detail}"
                )
            print(
                f"  new {summary.models_new:,}, changed {summary.models_changed:,}, "
                f"deleted {summary.models_deleted:,}, reconciled {summary.models_reconciled:,}; "
                f"cards {summary.cards}; 429s {summary.throttled_429}; "
                f"audit missing {summary.audit_missing}, stale {summary.audit_stale}, extra {summary.audit_extra}"
            )
            buckets = hub_stats["by_bucket"]
            ratio = summary.requests / minimum if minimum else float("nan")
            print(
                f"  requests: client {summary.requests:,}; hub {hub_stats['requests']:,} "
                f"(api {buckets.get('api', 0):,}, resolvers {buckets.get('resolvers', 0):,}, "
                f"listing pages {hub_stats['listing_pages']:,})"
            )
            print(
                f"  minimum {minimum:,} = {listing:,} incremental pages ({changes['committed']:,} public models "
                f"created or committed to) + {changes['carded']:,} cards (new or new sha) + {sweep:,} sweep pages "
                f"({public:,} public models) + {changes['flipped']:,} models that moved no lastModified; "
                f"ratio {ratio:.2f}x (goal <= 1.2x)"
            )
            route = verdict.get("route_differences")
            checked = f"; replayed truth vs /_hubgenome/truth: {_show(route)} differences" if route is not None else ""
            print(
                f"  missed (warehouse vs the Hub's truth at {clock['now']}, {public:,} public models, "
                f"{verdict['public_cards']:,} public cards{checked}):"
            )
            print(f"    public models missing {_show(verdict['missing'])}")
            print(f"    extra (active, not public on the Hub) {_show(verdict['extra'])}")
            print(f"    sha mismatches {_show(verdict['sha_mismatch'])}")
            print(f"    cards missing (Hub has one, card_status not ok) {_show(verdict['cards_missing'])}")
            print(
                f"    private: flagged in the warehouse {_show(verdict['private_flagged'])}; "
                f"private on the Hub and active in the warehouse {_show(verdict['private_active'])}"
            )
            print(
                f"  rate-limit waits: {summary.rate_limit_wait_seconds:.1f} s (429) "
                f"+ {summary.pacing_wait_seconds:.1f} s (pacing); check took {verdict['seconds']:.0f} s"
            )
            print(f"  peak RSS of the pipeline process: {peak_gib:.2f} GiB (the check runs in a child process)")
        assert tuple(stage.stage for stage in summary.stages) == STAGES
    finally:
        pool.shutdown()
        hub.terminate()
        hub.wait()


# --- history mode (--nights 2,30,90) ------------------------------------------------------------

#: The simulated nights are one day apart, ending before the bench's real clock: night 1 starts this
#: many days before the landing was first made, so up to this many nights fit before "now".
HISTORY_HORIZON_DAYS = 400
#: The real READMEs whose length and wording the simulated card texts take (mean 2.7 kB).
CARD_SAMPLES = HUB.parent / "cards-2022-02"
#: Default models of the --quick slice of hub-2024-07.
QUICK_MODELS = 20_000
#: The listing properties the pipeline's sweeps ask for (as ``hubgenome.flows.sweeps.SWEEP_EXPAND``).
_SWEEP_SORT = "createdAt"
#: Minutes after a night's start at which its crawl, counters sweep and id sweep start.
_STAGE_MINUTES = {"incremental": 0, "counters": 20, "ids": 40, "reconcile": 50}
#: The landing tables whose rows belong to a crawl (``crawl_id``), besides ``crawl_pages``.
_CRAWL_TABLES = ("raw_models", "raw_cards", "raw_model_counters", "raw_id_sweeps")
#: How much an incremental crawl re-reads before the previous watermark (``DEFAULT_OVERLAP``).
_OVERLAP = dt.timedelta(hours=2)


def _night_start(t0: dt.datetime, night: int, mode: str) -> dt.datetime:
    return t0 + dt.timedelta(days=night - 1, minutes=_STAGE_MINUTES.get(mode, 0))


def _crawl_id(started: dt.datetime, mode: str, night: int) -> str:
    return f"{started:%Y%m%dT%H%M%SZ}-{mode}-night{night:04d}"


def _meta(con, key: str) -> str | None:
    row = con.execute("select value from landing_meta where key = ?", [key]).fetchone()
    return row[0] if row else None


def _set_meta(con, key: str, value: str | None) -> None:
    if value is None:
        con.execute("delete from landing_meta where key = ?", [key])
    else:
        con.execute("insert or replace into landing_meta values (?, ?)", [key, value])


def _ts(moment: dt.datetime) -> str:
    """A SQL timestamptz literal."""
    return f"timestamptz '{moment.astimezone(dt.UTC):%Y-%m-%d %H:%M:%S}+00'"


def _counters_sql(previous: str, night: int) -> str:
    """Night ``night``'s counters of every model from ``previous`` (model_id, model_object_id, 4 counters).

    A model's counters change with probability ``1 - exp(-downloads_30d / 30)`` (its chance of at
    least one download that day, ``local_hub/server/_calibrate.py``: 12 % of hub-2024-07's models a
    day); a changed model's 30-day downloads move by -3..+3, its all-time downloads grow by
    1 + downloads_30d / 30, its likes by one with a twentieth of that chance, its trending score
    decays by 10 %. The draw is a hash of (model, night): the same night always draws the same.
    """
    return f"""
        with previous as ({previous}),
        drawn as (
            select *, (hash(model_id, {night}) % 1000000) / 1000000.0 as draw,
                   1 - exp(-coalesce(downloads, 0) / 30.0) as daily_chance
            from previous
        )
        select
            model_id,
            model_object_id,
            case when draw < daily_chance
                then greatest(0, coalesce(downloads, 0) + cast(hash(model_id, {night}, 'd') % 7 as bigint) - 3)
                else downloads end as downloads,
            case when draw < daily_chance
                then coalesce(downloads_all_time, 0) + 1 + coalesce(downloads, 0) // 30
                else downloads_all_time end as downloads_all_time,
            case when draw < daily_chance / 20 then coalesce(likes, 0) + 1 else likes end as likes,
            case when draw < daily_chance then round(coalesce(trending_score, 0) * 0.9, 3)
                else trending_score end as trending_score
        from drawn
    """


def _previous_counters_sql(con, night: int) -> str:
    """The counters every model had after night ``night - 1`` (its counters sweep; night 1: its listing)."""
    previous = con.execute(
        "select crawl_id from crawl_runs where mode = 'counters' and crawl_id like ?", [f"%-night{night - 1:04d}"]
    ).fetchone()
    if previous is not None:
        return f"""
            select model_id, model_object_id, downloads, downloads_all_time, likes, trending_score
            from raw_model_counters where crawl_id = '{previous[0]}'
        """
    # Night 1 was a full crawl (no counters sweep): its listing carries every counter.
    return """
        select model_id, payload ->> '_id' as model_object_id,
               try_cast(payload ->> 'downloads' as bigint) as downloads,
               try_cast(payload ->> 'downloadsAllTime' as bigint) as downloads_all_time,
               try_cast(payload ->> 'likes' as bigint) as likes,
               try_cast(payload ->> 'trendingScore' as double) as trending_score
        from raw_models
        where crawl_id = (select crawl_id from crawl_runs where mode = 'full' order by started_at limit 1)
          and coalesce(payload ->> 'private', 'false') <> 'true'
    """


def _last_id_sweep(con, night: int) -> str:
    row = con.execute(
        "select crawl_id from crawl_runs where mode = 'ids' and crawl_id like ?", [f"%-night{night:04d}"]
    ).fetchone()
    if row is None:
        msg = f"the landing has no id sweep of night {night}"
        raise RuntimeError(msg)
    return row[0]


def _changes_sql(con, night: int, t0: dt.datetime, changed: int) -> str:
    """Night ``night``'s changed models: (model_id, sha, last_modified_at), drawn from night ``night - 1``'s id sweep.

    ``changed`` models picked by a hash of (model, night), each with a new sha and a lastModified
    within the day before the night starts (after the previous night's crawl, so an incremental
    crawl reaches it).
    """
    start = _night_start(t0, night, "incremental")
    return f"""
        select model_id,
               sha1('{night}:' || model_id) as sha,
               {_ts(start)} - to_seconds(600 + cast(hash(model_id, {night}, 'lm') % 84000 as bigint))
                   as last_modified_at
        from raw_id_sweeps where crawl_id = '{_last_id_sweep(con, night - 1)}'
        order by hash(model_id, {night}, 'changed'), model_id
        limit {changed}
    """


def _cards_sql(night: int) -> str:
    """(model_id, sha, text) of the night's changed models: each a real README of ``cards-2022-02``
    (picked by hash; mean 2.7 kB), headed by the model's id and the night, so no two are equal."""
    return f"""
        with picks as (
            select model_id, sha,
                   hash(model_id, {night}, 'card') % (select count(*) from card_samples)::ubigint as n
            from night_changes
        )
        select picks.model_id, picks.sha,
               '# ' || picks.model_id || chr(10) || chr(10) || 'Updated on night {night}.' || chr(10) || chr(10)
                   || samples.readme as text
        from picks inner join card_samples as samples using (n)
    """


def _load_card_samples(con) -> None:
    files = sorted(CARD_SAMPLES.glob("cards-*.jsonl.gz"))
    if not files:
        msg = f"no README samples at {CARD_SAMPLES}: put shared/hubdata beside the checkout"
        raise SystemExit(msg)
    con.execute(
        """
        create or replace temporary table card_samples as
        select cast(row_number() over () - 1 as ubigint) as n, json_extract_string(json, '$.readme') as readme
        from read_ndjson_objects(?, format = 'newline_delimited', compression = 'gzip')
        where json_extract_string(json, '$.readme') is not null
        """,
        [[str(path) for path in files]],
    )


def _listing_url(endpoint: str, sort: str, expand: tuple[str, ...]) -> str:
    """The first-page URL of a listing, as ``HubClient.listing_url`` makes it."""
    from urllib.parse import urlencode

    params = [("sort", sort), ("direction", "-1"), ("limit", "1000"), *(("expand[]", prop) for prop in expand)]
    return f"{endpoint}/api/models?{urlencode(params)}"


def _land_pages(con, crawl_id: str, first_url: str, table: str, fetched_at: dt.datetime) -> tuple[int, int]:
    """The ``crawl_pages`` rows of a simulated crawl's rows in ``table`` (pages from 1); (pages, models).

    Each page after the first is the first page's URL with a keyset cursor of the previous page's
    last model, as the Hub's ``Link`` header gives it.
    """
    con.execute(
        f"""
        insert into crawl_pages
        with pages as (
            select page_number, count(*) as models,
                   '{first_url}&cursor=' || replace(to_base64(encode('["sort",' || page_number || ',"'
                       || max(model_id) || '"]')), '=', '') as next_page_url
            from {table} where crawl_id = '{crawl_id}'
            group by page_number
        )
        select '{crawl_id}', page_number,
               coalesce(lag(next_page_url) over (order by page_number), '{first_url}'),
               case when page_number < max(page_number) over () then next_page_url end,
               models, {_ts(fetched_at)}
        from pages
        """
    )
    pages, models = con.execute(
        f"select count(distinct page_number), count(*) from {table} where crawl_id = '{crawl_id}'"
    ).fetchone()
    return int(pages), int(models)


def _record_crawl(
    con,
    crawl_id: str,
    *,
    mode: str,
    endpoint: str,
    sort_by: str | None,
    expand: tuple[str, ...],
    started: dt.datetime,
    pages: int,
    models: int,
    stop_before: dt.datetime | None = None,
    watermark_sql: str | None = None,
    hub_started: bool = False,
) -> None:
    """The ``crawl_runs`` row of a simulated crawl, succeeded ten minutes after it started.

    A crawl's watermark is the newest lastModified it landed, at most its start (``finish_run``): a
    sweep's, landing no listing objects, is its start.
    """
    watermark_sql = watermark_sql or _ts(started)
    con.execute(
        f"""
        insert into crawl_runs (crawl_id, mode, endpoint, sort_by, expand, started_at, finished_at, state,
                                stop_before, watermark, next_url, pages_landed, models_landed, error, hub_started_at)
        values (?, ?, ?, ?, ?, ?, ?, 'succeeded', ?, {watermark_sql}, null, ?, ?, null, ?)
        """,
        [
            crawl_id,
            mode,
            endpoint,
            sort_by,
            list(expand),
            started,
            started + dt.timedelta(minutes=10),
            stop_before,
            pages,
            models,
            started if hub_started else None,
        ],
    )


def _land_sweep(con, mode: str, table: str, crawl_id: str, started: dt.datetime, endpoint: str, rows: str) -> None:
    """Land a ``counters`` or ``ids`` sweep as the pipeline does: ``rows`` (the table's columns after
    crawl_id, model_id, model_object_id, page_number and fetched_at, from a source holding model_id and
    model_object_id) numbered into 1,000-model pages in the sweep's order, its ``crawl_pages`` and its
    ``crawl_runs`` row."""
    from hubgenome.flows.sweeps import SWEEP_EXPAND

    con.execute(
        f"""
        insert into {table}
        select '{crawl_id}', model_id, model_object_id,
               cast((row_number() over (order by model_object_id desc, model_id) - 1) // 1000 + 1 as integer),
               {_ts(started)}, {rows}
        """
    )
    first_url = _listing_url(endpoint, _SWEEP_SORT, SWEEP_EXPAND[mode])
    pages, models = _land_pages(con, crawl_id, first_url, table, started)
    _record_crawl(
        con,
        crawl_id,
        mode=mode,
        endpoint=endpoint,
        sort_by=_SWEEP_SORT,
        expand=SWEEP_EXPAND[mode],
        started=started,
        pages=pages,
        models=models,
    )


def land_id_sweep(con, night: int, t0: dt.datetime, endpoint: str, source: str) -> None:
    """Night ``night``'s id sweep: one ``raw_id_sweeps`` row per public model, from ``source``'s columns."""
    started = _night_start(t0, night, "ids")
    rows = f"model_sha, last_modified_at, gated, is_disabled from ({source})"
    _land_sweep(con, "ids", "raw_id_sweeps", _crawl_id(started, "ids", night), started, endpoint, rows)


def land_first_night(corpus: Path, raw_db: Path, endpoint: str, changed: int) -> None:
    """Night 1: the corpus as one succeeded full crawl, every card settled, one id sweep; moved into the past.

    The import lands now; every timestamp of it then moves to ``HISTORY_HORIZON_DAYS`` days ago
    (night 1's start), so that the simulated nights, one a day, all end before the real clock and
    the timed night, run by the real pipeline now, comes after every one of them.
    """
    from hubgenome.flows import landing
    from hubgenome.flows.corpus_import import import_corpus

    started = time.perf_counter()
    crawl_id = import_corpus(corpus, raw_db, mode="full", endpoint=endpoint)
    now = dt.datetime.now(dt.UTC)
    t0 = (now - dt.timedelta(days=HISTORY_HORIZON_DAYS)).replace(hour=2, minute=0, second=0, microsecond=0)
    con = landing.connect(raw_db)
    try:
        con.execute("set TimeZone = 'UTC'")
        newest = con.execute(
            """
            select max(coalesce(try_cast(payload ->> 'lastModified' as timestamptz),
                                try_cast(payload ->> 'createdAt' as timestamptz)))
            from raw_models
            """
        ).fetchone()[0]
        if newest is not None and newest >= t0:
            msg = (
                f"the corpus has models modified as late as {newest:%Y-%m-%d}, after the simulated night 1 "
                f"({t0:%Y-%m-%d}, {HISTORY_HORIZON_DAYS} days ago): use an older corpus"
            )
            raise SystemExit(msg)
        con.execute("begin transaction")
        for table in ("raw_models", "raw_cards", "crawl_pages"):
            con.execute(f"update {table} set fetched_at = ? where crawl_id = ?", [t0, crawl_id])
        con.execute(
            "update crawl_runs set started_at = ?, finished_at = ?, watermark = least(watermark, ?) where crawl_id = ?",
            [t0, t0 + dt.timedelta(minutes=10), t0, crawl_id],
        )
        # The first night fetched every model's card: a 404 ``missing`` row for each the corpus has none of.
        con.execute(
            """
            insert into raw_cards
            select models.crawl_id, models.model_id, models.fetched_at, models.payload ->> 'sha', 'missing', 404,
                   null, null, null
            from raw_models as models anti join raw_cards using (model_id)
            """
        )
        land_id_sweep(
            con,
            1,
            t0,
            endpoint,
            f"""
            select model_id, payload ->> '_id' as model_object_id, payload ->> 'sha' as model_sha,
                   try_cast(payload ->> 'lastModified' as timestamptz) as last_modified_at,
                   payload ->> 'gated' as gated,
                   case when json_type(payload, '$.disabled') = 'BOOLEAN'
                        then cast(payload ->> 'disabled' as boolean) end as is_disabled
            from raw_models
            where crawl_id = '{crawl_id}' and coalesce(payload ->> 'private', 'false') <> 'true'
            """,
        )
        for key, value in (("t0", t0.isoformat()), ("corpus", str(corpus)), ("changed", str(changed))):
            _set_meta(con, f"bench.{key}", value)
        _set_meta(con, "bench.endpoint", endpoint)
        con.execute("commit")
        con.execute("checkpoint")
    finally:
        con.close()
    print(f"setup: night 1 landed from {corpus} in {time.perf_counter() - started:.0f} s (starts {t0:%Y-%m-%d})")


def add_night(con, night: int, t0: dt.datetime, endpoint: str, changed: int) -> None:
    """Land night ``night`` as the nightly pipeline would: crawl + cards, counters sweep, id sweep.

    * an ``incremental`` listing crawl of the ``changed`` models of :func:`_changes_sql`: each one's
      latest landed object with the new sha and lastModified and tonight's counters, in
      ``lastModified`` order, 1,000 a page, and a ``raw_cards`` row (``ok``) for each, for its new sha;
    * a ``counters`` sweep: one ``raw_model_counters`` row per model (:func:`_counters_sql`);
    * an ``ids`` sweep: one ``raw_id_sweeps`` row per model, with the new shas.
    """
    from hubgenome.core.settings import CRAWL_EXPAND

    started = _night_start(t0, night, "incremental")
    crawl_id = _crawl_id(started, "incremental", night)
    counters_started = _night_start(t0, night, "counters")
    counters_id = _crawl_id(counters_started, "counters", night)
    previous_ids = _last_id_sweep(con, night - 1)
    previous_crawl, previous_watermark = con.execute(
        "select crawl_id, watermark from crawl_runs where mode in ('full', 'incremental') "
        "order by started_at desc limit 1"
    ).fetchone()
    stop_before = previous_watermark - _OVERLAP
    con.execute("begin transaction")
    con.execute(f"create or replace temporary table night_changes as {_changes_sql(con, night, t0, changed)}")
    counters_sql = _counters_sql(_previous_counters_sql(con, night), night)
    con.execute(f"create or replace temporary table night_counters as {counters_sql}")
    # The listing: tonight's changed models, and the models of the previous crawl modified within
    # the overlap before its watermark (read again as they are, as the real crawl's overlap does).
    con.execute(
        f"""
        insert into raw_models
        with listed as (
            select model_id, sha, last_modified_at from night_changes
            union all
            select model_id, payload ->> 'sha', try_cast(payload ->> 'lastModified' as timestamptz)
            from raw_models
            where crawl_id = '{previous_crawl}'
              and try_cast(payload ->> 'lastModified' as timestamptz) >= {_ts(stop_before)}
              and model_id not in (select model_id from night_changes)
        ),
        latest as (
            select raw_models.model_id,
                   arg_max(raw_models.payload, (crawl_runs.started_at, raw_models.rowid)) as payload
            from raw_models inner join crawl_runs using (crawl_id)
            where raw_models.model_id in (select model_id from listed)
            group by 1
        )
        select '{crawl_id}', latest.model_id,
               cast((row_number() over (order by listed.last_modified_at desc, latest.model_id) - 1) // 1000 + 1
                    as integer),
               {_ts(started + dt.timedelta(minutes=2))},
               -- the listing answers the crawl's expand properties, not the corpus's modelId
               json_merge_patch(latest.payload, json_object(
                   'modelId', null, 'sha', listed.sha,
                   'lastModified', strftime(listed.last_modified_at, '%Y-%m-%dT%H:%M:%S.%gZ'),
                   'downloads', counters.downloads, 'downloadsAllTime', counters.downloads_all_time,
                   'likes', counters.likes, 'trendingScore', counters.trending_score))
        from latest
        inner join listed using (model_id)
        left join night_counters as counters using (model_id)
        """
    )
    pages, listed = _land_pages(
        con, crawl_id, _listing_url(endpoint, "lastModified", CRAWL_EXPAND), "raw_models", started
    )
    changed_models = int(con.execute("select count(*) from night_changes").fetchone()[0])
    con.execute(
        f"""
        insert into raw_cards
        select '{crawl_id}', model_id, {_ts(started + dt.timedelta(minutes=5))}, sha, 'ok', 200,
               text, sha256(text), null
        from ({_cards_sql(night)})
        """
    )
    _record_crawl(
        con,
        crawl_id,
        mode="incremental",
        endpoint=endpoint,
        sort_by="lastModified",
        expand=CRAWL_EXPAND,
        started=started,
        pages=pages,
        models=listed,
        stop_before=stop_before,
        watermark_sql=f"""(
            select least(max(try_cast(payload ->> 'lastModified' as timestamptz)), {_ts(started)})
            from raw_models where crawl_id = '{crawl_id}'
        )""",
        hub_started=True,
    )
    rows = "downloads, downloads_all_time, likes, trending_score from night_counters"
    _land_sweep(con, "counters", "raw_model_counters", counters_id, counters_started, endpoint, rows)
    land_id_sweep(
        con,
        night,
        t0,
        endpoint,
        f"""
        select previous.model_id, previous.model_object_id,
               coalesce(night_changes.sha, previous.model_sha) as model_sha,
               coalesce(night_changes.last_modified_at, previous.last_modified_at) as last_modified_at,
               previous.gated, previous.is_disabled
        from raw_id_sweeps as previous left join night_changes using (model_id)
        where previous.crawl_id = '{previous_ids}'
        """,
    )
    _land_reconcile_and_run(con, night, t0, endpoint, listed=listed, changed=changed_models)
    con.execute("commit")


def _land_reconcile_and_run(con, night: int, t0: dt.datetime, endpoint: str, *, listed: int, changed: int) -> None:
    """The night's reconciliation (an empty ``reconcile`` crawl: the id sweep found nothing stale) and its
    ``pipeline_runs`` row, as the pipeline records them."""
    from hubgenome.core.settings import CRAWL_EXPAND
    from hubgenome.flows import landing

    started = _night_start(t0, night, "reconcile")
    _record_crawl(
        con,
        _crawl_id(started, "reconcile", night),
        mode="reconcile",
        endpoint=endpoint,
        sort_by=None,
        expand=CRAWL_EXPAND,
        started=started,
        pages=0,
        models=0,
    )
    crawl_ids = {
        mode: _crawl_id(_night_start(t0, night, mode), mode, night) for mode in ("incremental", "counters", "ids")
    }
    models = int(con.execute("select count(*) from raw_id_sweeps where crawl_id = ?", [crawl_ids["ids"]]).fetchone()[0])
    begun = _night_start(t0, night, "incremental")
    stages = [
        {"stage": stage, "state": "succeeded", "seconds": seconds, "detail": f"simulated night {night}"}
        for stage, seconds in (("crawl", 40.0), ("counters", 60.0), ("id_sweep", 60.0), ("reconcile", 1.0))
    ]
    stages += [
        {"stage": stage, "state": "succeeded", "seconds": 60.0, "detail": "simulated: built by the next build"}
        for stage in ("build", "audit")
    ]
    landing.record_pipeline_run(
        con,
        {
            "pipeline_run_id": _crawl_id(begun, "pipeline", night),
            "endpoint": endpoint,
            "started_at": begun,
            "finished_at": begun + dt.timedelta(minutes=55),
            "state": "succeeded",
            "crawl_id": crawl_ids["incremental"],
            "crawl_mode": "incremental",
            "crawl_resumed": False,
            "counters_crawl_id": crawl_ids["counters"],
            "id_sweep_crawl_id": crawl_ids["ids"],
            "models_listed": listed,
            "models_new": 0,
            "models_changed": changed,
            "models_deleted": 0,
            "counters_landed": models,
            "ids_landed": models,
            "cards_ok": changed,
            "cards_missing": 0,
            "cards_gated": 0,
            "cards_error": 0,
            "requests": 2 * -(-models // 1000) + -(-listed // 1000) + changed,
            "retries": 0,
            "throttled_429": 0,
            "rate_limit_wait_seconds": 0.0,
            "pacing_wait_seconds": 0.0,
            "stages": orjson.dumps(stages).decode(),
            "models_reconciled": 0,
            "models_skipped_private": 0,
            "cards_backlog_fetched": 0,
            "cards_backlog_remaining": 0,
            "cards_backlog_sample": [],
            "audit_missing": 0,
            "audit_stale": 0,
            "audit_extra": 0,
            "audit_private": 0,
        },
    )


def nights_landed(con) -> int:
    """Every night lands one id sweep (night 1's with its full crawl)."""
    return int(con.execute("select count(*) from crawl_runs where mode = 'ids'").fetchone()[0])


#: Disk left free beside the landing: the warehouse, its build copy and the served corpus.
DISK_MARGIN = 10 * 2**30


def _check_disk(raw_db: Path, per_night: float, nights_left: int) -> None:
    """Stop before the landing fills the disk: ``nights_left`` more nights of ``per_night`` bytes must fit."""
    import shutil

    need = per_night * nights_left + DISK_MARGIN
    free = shutil.disk_usage(raw_db.parent).free
    if need > free:
        msg = (
            f"the landing grows by {per_night / 1e6:,.0f} MB a simulated night: {nights_left} more nights and "
            f"{DISK_MARGIN / 2**30:.0f} GiB for the warehouse need {need / 1e9:,.1f} GB, {free / 1e9:,.1f} GB are "
            "free. Time fewer nights (the projection to 365 comes from the nights measured) or free disk space."
        )
        raise SystemExit(msg)


def extend_to(raw_db: Path, nights: int) -> None:
    """Add simulated nights until the landing holds ``nights`` nights."""
    from hubgenome.flows import landing

    con = landing.connect(raw_db)
    try:
        con.execute("set TimeZone = 'UTC'")
        con.execute("set enable_progress_bar = false")
        t0 = dt.datetime.fromisoformat(_meta(con, "bench.t0"))
        endpoint, changed = _meta(con, "bench.endpoint"), int(_meta(con, "bench.changed"))
        have = nights_landed(con)
        if nights > HISTORY_HORIZON_DAYS:
            msg = f"at most {HISTORY_HORIZON_DAYS} nights fit before the real clock"
            raise SystemExit(msg)
        if nights <= have:
            return
        _load_card_samples(con)
        started = time.perf_counter()
        size_before = raw_db.stat().st_size
        for night in range(have + 1, nights + 1):
            add_night(con, night, t0, endpoint, changed)
            if (night - have) % 10 == 0:
                con.execute("checkpoint")
                print(f"setup: night {night} landed ({time.perf_counter() - started:.0f} s)", flush=True)
                _check_disk(raw_db, (raw_db.stat().st_size - size_before) / (night - have), nights - night)
        con.execute("checkpoint")
        print(f"setup: nights {have + 1}..{nights} landed in {time.perf_counter() - started:.0f} s", flush=True)
    finally:
        con.close()


def write_served_corpus(corpus: Path, raw_db: Path, served: Path, night: int) -> int:
    """The corpus the Hub serves on the timed night ``night``: the landing's state after night ``night - 1``, evolved.

    Every corpus model with the sha and lastModified of its latest landed sighting and the
    counters of night ``night - 1``'s sweep (else the timed night's sweeps would see every simulated
    change undone), then night ``night``'s own changes, drawn as :func:`add_night` draws them: the
    changed models' new sha, lastModified and README (``cards-99.jsonl.gz``), and the night's counters.
    Returns how many models changed.
    """
    import duckdb

    served.mkdir(parents=True, exist_ok=True)
    for old in served.glob("*.jsonl.gz"):
        old.unlink()
    for path in [*corpus.glob("details-*.jsonl.gz"), *corpus.glob("cards-*.jsonl.gz")]:
        (served / path.name).symlink_to(path.resolve())
    con = duckdb.connect()
    try:
        con.execute("set TimeZone = 'UTC'")
        con.execute("set enable_progress_bar = false")
        con.execute(f"attach '{raw_db}' as landing (read_only)")
        con.execute("use landing")
        t0 = dt.datetime.fromisoformat(_meta(con, "bench.t0"))
        changed = int(_meta(con, "bench.changed"))
        _load_card_samples(con)
        changes = _changes_sql(con, night, t0, changed)
        counters = _counters_sql(_previous_counters_sql(con, night), night)
        last_ids = _last_id_sweep(con, night - 1)
        con.execute(f"create temporary table night_changes as {changes}")
        con.execute(f"create temporary table night_counters as {counters}")
        con.execute(
            f"""
            create temporary table served_state as
            select ids.model_id,
                   coalesce(night_changes.sha, ids.model_sha) as sha,
                   coalesce(night_changes.last_modified_at, ids.last_modified_at) as last_modified_at,
                   counters.downloads, counters.downloads_all_time, counters.likes, counters.trending_score
            from raw_id_sweeps as ids
            left join night_changes using (model_id)
            left join night_counters as counters using (model_id)
            where ids.crawl_id = '{last_ids}'
            """
        )
        files = [str(path) for path in sorted(corpus.glob("models-*.jsonl.gz"))]
        con.execute(
            f"""
            copy (
                with corpus as (
                    select row_number() over () as position, json_extract_string(json, '$.id') as model_id, json
                    from read_ndjson_objects(?, format = 'newline_delimited', compression = 'gzip')
                )
                select case when state.model_id is null then corpus.json else json_merge_patch(corpus.json, json_object(
                    'sha', state.sha,
                    'lastModified', strftime(state.last_modified_at, '%Y-%m-%dT%H:%M:%S.%gZ'),
                    'downloads', state.downloads, 'downloadsAllTime', state.downloads_all_time,
                    'likes', state.likes, 'trendingScore', state.trending_score)) end as json
                from corpus left join served_state as state using (model_id)
                order by corpus.position
            ) to '{served / "models-00.jsonl.gz"}'
                (format csv, header false, quote '', escape '', delimiter '\\x01', compression gzip)
            """,
            [files],
        )
        con.execute(
            f"""
            copy (
                select json_object('id', model_id, 'readme', text) as json
                from ({_cards_sql(night)}) order by model_id
            ) to '{served / "cards-99.jsonl.gz"}'
                (format csv, header false, quote '', escape '', delimiter '\\x01', compression gzip)
            """
        )
        return int(con.execute("select count(*) from night_changes").fetchone()[0])
    finally:
        con.close()


def slice_corpus(source: Path, target: Path, models: int) -> Path:
    """The first ``models`` objects of ``source`` (and their details) as a corpus in ``target`` (kept once made)."""
    import duckdb

    if list(target.glob("models-*.jsonl.gz")):
        return target
    target.mkdir(parents=True, exist_ok=True)
    copy_options = "(format csv, header false, quote '', escape '', delimiter '\\x01', compression gzip)"
    con = duckdb.connect()
    try:
        con.execute("set enable_progress_bar = false")
        con.execute(
            "create table sliced as select json from read_ndjson_objects(?, format = 'newline_delimited') limit ?",
            [[str(path) for path in sorted(source.glob("models-*.jsonl.gz"))], models],
        )
        con.execute(f"copy sliced to '{target / 'models-00.jsonl.gz'}' {copy_options}")
        details = [str(path) for path in sorted(source.glob("details-*.jsonl.gz"))]
        if details:
            con.execute(
                f"""
                copy (
                    select json from read_ndjson_objects(?, format = 'newline_delimited')
                    where json_extract_string(json, '$.id') in (select json_extract_string(json, '$.id') from sliced)
                ) to '{target / "details-00.jsonl.gz"}' {copy_options}
                """,
                [details],
            )
    finally:
        con.close()
    return target


def _free_port() -> int:
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _landing_size(raw_db: Path) -> tuple[int, int]:
    """(file bytes, bytes in used blocks) of the landing after a CHECKPOINT.

    Used blocks count what the landing holds even where a restored timed night left free blocks
    that later rows fill without growing the file.
    """
    import duckdb

    con = duckdb.connect(str(raw_db))
    try:
        con.execute("checkpoint")
        block_size, used_blocks = con.execute("select block_size, used_blocks from pragma_database_size()").fetchone()
    finally:
        con.close()
    return raw_db.stat().st_size, int(block_size) * int(used_blocks)


def _used_bytes(database: Path) -> int:
    """Bytes in the used blocks of a (checkpointed) DuckDB file: the file less its free blocks."""
    import duckdb

    with duckdb.connect(str(database), read_only=True) as con:
        block_size, used_blocks = con.execute("select block_size, used_blocks from pragma_database_size()").fetchone()
    return int(block_size) * int(used_blocks)


def restore_landing(raw_db: Path) -> None:
    """Take a timed night's rows out of the landing again (its crawls and pipeline run), if one is recorded.

    The simulated nights run up to a day before the real clock; the timed night runs at the real
    clock, so it cannot stay in the landing that later simulated nights extend.
    """
    from hubgenome.flows import landing

    con = landing.connect(raw_db)
    try:
        since = _meta(con, "bench.timed_since")
        if since is None:
            return
        since_at = dt.datetime.fromisoformat(since)
        con.execute("begin transaction")
        new_crawls = "select crawl_id from crawl_runs where started_at >= ?"
        for table in (*_CRAWL_TABLES, "crawl_pages", "reconcile_gone"):
            con.execute(f"delete from {table} where crawl_id in ({new_crawls})", [since_at])
        con.execute("delete from crawl_runs where started_at >= ?", [since_at])
        con.execute("delete from pipeline_runs where started_at >= ?", [since_at])
        _set_meta(con, "bench.timed_since", None)
        con.execute("commit")
        con.execute("checkpoint")
    finally:
        con.close()


def _timed(module, name: str, seconds: list[float]):
    """Wrap ``module.name`` so each call adds its wall time to ``seconds`` (no-op when it does not exist)."""
    original = getattr(module, name, None)
    if original is None:
        return

    def timed(*args, **kwargs):
        started = time.perf_counter()
        try:
            return original(*args, **kwargs)
        finally:
            seconds.append(time.perf_counter() - started)

    setattr(module, name, timed)


def _build_options(*, analytics: bool, full_refresh: bool):
    import dataclasses

    from hubgenome.flows.options import BuildOptions

    if full_refresh and "full_refresh" not in {field.name for field in dataclasses.fields(BuildOptions)}:
        msg = (
            "BuildOptions has no full_refresh: this checkout's builds are not incremental yet (issue 13). "
            "bench/nightly.py --nights needs incremental builds (the warehouse after night N-1 comes from one "
            "full-refresh build); rerun it on a checkout that has them."
        )
        raise SystemExit(msg)
    return BuildOptions(analytics=analytics, full_refresh=True) if full_refresh else BuildOptions(analytics=analytics)


def _snapshot_dbt_project(work: Path) -> str:
    """Copy the dbt project the builds run into ``work/dbt-project``; returns its fingerprint.

    A bench of many nights runs for hours: a checkout whose dbt project is edited meanwhile would
    make the timed night's build a full refresh (the project differs from the warehouse's). Every
    build of one bench run uses the project as it was when the run started.
    """
    import shutil

    from hubgenome.core.paths import dbt_project_dir
    from hubgenome.flows import build_state

    snapshot = work / "dbt-project"
    if snapshot.exists():
        shutil.rmtree(snapshot)
    shutil.copytree(dbt_project_dir(), snapshot, ignore=shutil.ignore_patterns("target", "logs", "__pycache__"))
    fingerprint = getattr(build_state, "project_fingerprint", None)
    return fingerprint(snapshot) if fingerprint else "-"


def _use_dbt_snapshot(snapshot: Path, *modules) -> None:
    """Make the builds of this (child) process run the snapshot of :func:`_snapshot_dbt_project`."""
    from hubgenome.flows import build_state

    if not snapshot.exists():
        return
    for module in (*modules, build_state):
        if hasattr(module, "dbt_project_dir"):
            module.dbt_project_dir = lambda: snapshot


def history_child(kind: str, data_dir: Path, url: str | None, analytics: bool, out: Path) -> None:
    """In a fresh child process: the untimed full refresh (``refresh``) or the timed night (``night``).

    Writes its figures as JSON to ``out``: walls, the dbt and analytics parts of the build, and this
    process's peak RSS (the Hub's is its own process's).
    """
    configure_prefect(data_dir)
    os.environ.setdefault("PREFECT_LOGGING_TO_API_WHEN_MISSING_FLOW", "ignore")
    from hubgenome.flows import analytics_stage
    from hubgenome.flows import build as build_module

    _use_dbt_snapshot(data_dir.parent / "dbt-project", build_module)
    dbt_seconds: list[float] = []
    analytics_seconds: list[float] = []
    _timed(build_module, "run_dbt", dbt_seconds)  # includes the copy of the published warehouse
    _timed(analytics_stage, "analytics_before_publish", analytics_seconds)
    figures: dict = {}
    started = time.perf_counter()
    if kind == "refresh":
        result = build_module.build_and_publish(data_dir, _build_options(analytics=analytics, full_refresh=True))
        figures["build_mode"] = getattr(result, "build_mode", "full_refresh")
        figures["wall"] = time.perf_counter() - started
        figures["build"] = figures["wall"]
    else:
        from hubgenome.flows.hub_client import HubClient
        from hubgenome.flows.options import PipelineOptions
        from hubgenome.flows.pipeline import run_pipeline

        options = PipelineOptions(id_sweep="always", build=_build_options(analytics=analytics, full_refresh=False))
        summary = run_pipeline(client=HubClient(url), data_dir=data_dir, options=options, show_progress=False)
        figures["wall"] = time.perf_counter() - started
        figures["stages"] = [(stage.stage, stage.state, stage.seconds, stage.detail) for stage in summary.stages]
        figures["build"] = next((stage.seconds for stage in summary.stages if stage.stage == "build"), None)
        figures["build_mode"] = getattr(summary, "build_mode", None)
        figures["build_mode_reason"] = getattr(summary, "build_mode_reason", None)
        figures["waits"] = summary.rate_limit_wait_seconds + summary.pacing_wait_seconds
        figures["counts"] = {
            "new": summary.models_new,
            "changed": summary.models_changed,
            "reconciled": summary.models_reconciled,
            "cards": summary.cards,
            "requests": summary.requests,
            "audit": [summary.audit_missing, summary.audit_stale, summary.audit_extra],
        }
    figures["dbt"] = sum(dbt_seconds)
    figures["analytics"] = sum(analytics_seconds) if analytics else None
    figures["peak_rss_gib"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20
    out.write_text(orjson.dumps(figures).decode())


def _run_child(kind: str, work: Path, *, url: str | None, analytics: bool) -> dict:
    out = work / f"child-{kind}.json"
    out.unlink(missing_ok=True)
    log = work / f"child-{kind}.log"
    command = [sys.executable, __file__, "--history-child", kind, "--work", str(work), "--child-out", str(out)]
    if url:
        command += ["--child-url", url]
    if not analytics:
        command.append("--no-analytics")
    with log.open("w") as handle:
        done = subprocess.run(command, stdout=handle, stderr=subprocess.STDOUT, check=False, cwd=REPO)
    if done.returncode != 0 or not out.exists():
        sys.stderr.write(log.read_text()[-6000:])
        msg = f"the {kind} child failed (exit {done.returncode}); its output is in {log}"
        raise SystemExit(msg)
    return orjson.loads(out.read_text())


def _fit(points: list[tuple[int, float]], at: int) -> tuple[float, float]:
    """The least-squares line through ``points`` (night, value): (its value at night ``at``, its slope)."""
    count = len(points)
    mean_x = sum(x for x, _ in points) / count
    mean_y = sum(y for _, y in points) / count
    spread = sum((x - mean_x) ** 2 for x, _ in points)
    slope = sum((x - mean_x) * (y - mean_y) for x, y in points) / spread if spread else 0.0
    return mean_y + slope * (at - mean_x), slope


def run_history(args: argparse.Namespace, corpus: Path, work: Path, nights: list[int]) -> None:
    """``--nights``: for each N, the landing of N-1 simulated nights, one full refresh, then night N timed."""
    sys.stdout.reconfigure(line_buffering=True)
    data_dir = work / "data"
    raw_db = data_dir / "raw.duckdb"
    warehouse = data_dir / "warehouse.duckdb"
    analytics = not args.no_analytics
    _build_options(analytics=analytics, full_refresh=True)  # fail now, not after an hour of setup
    fingerprint = _snapshot_dbt_project(work)
    models = _count_models(corpus)
    changed = args.changed or 30_000
    if args.changed is None and models < 300_000:
        changed = max(1, round(30_000 * models / WHOLE_HUB))
    print(
        f"history bench: {models:,} models in {corpus}; {changed:,} changed models and cards a night; "
        f"nights {', '.join(map(str, nights))}; analytics {'on' if analytics else 'off'}; work {work}; "
        f"dbt project as of now (fingerprint {fingerprint})"
    )
    data_dir.mkdir(parents=True, exist_ok=True)
    if raw_db.exists():
        restore_landing(raw_db)  # a timed night interrupted before it was taken out again
        import duckdb

        with duckdb.connect(str(raw_db), read_only=True) as con:
            landed_corpus, landed_changed = _meta(con, "bench.corpus"), _meta(con, "bench.changed")
            have = nights_landed(con)
        if landed_corpus != str(corpus) or landed_changed != str(changed):
            msg = f"{raw_db} was landed from {landed_corpus} with {landed_changed} changed a night: use another --work"
            raise SystemExit(msg)
        if have > nights[0] - 1:
            msg = f"{raw_db} already holds {have} nights, more than night {nights[0]} needs: use another --work"
            raise SystemExit(msg)
    else:
        land_first_night(corpus, raw_db, f"http://127.0.0.1:{_free_port()}", changed)
    rows: list[dict] = []
    for night in nights:
        extend_to(raw_db, night - 1)
        started = time.perf_counter()
        refresh = _run_child("refresh", work, url=None, analytics=analytics)
        print(
            f"setup: night {night - 1}'s warehouse by one full refresh in {time.perf_counter() - started:.0f} s "
            f"(dbt {refresh['dbt']:.1f} s, peak RSS {refresh['peak_rss_gib']:.2f} GiB; not timed)"
        )
        file_before, used_before = _landing_size(raw_db)
        started = time.perf_counter()
        changed_tonight = write_served_corpus(corpus, raw_db, work / "served", night)
        seconds = time.perf_counter() - started
        print(f"setup: served corpus of night {night} ({changed_tonight:,} changed) in {seconds:.0f} s")
        import duckdb

        with duckdb.connect(str(raw_db)) as con:
            endpoint = _meta(con, "bench.endpoint")
            _set_meta(con, "bench.timed_since", dt.datetime.now(dt.UTC).isoformat())
        hub, url = start_hub(work / "served", port=int(endpoint.rsplit(":", 1)[1]))
        try:
            if url != endpoint:
                msg = f"the Hub serves at {url}, the landing's crawls are of {endpoint}"
                raise SystemExit(msg)
            figures = _run_child("night", work, url=url, analytics=analytics)
        finally:
            hub.terminate()
            hub.wait()
        file_after, used_after = _landing_size(raw_db)
        figures.update(
            night=night,
            landing_bytes=file_after,
            landing_growth=file_after - file_before,
            landing_used_growth=used_after - used_before,
            warehouse_bytes=warehouse.stat().st_size,
            warehouse_used_bytes=_used_bytes(warehouse),
            refresh_wall=refresh["wall"],
        )
        restore_landing(raw_db)
        rows.append(figures)
        first = rows[0]["wall"]
        print(
            f"night {night} (timed; nights 1..{night - 1} simulated): whole nightly {figures['wall']:.1f} s "
            f"({figures['wall'] / first:.2f}x night {rows[0]['night']}), rate-limit waits {figures['waits']:.1f} s"
        )
        for stage, state, seconds, detail in figures["stages"]:
            print(f"  {stage:<9} {state:<9} {seconds:8.1f} s  {detail}")
        analytics_wall = figures["analytics"] or 0.0
        print(
            f"  build {figures['build']:.1f} s = dbt {figures['dbt']:.1f} s (with the warehouse copy) + analytics "
            f"{analytics_wall:.1f} s + {figures['build'] - figures['dbt'] - analytics_wall:.1f} s other; "
            f"mode {figures['build_mode']} ({figures['build_mode_reason']})"
        )
        counts = figures["counts"]
        print(
            f"  changed {counts['changed']:,}, new {counts['new']:,}, reconciled {counts['reconciled']:,}; "
            f"cards {counts['cards']}; requests {counts['requests']:,}; audit missing/stale/extra {counts['audit']}"
        )
        print(
            f"  landing {file_after / 1e6:,.0f} MB, +{figures['landing_growth'] / 1e6:,.1f} MB this night "
            f"(used blocks +{figures['landing_used_growth'] / 1e6:,.1f} MB); warehouse "
            f"{figures['warehouse_bytes'] / 1e6:,.0f} MB ({figures['warehouse_used_bytes'] / 1e6:,.0f} MB in used "
            f"blocks); peak RSS {figures['peak_rss_gib']:.2f} GiB"
        )
        if figures["build_mode"] not in (None, "incremental"):
            print(f"  WARNING: night {night}'s build was not incremental: {figures['build_mode_reason']}")
    print()
    print(
        f"{'night':>6} {'nightly s':>10} {'x first':>8} {'build s':>8} {'dbt s':>7} {'analytics s':>12} "
        f"{'peak GiB':>9} {'warehouse MB':>13} {'landing MB':>11} {'growth MB':>10} {'full refresh s':>15}"
    )
    for row in rows:
        analytics_wall = f"{row['analytics']:.1f}" if row["analytics"] is not None else "-"
        print(
            f"{row['night']:>6} {row['wall']:>10.1f} {row['wall'] / rows[0]['wall']:>8.2f} {row['build']:>8.1f} "
            f"{row['dbt']:>7.1f} {analytics_wall:>12} {row['peak_rss_gib']:>9.2f} "
            f"{row['warehouse_bytes'] / 1e6:>13,.0f} {row['landing_bytes'] / 1e6:>11,.0f} "
            f"{max(row['landing_growth'], row['landing_used_growth']) / 1e6:>10,.1f} {row['refresh_wall']:>15.1f}"
        )
    if 365 not in nights and len(rows) >= 3:
        measured = ", ".join(str(row["night"]) for row in rows)
        walls = [(row["night"], row["wall"]) for row in rows]
        builds = [(row["night"], row["build"]) for row in rows]
        sizes = [(row["night"], row["landing_bytes"]) for row in rows]
        wall, wall_slope = _fit(walls, 365)
        build, build_slope = _fit(builds, 365)
        size, size_slope = _fit(sizes, 365)
        print(
            f"PROJECTION to night 365 (linear least-squares fit of the measured nights {measured}; not measured): "
            f"whole nightly {wall:.1f} s ({wall / rows[0]['wall']:.2f}x night {rows[0]['night']}; "
            f"{wall_slope:+.2f} s a night), build {build:.1f} s ({build_slope:+.2f} s a night), "
            f"landing {size / 1e9:,.1f} GB ({size_slope / 1e6:+,.0f} MB a night)"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", type=Path, help="a corpus folder (default: the 4x tiled hub-2024-07)")
    parser.add_argument(
        "--changed", type=int, help="models changed a night (default 30,000; --living: scaled to the corpus size)"
    )
    parser.add_argument("--work", type=Path, help="default: <data dir>/bench/nightly (--living: .../nightly-living)")
    parser.add_argument("--no-analytics", action="store_true")
    parser.add_argument(
        "--nights",
        help="history mode: the nights to time, comma-separated (e.g. 2,30,90); --living: how many nights (default 2)",
    )
    history = parser.add_argument_group("history mode (--nights 2,30,90)")
    history.add_argument(
        "--quick", action="store_true", help=f"the first {QUICK_MODELS:,} models of hub-2024-07 (a few minutes)"
    )
    history.add_argument("--history-child", choices=("refresh", "night"), help=argparse.SUPPRESS)
    history.add_argument("--child-out", type=Path, help=argparse.SUPPRESS)
    history.add_argument("--child-url", help=argparse.SUPPRESS)
    living = parser.add_argument_group("living-Hub mode")
    living.add_argument("--living", action="store_true", help="serve a living Hub and run --nights nights of events")
    living.add_argument("--recounted", type=int, help="counter changes a night (default: as many as --changed)")
    living.add_argument("--seed", type=int, default=7, help="seed of the Hub's events")
    args = parser.parse_args()
    if args.history_child:
        history_child(args.history_child, args.work / "data", args.child_url, not args.no_analytics, args.child_out)
        return
    history_mode = bool(args.nights) and not args.living
    if args.living:
        try:
            args.nights = int(args.nights or 2)
        except ValueError:
            parser.error("--living --nights takes one number of nights")
    elif args.quick and not history_mode:
        parser.error("--quick is for the history mode (--nights)")
    default_work = "nightly-living" if args.living else "nightly-history" if history_mode else "nightly"
    work = args.work or resolve_data_dir() / "bench" / (default_work + ("-quick" if args.quick else ""))
    work.mkdir(parents=True, exist_ok=True)
    if history_mode:
        try:
            nights = sorted({int(part) for part in args.nights.split(",") if part.strip()})
        except ValueError:
            nights = []
        if not nights or nights[0] < 2:
            parser.error("--nights takes nights from 2 on, comma-separated, e.g. 2,30,90")
        if args.quick and args.corpus is None:
            corpus = slice_corpus(HUB, work / f"corpus-{QUICK_MODELS}", QUICK_MODELS)
        else:
            corpus = args.corpus or resolve_data_dir() / "bench" / "hub-2024-07-x4"
            if args.corpus is None and not list(corpus.glob("models-*.jsonl.gz")):
                from bench.tile_corpus import tile_corpus

                tile_corpus(HUB, corpus, 4)
        run_history(args, corpus.resolve(), work.resolve(), nights)
        return
    corpus = args.corpus
    if corpus is None:
        corpus = resolve_data_dir() / "bench" / "hub-2024-07-x4"
        if not list(corpus.glob("models-*.jsonl.gz")):
            from bench.tile_corpus import tile_corpus

            tile_corpus(HUB, corpus, 4)
    if args.living:
        run_living(args, corpus, work)
        return
    data_dir = work / "data"
    # As the CLI does, before Prefect is first imported: its home under the data dir, telemetry off.
    configure_prefect(data_dir)
    # The bench calls run_pipeline, the plain function under the flow: its tasks run outside a flow
    # run, and Prefect would warn at each one that it has no flow run to send logs to.
    os.environ.setdefault("PREFECT_LOGGING_TO_API_WHEN_MISSING_FLOW", "ignore")
    from hubgenome.flows import landing
    from hubgenome.flows.corpus_import import import_corpus
    from hubgenome.flows.hub_client import HubClient
    from hubgenome.flows.options import BuildOptions, PipelineOptions
    from hubgenome.flows.pipeline import run_pipeline
    from hubgenome.flows.sweeps import run_sweep

    nightly = PipelineOptions(id_sweep="always", build=BuildOptions(analytics=not args.no_analytics))
    hub, url = start_hub(corpus)
    try:
        started = time.perf_counter()
        raw_db = data_dir / "raw.duckdb"
        if raw_db.exists():
            raw_db.unlink()
        data_dir.mkdir(parents=True, exist_ok=True)
        import_corpus(corpus, raw_db, mode="full", endpoint=url)
        run_sweep("ids", data_dir=data_dir, client=HubClient(url))
        print(f"setup: landed the first night in {time.perf_counter() - started:.0f} s")
    finally:
        hub.terminate()
        hub.wait()
    con = landing.connect(raw_db)
    watermark = landing.last_watermark(con, url)
    con.close()
    night = (watermark.replace(microsecond=0) + dt.timedelta(hours=12)).strftime("%Y-%m-%dT%H:%M:%S.000Z")
    started = time.perf_counter()
    changed, recounted = evolve_tiled(corpus, changed=args.changed or 30_000, night=night)
    print(f"setup: {len(changed):,} models changed, {recounted:,} recounted in {time.perf_counter() - started:.0f} s")
    # The evolved corpus served at the same address: the landing's crawls are of this endpoint.
    hub, new_url = start_hub(corpus, port=int(url.rsplit(":", 1)[1]))
    try:
        started = time.perf_counter()
        summary = run_pipeline(client=HubClient(new_url), data_dir=data_dir, options=nightly, show_progress=False)
        wall = time.perf_counter() - started
    finally:
        hub.terminate()
        hub.wait()
    peak_gib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20
    waits = summary.rate_limit_wait_seconds + summary.pacing_wait_seconds
    print(f"incremental night on {corpus.name}: {wall:.1f} s wall, {wall - waits:.1f} s without rate-limit waits")
    for stage in summary.stages:
        print(f"  {stage.stage:<9} {stage.state:<9} {stage.seconds:8.1f} s  {stage.detail}")
    print(
        f"  new {summary.models_new:,}, changed {summary.models_changed:,}, deleted {summary.models_deleted:,}; "
        f"cards {summary.cards}; requests {summary.requests:,}, 429s {summary.throttled_429}"
    )
    print(
        f"  rate-limit waits: {summary.rate_limit_wait_seconds:.1f} s (429) "
        f"+ {summary.pacing_wait_seconds:.1f} s (pacing)"
    )
    print(f"  peak RSS of the pipeline process: {peak_gib:.2f} GiB")


if __name__ == "__main__":
    main()
