"""The nightly pipeline SIGKILLed inside each stage in turn: the next run loses nothing and the
published warehouse is never half-built (issue 6's acceptance).

One prior night (a full crawl + build of a generated 200-model Hub) is built once per module, and
so is the reference: the next night run without interruption after the corpus changed (models
added, modified, deleted, counters changed). Each test copies the prior night, evolves the corpus
the same way, and runs ``hubgenome pipeline`` (the real CLI, in its own process group, on its own
ephemeral Prefect server) against a local Hub that answers slowly when a network stage is to be
killed, so that stage lasts seconds. The test watches real state to know which stage the run is
in -- the Hub's request counters, the run's own log lines, the build files beside the warehouse,
the published file's identity -- and kills the whole process group there. Then:

* the published ``warehouse.duckdb`` is byte for byte the previous complete one (or, killed just
  after the atomic rename, the new complete one): it opens read-only and has every table;
* the next run exits 0, leaves no ``warehouse.duckdb.building*`` file behind, and publishes a
  warehouse whose content (models, versions, lifecycle, lineage, families, counters, cards,
  analytics) equals the uninterrupted run's, apart from provenance (crawl ids, timestamps);
* ``fct_pipeline_runs`` shows the killed run as ``abandoned``.

A last test kills the very first night during its dbt build: no warehouse is published at all,
and the next run publishes the same content as an uninterrupted first night.
"""

from __future__ import annotations

import collections
import hashlib
import os
import re
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
import pytest

from hubgenome.flows.options import CrawlOptions, PipelineOptions
from hubgenome.flows.pipeline import run_pipeline
from hubgenome.local_hub.demo import generate_corpus
from hubgenome.local_hub.demo.synthetic import EvolutionManifest, evolve_corpus
from hubgenome.local_hub.server import HubBehaviour, LocalHub
from tests.support.crawling import fast_client

pytestmark = [pytest.mark.slow, pytest.mark.usefixtures("prefect_harness")]

REPO_ROOT = Path(__file__).resolve().parents[2]
WAREHOUSE = "warehouse.duckdb"
#: While a network stage is to be killed, every Hub answer takes a second: the kill lands mid-request.
SLOW_HUB = "slow=1:1.0;on=api,resolvers;seed=3"
CARD_CONCURRENCY = 4
EVOLUTION = {"seed": 1, "added": 12, "modified": 10, "deleted": 5, "counters_changed": 40}

#: Content compared between the killed-then-resumed and the uninterrupted night (analytics added):
#: tables and views (fct_family_daily is a view over fct_model_counters' intervals).
COMPARED_TABLES = (
    "main.dim_models",
    "main.fct_model_history",
    "main.dim_model_lifecycle",
    "main.fct_lineage_edges",
    "main.dim_families",
    "main.fct_license_conflicts",
    "main.fct_model_counters",
    "main.fct_family_daily",
    "staging.stg_hub__cards",
)
#: Provenance, not content: which crawl saw it, how often, when, where in the landing (timestamps and
#: dates are left out too, and so are the keys made of them: a counter interval's id is its model and
#: its start). A run killed after its sweeps landed leaves them in the landing and the next run sweeps
#: again, so a model has more sightings (landing rows that listed it) than after one uninterrupted
#: night, and the rows landed after the killed run's sit at later rowids (``landing_row_id``).
PROVENANCE = re.compile(
    r"(crawl_id|crawls_seen|sightings|fetch_count|observation_source|_row_id|_version_id|_day_id|_counter_id)$"
)
#: Rows compared: fct_family_daily has a row per family per UTC day with an observation, so a test
#: that crosses midnight has one more day than its reference (the prior night's state at that day's
#: end); the latest day, the state after the night, is the content.
COMPARED_ROWS = {
    "main.fct_family_daily": "where counter_date = (select max(counter_date) from main.fct_family_daily)",
}


# -- the prior night and the uninterrupted reference ------------------------------------------------


@dataclass(frozen=True)
class PriorNight:
    corpus: Path
    data_dir: Path
    port: int


@dataclass(frozen=True)
class Reference:
    content: dict[str, list[str]]
    tables: frozenset[str]
    evolution: EvolutionManifest


