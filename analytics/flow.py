"""The analytics step of the build: a Prefect task and the ``before_publish`` hook that runs it.

``flows.build.build_warehouse`` calls its ``before_publish`` hook with the freshly built file after
every dbt test passed and before the atomic publish; :func:`analytics_before_publish` opens that
file, runs :func:`analytics.run.run_analytics` and closes it, so a published warehouse always
carries analytics computed from its own marts. If the analytics fail, nothing is published.

    from flows.build import build_warehouse
    from analytics.flow import analytics_before_publish
    build_warehouse(data_dir, before_publish=analytics_before_publish)
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import duckdb
from prefect import task

from analytics.run import DEFAULT_SEED, AnalyticsResult, run_analytics

if TYPE_CHECKING:
    from flows.build import BuildResult


def run_analytics_on(path: Path, *, seed: int = DEFAULT_SEED, corpus_label: str | None = None) -> AnalyticsResult:
    """Open the warehouse file at ``path`` (writable), run the analytics into it and close it."""
    path = Path(path)
    if not path.exists():
        msg = f"No warehouse file at {path}: build it first (`hubgenome build`)."
        raise FileNotFoundError(msg)
    with duckdb.connect(str(path)) as con:
        result = run_analytics(con, seed=seed, corpus_label=corpus_label)
        con.execute("checkpoint")
    return result


@task(name="run-analytics", retries=1)
def run_analytics_task(path: str, seed: int = DEFAULT_SEED, corpus_label: str | None = None) -> AnalyticsResult:
    """Compute the "Anatomy" reproduction, lineage, drift, licence and safety tables into the warehouse."""
    return run_analytics_on(Path(path), seed=seed, corpus_label=corpus_label)


def analytics_before_publish(path: Path) -> None:
    """``build_warehouse(before_publish=...)`` hook: write the ``analytics`` schema into the build file.

    Runs the task's function directly (``.fn``) so it works inside or outside a Prefect flow run;
    inside a flow, call :func:`run_analytics_task` to get task-level retries and logging instead.
    """
    run_analytics_task.fn(str(path))


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
    from flows.build import build_warehouse

    return build_warehouse(data_dir, raw_db=raw_db, warehouse=warehouse, before_publish=analytics_before_publish)
