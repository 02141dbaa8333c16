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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", type=Path, help="a corpus folder (default: the 4x tiled hub-2024-07)")
    parser.add_argument(
        "--changed", type=int, help="models changed a night (default 30,000; --living: scaled to the corpus size)"
    )
    parser.add_argument("--work", type=Path, help="default: <data dir>/bench/nightly (--living: .../nightly-living)")
    parser.add_argument("--no-analytics", action="store_true")
    living = parser.add_argument_group("living-Hub mode")
    living.add_argument("--living", action="store_true", help="serve a living Hub and run --nights nights of events")
    living.add_argument("--nights", type=int, default=2)
    living.add_argument("--recounted", type=int, help="counter changes a night (default: as many as --changed)")
    living.add_argument("--seed", type=int, default=7, help="seed of the Hub's events")
    args = parser.parse_args()
    work = args.work or resolve_data_dir() / "bench" / ("nightly-living" if args.living else "nightly")
    work.mkdir(parents=True, exist_ok=True)
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
