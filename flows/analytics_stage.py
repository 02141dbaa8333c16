"""The analytics step of a warehouse build: the ``analytics`` schema computed into the build file.

:func:`hubgenome.flows.build.build_and_publish` calls :func:`analytics_before_publish` with the
freshly built file after every dbt test passed and before the atomic publish; it opens that file,
runs :func:`hubgenome.analytics.run.run_analytics` and closes it, so a published warehouse always
carries analytics computed from its own marts. If the analytics fail, nothing is published.

With a Dask scheduler named (``dask_address``; the CLI's ``--dask`` / ``HUBGENOME_DASK_ADDRESS``),
the similarity tables' scoring jobs run as ``score-similarity-partition`` tasks on its workers
(:func:`dask_partition_scorer`); everything else, and every write, stays in this process. The
tables are identical to the local path's.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import duckdb
from prefect import task
from prefect.cache_policies import NO_CACHE
from prefect.context import FlowRunContext, TaskRunContext

from hubgenome.analytics import similarity
from hubgenome.analytics.run import DEFAULT_SEED, AnalyticsResult, run_analytics
from hubgenome.flows.scale_out import dask_task_runner, map_tasks


@task(name="score-similarity-partition", retries=1, cache_policy=NO_CACHE)
def score_similarity_partition_task(job: similarity.ScoringJob) -> list[tuple]:
    """Score one (motif, config) sample of a similarity table: pair similarities and bootstrap intervals."""
    return similarity.score_job(job)


@contextmanager
def dask_partition_scorer(address: str) -> Iterator[similarity.PartitionScorer]:
    """A ``score_partitions`` for :func:`hubgenome.analytics.run.run_analytics` on the Dask cluster at ``address``.

    One connection for the block; each call submits one task per job and returns the results in
    job order.
    """
    with dask_task_runner(address) as runner:

        def score(jobs: list[similarity.ScoringJob]) -> list[list[tuple]]:
            return map_tasks(runner, score_similarity_partition_task, [{"job": job} for job in jobs])

        yield score


def run_analytics_on(
    path: Path, *, seed: int = DEFAULT_SEED, corpus_label: str | None = None, dask_address: str | None = None
) -> AnalyticsResult:
    """Open the warehouse file at ``path`` (writable), run the analytics into it and close it.

    ``dask_address`` scores the similarity samples on that Dask cluster; ``None`` runs all here.
    """
    path = Path(path)
    if not path.exists():
        msg = f"No warehouse file at {path}: build it first (`hubgenome build`)."
        raise FileNotFoundError(msg)
    with duckdb.connect(str(path)) as con:
        if dask_address:
            with dask_partition_scorer(dask_address) as scorer:
                result = run_analytics(con, seed=seed, corpus_label=corpus_label, score_partitions=scorer)
        else:
            result = run_analytics(con, seed=seed, corpus_label=corpus_label)
        con.execute("checkpoint")
    return result


@task(name="run-analytics", retries=1)
def run_analytics_task(
    path: str, seed: int = DEFAULT_SEED, corpus_label: str | None = None, dask_address: str | None = None
) -> AnalyticsResult:
    """Compute the "Anatomy" reproduction, lineage, drift, licence and safety tables into the warehouse."""
    return run_analytics_on(Path(path), seed=seed, corpus_label=corpus_label, dask_address=dask_address)


def analytics_before_publish(path: Path, dask_address: str | None = None) -> None:
    """The ``before_publish`` step of a build: write the ``analytics`` schema into the build file at ``path``.

    Inside a Prefect flow or task run (``hubgenome build``, the nightly pipeline, the demo) it runs
    as the ``run-analytics`` task, with its retry and its state and logs in Prefect; outside one (a
    test or benchmark building a warehouse directly) as a plain call, without Prefect.
    """
    if FlowRunContext.get() is not None or TaskRunContext.get() is not None:
        run_analytics_task(str(path), dask_address=dask_address)
    else:
        run_analytics_task.fn(str(path), dask_address=dask_address)