def _in_process_night(endpoint: str, data_dir: Path) -> None:
    summary = run_pipeline(
        client=fast_client(endpoint),
        data_dir=data_dir,
        options=PipelineOptions(crawl=CrawlOptions(card_concurrency=CARD_CONCURRENCY), id_sweep="always"),
        show_progress=False,
    )
    assert summary.state == "succeeded", summary.error


@pytest.fixture(scope="module")
def prior_night(tmp_path_factory: pytest.TempPathFactory, prefect_harness) -> PriorNight:
    root = tmp_path_factory.mktemp("prior-night")
    corpus, data_dir = root / "corpus", root / "data"
    generate_corpus(corpus, n_models=200, seed=11)
    with LocalHub(corpus) as hub:
        _in_process_night(hub.url, data_dir)
        port = hub.port
    return PriorNight(corpus, data_dir, port)


def _copy_night(prior: PriorNight, target: Path) -> tuple[Path, Path]:
    corpus, data_dir = target / "corpus", target / "data"
    shutil.copytree(prior.corpus, corpus)
    shutil.copytree(prior.data_dir, data_dir)
    return corpus, data_dir


@pytest.fixture(scope="module")
def reference(prior_night: PriorNight, tmp_path_factory: pytest.TempPathFactory) -> Reference:
    corpus, data_dir = _copy_night(prior_night, tmp_path_factory.mktemp("uninterrupted"))
    evolution = evolve_corpus(corpus, **EVOLUTION)
    with LocalHub(corpus, port=prior_night.port) as hub:
        _in_process_night(hub.url, data_dir)
    warehouse = data_dir / WAREHOUSE
    return Reference(_content(warehouse), _tables(warehouse), evolution)


@pytest.fixture(scope="module")
def prior_content(prior_night: PriorNight) -> dict[str, list[str]]:
    return _content(prior_night.data_dir / WAREHOUSE)


# -- reading warehouses -----------------------------------------------------------------------------


def _tables(warehouse: Path) -> frozenset[str]:
    with duckdb.connect(str(warehouse), read_only=True) as con:
        rows = con.execute(
            "select schema_name || '.' || table_name from duckdb_tables() "
            "union all select schema_name || '.' || view_name from duckdb_views() where not internal"
        ).fetchall()
    return frozenset(row[0] for row in rows)


def _content(warehouse: Path) -> dict[str, list[str]]:
    """Every compared table as sorted row reprs, without provenance columns."""
    content: dict[str, list[str]] = {}
    with duckdb.connect(str(warehouse), read_only=True) as con:
        analytics = [
            f"analytics.{name}"
            for (name,) in con.execute(
                "select table_name from duckdb_tables() where schema_name = 'analytics' and table_name <> 'run_info'"
            ).fetchall()
        ]
        for table in (*COMPARED_TABLES, *sorted(analytics)):
            schema, name = table.split(".")
            columns = [
                column
                for column, data_type in con.execute(
                    "select column_name, data_type from duckdb_columns() "
                    "where schema_name = ? and table_name = ? order by column_index",
                    [schema, name],
                ).fetchall()
                if "TIMESTAMP" not in data_type and data_type != "DATE" and not PROVENANCE.search(column)
            ]
            assert columns, f"{table} is not in {warehouse.name}, or has only provenance columns"
            selected = ", ".join(f'"{column}"' for column in columns)
            rows = con.execute(f"select {selected} from {table} {COMPARED_ROWS.get(table, '')}").fetchall()
            content[table] = sorted(repr(row) for row in rows)
    return content


def _differences(got: dict[str, list[str]], expected: dict[str, list[str]]) -> dict[str, dict[str, list[str]]]:
    """Per table, a few rows missing from ``got`` and a few it has in excess (empty when equal)."""
    differences = {}
    for table in sorted(set(got) | set(expected)):
        have, want = collections.Counter(got.get(table, [])), collections.Counter(expected.get(table, []))
        missing, extra = list((want - have).elements()), list((have - want).elements())
        if missing or extra or table not in got:
            differences[table] = {"missing": missing[:3], "extra": extra[:3]}
    return differences


