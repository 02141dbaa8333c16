"""Benchmark how the warehouse build's cost grows with the nights of counter history (issue 13's baseline).

Every night's counters sweep lands one row per model, and the build recomputes the history marts
from every observation ever landed. This measures what that costs as nights accumulate, so the
incremental build of issue 13 has a baseline in the same units.

Setup (not timed): the corpus (default hub-2024-07; ``--tiled`` the 3.04M-model tiling of
``bench/tile_corpus.py``) is landed once as night 1, a full crawl (cached under ``--work``). Then,
for each N of ``--nights`` in ascending order, the landing is extended to N nights: nights 2..N
each add one succeeded ``counters`` crawl a day after the previous one, with one
``raw_model_counters`` row per model, as the nightly counters sweep lands them. A model's counters
change on a night with probability ``1 - exp(-downloads_30d / 30)``, the chance it was downloaded at
least once that day, as ``local_hub/server/_calibrate.py`` measured on hub-2024-07 (12 % of models a
day); otherwise they repeat the previous night's. Only counters are simulated: the listing rows of
changed models and new cards (30,000 a night in issue 13's goal) are not, so these figures are a
lower bound of a real night's growth.

Timed, in a fresh child process per N (after one untimed warm-up build, so dbt's first parse of
the project is charged to no night): ``dbt build`` of the warehouse (``build_and_publish`` without
analytics) and then the analytics step on the published file. Printed per N: dbt wall, analytics
wall, their sum, the child's peak RSS, landing rows and size, warehouse size, and each night's
build wall as a ratio of the first N's (issue 13's goal: night 365 ≤ 1.2 × night 2).

    .venv/bin/python bench/history.py [--nights 2,30,90] [--tiled] [--no-analytics] [--work DIR]
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

import duckdb

REPO = Path(__file__).resolve().parents[1]
# Run as a script, bench/ comes first on sys.path, and bench/analytics.py would shadow the package.
sys.path[:] = [entry for entry in sys.path if Path(entry or ".").resolve() != REPO / "bench"]
sys.path.insert(0, str(REPO))

from hubgenome.core.paths import resolve_data_dir  # noqa: E402

HUB = Path(os.environ.get("HUBGENOME_SHARED_DIR", REPO.parent / "shared")) / "hubdata" / "hub-2024-07"
ENDPOINT = "http://bench.invalid/history"


def land_first_night(corpus: Path, raw_db: Path) -> None:
    """Night 1: the corpus as one succeeded full crawl of ``ENDPOINT`` (skipped when already landed)."""
    from hubgenome.flows.corpus_import import import_corpus

    if raw_db.exists():
        return
    started = time.perf_counter()
    import_corpus(corpus, raw_db, mode="full", endpoint=ENDPOINT)
    print(f"night 1 landed from {corpus} in {time.perf_counter() - started:.0f} s")


def nights_landed(con: duckdb.DuckDBPyConnection) -> int:
    """Night 1 (the full crawl) plus one night per counters sweep."""
    return 1 + con.execute("select count(*) from crawl_runs where mode = 'counters'").fetchone()[0]


def add_night(con: duckdb.DuckDBPyConnection, night: int) -> None:
    """Land night ``night``'s counters sweep: every model, its counters changed with its daily chance."""
    first_started = con.execute("select min(started_at) from crawl_runs").fetchone()[0]
    started = first_started + dt.timedelta(days=night - 1)
    crawl_id = f"{started:%Y%m%dT%H%M%SZ}-counters-history{night:04d}"
    previous = con.execute(
        "select crawl_id from crawl_runs where mode = 'counters' order by started_at desc limit 1"
    ).fetchone()
    con.execute("begin transaction")
    if previous is None:
        # The first sweep starts from the listing's counters (json), one row per model.
        source = """
            select
                model_id,
                json_extract_string(payload, '$._id') as model_object_id,
                cast(json_extract(payload, '$.downloads') as bigint) as downloads,
                cast(json_extract(payload, '$.downloadsAllTime') as bigint) as downloads_all_time,
                cast(json_extract(payload, '$.likes') as bigint) as likes,
                cast(json_extract(payload, '$.trendingScore') as double) as trending_score
            from raw_models
        """
    else:
        source = f"""
            select model_id, model_object_id, downloads, downloads_all_time, likes, trending_score
            from raw_model_counters where crawl_id = '{previous[0]}'
        """
    con.execute(
        f"""
        insert into raw_model_counters
        with previous as ({source}),
        drawn as (
            select
                *,
                -- a deterministic uniform draw per (model, night)
                (hash(model_id, {night}) % 1000000) / 1000000.0 as draw,
                1 - exp(-coalesce(downloads, 0) / 30.0) as daily_chance
            from previous
        )
        select
            '{crawl_id}',
            model_id,
            model_object_id,
            (row_number() over (order by model_id) - 1) // 1000 as page_number,
            timestamp '{started:%Y-%m-%d %H:%M:%S}' at time zone 'UTC',
            case when draw < daily_chance
                then greatest(0, coalesce(downloads, 0) + cast(hash(model_id, {night}, 'd') % 7 as bigint) - 3)
                else downloads end,
            case when draw < daily_chance
                then coalesce(downloads_all_time, 0) + 1 + coalesce(downloads, 0) // 30
                else downloads_all_time end,
            case when draw < daily_chance / 20 then coalesce(likes, 0) + 1 else likes end,
            case when draw < daily_chance then round(coalesce(trending_score, 0) * 0.9, 3) else trending_score end
        from drawn
        """
    )
    models = con.execute(f"select count(*) from raw_model_counters where crawl_id = '{crawl_id}'").fetchone()[0]
    con.execute(
        """
        insert into crawl_runs (crawl_id, mode, endpoint, started_at, finished_at, state, models_landed)
        values (?, 'counters', ?, ?, ?, 'succeeded', ?)
        """,
        [crawl_id, ENDPOINT, started, started + dt.timedelta(minutes=10), models],
    )
    con.execute("commit")


