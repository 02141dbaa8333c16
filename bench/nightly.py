"""Benchmark one incremental night of the pipeline at whole-Hub scale (issue 6).

Setup (not timed): the 3.04M-model tiled corpus (``bench/tile_corpus.py``) is served by a local Hub
in a child process; the landing gets the corpus as one succeeded ``full`` crawl of that endpoint
(``flows.corpus_import.import_corpus``) plus one id sweep, as after a first night. Then
``--changed`` models get a new sha, ``lastModified`` and README (and as many others new counters)
and the Hub reloads.

Timed: ``run_pipeline`` (incremental crawl + cards of the changed models, counters sweep, id sweep,
build with the analytics step) in this process. Printed: the wall time of each stage, the time
spent waiting on the rate limit (429 waits + pacing) reported apart, and this process's peak RSS
(the Hub's memory is its child process's, not counted). Goal: ≤ 5 min without rate-limit waits,
≤ 8 GB.

    .venv/bin/python bench/nightly.py [--corpus DIR] [--changed 30000] [--work DIR] [--no-analytics]
"""

from __future__ import annotations

import argparse
import datetime as dt
import gzip
import hashlib
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

import orjson

from flows.settings import configure_prefect, resolve_data_dir

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


def start_hub(corpus: Path, port: int = 0) -> tuple[subprocess.Popen, str]:
    hub = subprocess.Popen(  # the Hub's memory stays out of this process's peak RSS
        [sys.executable, "-m", "flows.hub_server", "--corpus", str(corpus), "--port", str(port)],
        stdout=subprocess.PIPE,
        text=True,
        cwd=REPO,
    )
    url = hub.stdout.readline().strip()
    if not url.startswith("http"):
        msg = f"the local Hub did not start (said {url!r})"
        raise RuntimeError(msg)
    return hub, url


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", type=Path, help="a corpus folder (default: the 4x tiled hub-2024-07)")
    parser.add_argument("--changed", type=int, default=30_000)
    parser.add_argument("--work", type=Path, help="default: <data dir>/bench/nightly")
    parser.add_argument("--no-analytics", action="store_true")
    args = parser.parse_args()
    work = args.work or resolve_data_dir() / "bench" / "nightly"
    work.mkdir(parents=True, exist_ok=True)
    corpus = args.corpus
    if corpus is None:
        corpus = resolve_data_dir() / "bench" / "hub-2024-07-x4"
        if not list(corpus.glob("models-*.jsonl.gz")):
            from bench.tile_corpus import tile_corpus

            tile_corpus(HUB, corpus, 4)
    data_dir = work / "data"
    # As the CLI does, before Prefect is first imported: its home under the data dir, telemetry off.
    configure_prefect(data_dir)
    # The bench calls run_pipeline, the plain function under the flow: its tasks run outside a flow
    # run, and Prefect would warn at each one that it has no flow run to send logs to.
    os.environ.setdefault("PREFECT_LOGGING_TO_API_WHEN_MISSING_FLOW", "ignore")
    from flows import landing
    from flows.corpus_import import import_corpus
    from flows.hub_client import HubClient
    from flows.pipeline import run_pipeline
    from flows.sweeps import run_sweep

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
    changed, recounted = evolve_tiled(corpus, changed=args.changed, night=night)
    print(f"setup: {len(changed):,} models changed, {recounted:,} recounted in {time.perf_counter() - started:.0f} s")
    # The evolved corpus served at the same address: the landing's crawls are of this endpoint.
    hub, new_url = start_hub(corpus, port=int(url.rsplit(":", 1)[1]))
    try:
        started = time.perf_counter()
        summary = run_pipeline(
            endpoint=new_url, data_dir=data_dir, id_sweep="always", analytics=not args.no_analytics,
            show_progress=False,
        )  # fmt: skip
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