def _pipeline_runs(warehouse: Path) -> list[tuple[str, bool | None]]:
    with duckdb.connect(str(warehouse), read_only=True) as con:
        return con.execute("select run_state, is_crawl_resumed from fct_pipeline_runs order by started_at").fetchall()


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _identity(path: Path) -> tuple[int, int, int] | None:
    try:
        stat = path.stat()
    except FileNotFoundError:
        return None
    return stat.st_ino, stat.st_mtime_ns, stat.st_size


def _build_files(data_dir: Path) -> list[str]:
    return sorted(path.name for path in data_dir.glob(f"{WAREHOUSE}.building*"))


# -- running and killing the CLI --------------------------------------------------------------------


def _cli_env(data_dir: Path) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        HUBGENOME_DATA_DIR=str(data_dir),
        PREFECT_HOME=str(data_dir / "prefect"),
        PREFECT_SERVER_ANALYTICS_ENABLED="false",
        CI="true",
    )
    env.pop("PREFECT_API_URL", None)  # its own ephemeral Prefect server, as from cron
    return env


def _pipeline_command(endpoint: str) -> list[str]:
    return [
        sys.executable,
        "-m",
        "hubgenome.cli",
        "pipeline",
        "--endpoint",
        endpoint,
        "--id-sweep",
        "always",
        "--card-concurrency",
        str(CARD_CONCURRENCY),
    ]


@dataclass
class Watch:
    """What the test can see of a running pipeline: the Hub's counters, the run's output, the files."""

    hub: LocalHub
    data_dir: Path
    published_before: tuple[int, int, int] | None
    lines: list[str] = field(default_factory=list)

    def saw(self, text: str) -> bool:
        return any(text in line for line in list(self.lines))

    def requests(self, bucket: str) -> int:
        return self.hub.stats()["by_bucket"].get(bucket, 0)

    def has(self, pattern: str) -> bool:
        return any(self.data_dir.glob(pattern))

    def republished(self) -> bool:
        now = _identity(self.data_dir / WAREHOUSE)
        return now is not None and now != self.published_before


@dataclass(frozen=True)
class Stage:
    """A point inside one stage, recognised from real state only."""

    name: str
    inside: Callable[[Watch], bool]
    publishes: bool = False  # killed after the atomic rename: the new complete warehouse serves
    crawl_resumed: bool = False  # the next run resumes tonight's interrupted crawl
    slow_hub: bool = True  # the stage talks to the Hub (build stages need no slowing down)


STAGES = [
    # the incremental listing's one page is in flight (the Hub holds every answer for 2 s)
    Stage("crawl-listing", lambda w: w.saw("-incremental-") and w.requests("api") >= 1, crawl_resumed=True),
    # listing landed; the first batch of cards answered, the second one in flight
    Stage(
        "crawl-cards",
        lambda w: w.saw("Listing done") and w.requests("resolvers") > CARD_CONCURRENCY,
        crawl_resumed=True,
    ),
    Stage("counters-sweep", lambda w: w.saw("counters sweep") and w.requests("api") >= 2),
    Stage("id-sweep", lambda w: w.saw("ids sweep") and w.requests("api") >= 3),
    # dbt is writing the build file under its stable name and has created tables in it
    Stage(
        "dbt-build",
        lambda w: w.has(f"{WAREHOUSE}.building") and w.saw("OK created sql table model"),
        slow_hub=False,
    ),
    # dbt finished (the file got its build id); the analytics step finished its first step and goes on
    Stage(
        "analytics",
        lambda w: w.has(f"{WAREHOUSE}.building-*") and w.saw("analytics: "),
        slow_hub=False,
    ),
    # the rename happened; the run has not finished recording itself
    Stage("publish", lambda w: w.republished(), publishes=True, slow_hub=False),
]


