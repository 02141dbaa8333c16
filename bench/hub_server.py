"""Benchmark of the local Hub server on the whole-Hub corpus (hub-2024-07, 760,000 models).

Starts ``python -m hubgenome.local_hub.server`` as its own process (so the client does not share its GIL),
then pages through the whole listing with a plain httpx2 client, the way the crawler does, and
prints: corpus load time, server RSS (current and peak), wall time for all pages, pages/s,
models/s and the server's own time per page (from its ``Server-Timing`` header).

Usage: ``python bench/hub_server.py [--corpus PATH] [--sort createdAt] [--expand crawl|none|full]``
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

import httpx2

REPO_ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO_ROOT))

from hubgenome.core.settings import CRAWL_EXPAND  # noqa: E402

DEFAULT_CORPUS = Path(os.environ.get("HUBGENOME_HUBDATA", REPO_ROOT.parent / "shared" / "hubdata")) / "hub-2024-07"


def _rss_mb(pid: int) -> tuple[float, float]:
    """(current, peak) resident memory of a process in MB, from /proc."""
    fields = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        key, _, value = line.partition(":")
        fields[key] = value.strip()
    return int(fields["VmRSS"].split()[0]) / 1024, int(fields["VmHWM"].split()[0]) / 1024


def _params(mode: str, sort: str) -> list[tuple[str, str]]:
    params = [("sort", sort), ("limit", "1000")]
    if mode == "crawl":
        params += [("expand[]", prop) for prop in CRAWL_EXPAND]
    elif mode == "full":
        params.append(("full", "true"))
    return params


def crawl(url: str, mode: str, sort: str) -> dict[str, float]:
    """Page through the whole listing; returns wall time, counts and server time per page."""
    server_ms: list[float] = []
    models = pages = 0
    started = time.perf_counter()
    with httpx2.Client(timeout=60) as client:
        response = client.get(f"{url}/api/models", params=_params(mode, sort))
        while True:
            response.raise_for_status()
            models += len(response.json())
            pages += 1
            server_ms.append(float(response.headers["server-timing"].split("dur=")[1]))
            next_url = response.links.get("next", {}).get("url")
            if next_url is None:
                break
            response = client.get(next_url)
    wall = time.perf_counter() - started
    return {
        "wall": wall,
        "pages": pages,
        "models": models,
        "server_mean": statistics.fmean(server_ms),
        "server_p50": statistics.median(server_ms),
        "server_p95": sorted(server_ms)[int(0.95 * (len(server_ms) - 1))],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", type=Path, default=DEFAULT_CORPUS)
    parser.add_argument("--sort", default="createdAt")
    parser.add_argument("--expand", choices=("crawl", "none", "full"), nargs="+", default=["crawl", "none"])
    args = parser.parse_args()

    started = time.perf_counter()
    server = subprocess.Popen(
        [sys.executable, "-m", "hubgenome.local_hub.server", "--corpus", str(args.corpus), "--port", "0"],
        cwd=REPO_ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        url = server.stdout.readline().strip()  # type: ignore[union-attr]
        if not url:
            raise SystemExit(f"server did not start: {server.stderr.read()}")  # type: ignore[union-attr]
        ready = time.perf_counter() - started
        rss, peak = _rss_mb(server.pid)
        stats = httpx2.get(f"{url}/_hubgenome/stats").json()["corpus"]
        print(f"corpus            {args.corpus.name}: {stats['models']:,} models")
        print(f"load (index)      {stats['load_seconds']:.1f} s   (process start to listening: {ready:.1f} s)")
        print(f"server RSS        {rss:,.0f} MB after load (peak {peak:,.0f} MB)")
        for mode in args.expand:
            result = crawl(url, mode, args.sort)
            rss, peak = _rss_mb(server.pid)
            print(
                f"listing [{mode:5}]   {result['pages']} pages, {result['models']:,} models in {result['wall']:.1f} s"
                f" = {result['pages'] / result['wall']:.0f} pages/s, {result['models'] / result['wall']:,.0f} models/s;"
                f" server per page mean {result['server_mean']:.1f} ms, p50 {result['server_p50']:.1f},"
                f" p95 {result['server_p95']:.1f}; RSS {rss:,.0f} MB (peak {peak:,.0f})"
            )
    finally:
        server.terminate()
        server.wait(timeout=30)


if __name__ == "__main__":
    main()