def extend_to(raw_db: Path, nights: int) -> None:
    """Add counters sweeps until the landing holds ``nights`` nights."""
    from hubgenome.flows import landing

    con = landing.connect(raw_db)
    try:
        have = nights_landed(con)
        started = time.perf_counter()
        for night in range(have + 1, nights + 1):
            add_night(con, night)
        if nights > have:
            con.execute("checkpoint")
            print(f"nights {have + 1}..{nights} landed in {time.perf_counter() - started:.0f} s")
    finally:
        con.close()


def build_child(work: Path, analytics: bool) -> dict:
    """In this (child) process: the dbt build, then the analytics step; walls and peak RSS."""
    from hubgenome.core.settings import configure_prefect

    configure_prefect(work)
    from hubgenome.flows.analytics_stage import run_analytics_on
    from hubgenome.flows.build import build_and_publish
    from hubgenome.flows.options import BuildOptions

    started = time.perf_counter()
    result = build_and_publish(work, BuildOptions(analytics=False), raw_db=work / "raw.duckdb")
    dbt_wall = time.perf_counter() - started
    analytics_wall = None
    if analytics:
        started = time.perf_counter()
        run_analytics_on(result.warehouse, corpus_label="history-bench")
        analytics_wall = time.perf_counter() - started
    return {
        "dbt_wall": dbt_wall,
        "analytics_wall": analytics_wall,
        "peak_rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "slowest_nodes": sorted(
            ((name, seconds) for name, seconds in result.node_timings.items() if name.startswith("model.")),
            key=lambda item: -item[1],
        )[:5],
    }