def _run_until_killed(hub: LocalHub, data_dir: Path, stage: Stage, timeout: float = 240) -> Watch:
    """Start ``hubgenome pipeline``, SIGKILL its process group once ``stage.inside`` holds; the output."""
    watch = Watch(hub, data_dir, _identity(data_dir / WAREHOUSE))
    process = subprocess.Popen(
        _pipeline_command(hub.url),
        env=_cli_env(data_dir),
        cwd=REPO_ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        start_new_session=True,  # its own process group: the kill takes the Prefect server too
    )
    reader = threading.Thread(
        target=lambda: watch.lines.extend(line.decode(errors="replace") for line in process.stdout), daemon=True
    )
    reader.start()
    try:
        deadline = time.monotonic() + timeout
        while not stage.inside(watch):
            if process.poll() is not None or time.monotonic() > deadline:
                pytest.fail(
                    f"the pipeline {'ended' if process.poll() is not None else 'stalled'} before it was inside "
                    f"stage {stage.name}:\n{''.join(watch.lines)[-4000:]}"
                )
            time.sleep(0.01)
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=30)
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=30)
        reader.join(timeout=30)
    assert process.returncode == -signal.SIGKILL, f"not killed in {stage.name}:\n{''.join(watch.lines)[-3000:]}"
    return watch


def _next_run(endpoint: str, data_dir: Path) -> str:
    done = subprocess.run(
        _pipeline_command(endpoint),
        env=_cli_env(data_dir),
        cwd=REPO_ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        timeout=600,
        check=False,
    )
    output = done.stdout.decode(errors="replace")
    assert done.returncode == 0, output[-4000:]
    return output


# -- the tests --------------------------------------------------------------------------------------


@pytest.mark.parametrize("stage", STAGES, ids=[stage.name for stage in STAGES])
def test_a_run_killed_inside_a_stage_loses_nothing_and_never_publishes_half_a_warehouse(
    stage: Stage, prior_night: PriorNight, reference: Reference, tmp_path: Path
) -> None:
    corpus, data_dir = _copy_night(prior_night, tmp_path)
    evolve_corpus(corpus, **EVOLUTION)
    warehouse = data_dir / WAREHOUSE
    before = _sha256(warehouse)

    with LocalHub(corpus, HubBehaviour(faults=SLOW_HUB if stage.slow_hub else None), port=prior_night.port) as hub:
        _run_until_killed(hub, data_dir, stage)

    # What the dashboard serves right after the kill: a complete warehouse, never a partial one.
    assert _tables(warehouse) == reference.tables
    if stage.publishes:
        assert _sha256(warehouse) != before
        assert _differences(_content(warehouse), reference.content) == {}
    else:
        assert _sha256(warehouse) == before
    assert not warehouse.with_name(f"{WAREHOUSE}.wal").exists()

    with LocalHub(corpus, port=prior_night.port) as hub:
        output = _next_run(hub.url, data_dir)
    assert "succeeded" in output
    assert _build_files(data_dir) == []  # nothing half-built left behind either
    assert _tables(warehouse) == reference.tables
    assert _differences(_content(warehouse), reference.content) == {}
    runs = _pipeline_runs(warehouse)
    assert [state for state, _ in runs[:1] + runs[2:]] == ["succeeded", "running"]
    assert runs[1][0] in (("succeeded", "abandoned") if stage.publishes else ("abandoned",))
    assert runs[2][1] is stage.crawl_resumed


def test_a_first_night_killed_in_its_build_publishes_nothing_and_the_next_run_builds_it_all(
    prior_night: PriorNight, prior_content: dict[str, list[str]], tmp_path: Path
) -> None:
    corpus, data_dir = tmp_path / "corpus", tmp_path / "data"
    shutil.copytree(prior_night.corpus, corpus)
    dbt_build = next(stage for stage in STAGES if stage.name == "dbt-build")
    with LocalHub(corpus, port=prior_night.port) as hub:
        watch = _run_until_killed(hub, data_dir, dbt_build)
    assert watch.saw("-full-")  # it was the first night: a full crawl
    assert not (data_dir / WAREHOUSE).exists()  # nothing published, not even a partial file

    with LocalHub(corpus, port=prior_night.port) as hub:
        _next_run(hub.url, data_dir)
    warehouse = data_dir / WAREHOUSE
    assert _build_files(data_dir) == []
    assert _tables(warehouse) == _tables(prior_night.data_dir / WAREHOUSE)
    assert _differences(_content(warehouse), prior_content) == {}
    assert [state for state, _ in _pipeline_runs(warehouse)] == ["abandoned", "running"]
