"""One pipeline night in a process of its own, on the simulated night clock, so a test can SIGKILL it.

``python -m tests.support.pipeline_night --night N --endpoint URL --data-dir DIR`` runs
:func:`hubgenome.flows.pipeline.run_pipeline` as night ``N`` of :class:`tests.support.night_clock.NightClock` (the same
dates the test process gives the nights it runs itself), with the id sweep every night and no
analytics, and prints ``started`` once the Prefect API answers.
"""

from __future__ import annotations

import argparse

from hubgenome.flows import landing
from hubgenome.flows.options import BuildOptions, CrawlOptions, PipelineOptions
from hubgenome.flows.pipeline import run_pipeline
from tests.support.crawling import fast_client
from tests.support.night_clock import NightClock


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--night", type=int, required=True)
    parser.add_argument("--endpoint", required=True)
    parser.add_argument("--data-dir", required=True)
    args = parser.parse_args()
    clock = NightClock()
    clock.night = args.night
    landing.utcnow = clock  # every timestamp the landing writes, as in the test process
    print("started", flush=True)
    run_pipeline(
        client=fast_client(args.endpoint, sleep=lambda _seconds: None),
        data_dir=args.data_dir,
        options=PipelineOptions(
            crawl=CrawlOptions(card_concurrency=4), build=BuildOptions(analytics=False), id_sweep="always"
        ),
        show_progress=False,
    )


if __name__ == "__main__":
    main()
