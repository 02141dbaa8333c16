"""The analytics step of the build: a Prefect task and the ``before_publish`` hook that runs it.

``hubgenome.flows.build.build_warehouse`` calls its ``before_publish`` hook with the freshly built file after
every dbt test passed and before the atomic publish; :func:`analytics_before_publish` opens that
file, runs :func:`hubgenome.analytics.run.run_analytics` and closes it, so a published warehouse always
carries analytics computed from its own marts. If the analytics fail, nothing is published.

    from hubgenome.flows.build import build_warehouse
    from hubgenome.flows.analytics_stage import analytics_before_publish
    build_warehouse(data_dir, before_publish=analytics_before_publish)

With a Dask scheduler named (``dask_address``; the CLI's ``--dask`` / ``HUBGENOME_DASK_ADDRESS``),
the similarity tables' scoring jobs run as ``score-similarity-partition`` tasks on its workers
(:func:`dask_partition_scorer`); everything else, and every write, stays in this process. The
tables are identical to the local path's.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

import duckdb
from hubgenome.analytics import similarity
from hubgenome.analytics.run import DEFAULT_SEED, AnalyticsResult, run_analytics
from prefect import task
from prefect.cache_policies import NO_CACHE

if TYPE_CHECKING:
    from hubgenome.flows.build import BuildResult


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
    from hubgenome.flows.scale_out import dask_task_runner, map_tasks

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
    """``build_warehouse(before_publish=...)`` hook: write the ``analytics`` schema into the build file.

    Runs the task's function directly (``.fn``) so it works inside or outside a Prefect flow run;
    inside a flow, call :func:`run_analytics_task` to get task-level retries and logging instead.
    """
    run_analytics_task.fn(str(path), dask_address=dask_address)


def build_and_analyse(
    data_dir: Path | None = None,
    *,
    raw_db: Path | None = None,
    warehouse: Path | None = None,
) -> BuildResult:
    """Build the warehouse with the analytics step before the publish; returns the ``BuildResult``.

    Examples
    --------
    >>> build_and_analyse(Path("data"))  # doctest: +SKIP
    """
    from hubgenome.flows.build import build_warehouse

    return build_warehouse(data_dir, raw_db=raw_db, warehouse=warehouse, before_publish=analytics_before_publish)
