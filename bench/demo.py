"""Benchmark of the synthetic demo Hub: generating the default demo corpus (3,000 models).

Goal: under 5 s, so ``make demo`` and the dashboard tests (which generate it once per session)
never wait on the generator. Generates the corpus ``--runs`` times with the default seed into a
temporary folder and prints each wall time, the best and the median, models/s and the files'
sizes; the same seed gives byte-identical files, so every run does the same work.

    .venv/bin/python bench/demo.py [--models 3000] [--runs 3]
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

from hubgenome.local_hub.demo import generate_corpus

GOAL_SECONDS = 5.0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", type=int, default=3000, help="models in the demo corpus (default: the demo's)")
    parser.add_argument("--runs", type=int, default=3, help="how many times to generate it")
    args = parser.parse_args()
    seconds = []
    with tempfile.TemporaryDirectory(prefix="bench-demo-") as work:
        for run in range(args.runs):
            started = time.perf_counter()
            manifest = generate_corpus(Path(work) / f"run-{run}", n_models=args.models)
            seconds.append(time.perf_counter() - started)
            print(f"  run {run + 1}: {seconds[-1]:.2f} s")
        sizes = {path.name: path.stat().st_size for path in sorted(manifest.corpus_dir.iterdir())}
    best, median = min(seconds), statistics.median(seconds)
    verdict = "met" if median < GOAL_SECONDS else "MISSED"
    print(f"demo corpus: {manifest.model_count:,} models, best {best:.2f} s, median {median:.2f} s")
    print(f"  {manifest.model_count / median:,.0f} models/s; goal < {GOAL_SECONDS:.0f} s: {verdict}")
    print("  files: " + ", ".join(f"{name} {size / 1024:,.0f} KiB" for name, size in sizes.items()))


if __name__ == "__main__":
    main()