def measure(work: Path, analytics: bool) -> dict:
    command = [sys.executable, __file__, "--child", "--work", str(work)]
    if not analytics:
        command.append("--no-analytics")
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        sys.stderr.write(done.stdout[-4000:] + done.stderr[-4000:])
        msg = f"the build of {work} failed (exit {done.returncode})"
        raise SystemExit(msg)
    return json.loads(done.stdout.strip().splitlines()[-1])


def landing_rows(raw_db: Path) -> int:
    with duckdb.connect(str(raw_db), read_only=True) as con:
        return con.execute("select count(*) from raw_model_counters").fetchone()[0]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--nights", default="2,30,90", help="comma-separated night counts, e.g. 2,30,90")
    parser.add_argument("--corpus", type=Path, help="a corpus folder (default: hub-2024-07, or --tiled)")
    parser.add_argument("--tiled", action="store_true", help="the 3.04M-model tiling of hub-2024-07")
    parser.add_argument("--no-analytics", action="store_true", help="time the dbt build only")
    parser.add_argument("--work", type=Path, help="default: <data dir>/bench/history[-tiled]")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(build_child(args.work, analytics=not args.no_analytics)))
        return

    nights = sorted({int(part) for part in args.nights.split(",") if part.strip()})
    if not nights or nights[0] < 1:
        parser.error("--nights takes positive night counts, e.g. 2,30,90")
    corpus = args.corpus
    if corpus is None and args.tiled:
        from bench.tile_corpus import tile_corpus

        corpus = resolve_data_dir() / "bench" / "hub-2024-07-x4"
        if not corpus.exists():
            tile_corpus(HUB, corpus, 4)
    corpus = corpus or HUB
    if not corpus.exists():
        raise SystemExit(f"no corpus at {corpus}: put shared/hubdata beside the checkout or pass --corpus")
    work = args.work or resolve_data_dir() / "bench" / ("history-tiled" if args.tiled else "history")
    work.mkdir(parents=True, exist_ok=True)
    raw_db = work / "raw.duckdb"
    land_first_night(corpus, raw_db)
    with duckdb.connect(str(raw_db), read_only=True) as con:
        if nights_landed(con) > nights[0]:
            raise SystemExit(f"{raw_db} already holds more than {nights[0]} nights: use a fresh --work")

    print(f"corpus {corpus}; analytics {'off' if args.no_analytics else 'on'}; work {work}")
    header = (
        f"{'night':>6} {'dbt s':>8} {'analytics s':>12} {'build s':>8} {'× first':>8} "
        f"{'peak RSS MiB':>13} {'counter rows':>14} {'landing MB':>11} {'warehouse MB':>13}"
    )
    rows = []
    for night in nights:
        extend_to(raw_db, night)
        if not (work / "dbt" / "target" / "partial_parse.msgpack").exists():
            # dbt's first parse of the project (seconds) would be charged to the first night.
            print("warm-up build (dbt parses the project once; not timed)", flush=True)
            measure(work, analytics=False)
        figures = measure(work, analytics=not args.no_analytics)
        build = figures["dbt_wall"] + (figures["analytics_wall"] or 0)
        first = rows[0][1] if rows else build
        rows.append((night, build))
        analytics_wall = f"{figures['analytics_wall']:.1f}" if figures["analytics_wall"] is not None else "-"
        if len(rows) == 1:
            print(header)
        print(
            f"{night:>6} {figures['dbt_wall']:>8.1f} {analytics_wall:>12} {build:>8.1f} {build / first:>8.2f} "
            f"{figures['peak_rss_mib']:>13,.0f} {landing_rows(raw_db):>14,} "
            f"{raw_db.stat().st_size / 1e6:>11,.0f} {(work / 'warehouse.duckdb').stat().st_size / 1e6:>13,.0f}",
            flush=True,
        )
        slowest = ", ".join(f"{name.split('.')[-1]} {seconds:.1f} s" for name, seconds in figures["slowest_nodes"])
        print(f"{'':>6} slowest dbt nodes: {slowest}", flush=True)


if __name__ == "__main__":
    main()
