"""The ``hubgenome`` command: thin wrappers that parse options and call the plain functions and flows.

Heavy modules (Prefect, dbt, the server) are imported inside each command, after the data
directory and Prefect's settings are in place, so ``hubgenome --help`` stays instant.

The data directory is resolved once, by the group's callback (``--data-dir``, else
``HUBGENOME_DATA_DIR``, else ``./data``), and handed to each command through typer's context
(``ctx.obj``); commands pass it on explicitly, never through the process environment.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from hubgenome.core.errors import HubgenomeError
from hubgenome.core.paths import paths, resolve_data_dir
from hubgenome.core.settings import configure_prefect, resolve_endpoint
from hubgenome.local_hub.server._command import serve_hub

app = typer.Typer(
    name="hubgenome",
    help="Crawl the Hugging Face Hub into DuckDB and study its model ecosystem.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
console = Console(stderr=True)

#: ``--dask ADDRESS`` of the commands whose heavy work can run on a Dask cluster (see flows/scale_out.py).
DaskOption = Annotated[
    str | None,
    typer.Option(
        "--dask",
        envvar="HUBGENOME_DASK_ADDRESS",
        help="Dask scheduler (e.g. tcp://scheduler:8786) whose workers fetch cards and score similarity samples. "
        "Default: all work in this process.",
    ),
]


#: ``--include-private`` of the commands that crawl (private repos are skipped by default).
IncludePrivateOption = Annotated[
    bool,
    typer.Option(
        "--include-private/--public-only",
        help="Also land private repos your token can see (marked; never in the public marts). Default: skip them.",
    ),
]
#: ``--full-refresh`` of the commands that build the warehouse.
FullRefreshOption = Annotated[
    bool,
    typer.Option(
        "--full-refresh",
        help="Rebuild the warehouse from the whole landing. Default: start from a copy of the published "
        "warehouse and process only the landing rows added since (a full refresh when that is not possible).",
    ),
]
#: ``--card-backlog N`` of the commands that crawl.
CardBacklogOption = Annotated[
    int, typer.Option(help="Cards owed by earlier crawls (errors, reconciled models) to fetch, oldest first.")
]


@app.callback()
def _main(
    ctx: typer.Context,
    data_dir: Annotated[
        Path | None,
        typer.Option(
            "--data-dir",
            envvar="HUBGENOME_DATA_DIR",
            help="Where every file hubgenome writes goes (raw.duckdb, warehouse.duckdb, ...). Default: ./data",
        ),
    ] = None,
) -> None:
    resolved = resolve_data_dir(data_dir)
    configure_prefect(resolved)
    ctx.obj = resolved


def _data_dir(ctx: typer.Context) -> Path:
    """The data directory the group's callback resolved (``--data-dir`` / ``HUBGENOME_DATA_DIR`` / ./data)."""
    return ctx.obj


def _print_summary(title: str, values: dict) -> None:
    table = Table(title=title, show_header=False, title_justify="left")
    for key, value in values.items():
        if isinstance(value, bool):
            shown = str(value)
        elif isinstance(value, int):
            shown = f"{value:,}"
        elif isinstance(value, float):
            shown = f"{value:,.2f}"
        else:
            shown = str(value)
        table.add_row(key.replace("_", " "), shown)
    Console().print(table)


app.command("serve-hub")(serve_hub)


@app.command()
def crawl(
    ctx: typer.Context,
    endpoint: Annotated[
        str | None,
        typer.Option(envvar="HF_ENDPOINT", help="Hub endpoint (default: https://huggingface.co)."),
    ] = None,
    mode: Annotated[str, typer.Option(help="full: every model; incremental: changed since the last crawl.")] = "full",
    cards: Annotated[bool, typer.Option("--cards/--no-cards", help="Fetch README.md of new/changed models.")] = True,
    limit: Annotated[int | None, typer.Option(help="Stop after this many models (for trying things out).")] = None,
    card_concurrency: Annotated[int, typer.Option(help="Card downloads in flight at once.")] = 8,
    overlap_minutes: Annotated[
        float, typer.Option(help="Incremental crawls re-read this much before the last watermark.")
    ] = 120,
    include_private: IncludePrivateOption = False,
    card_backlog: CardBacklogOption = 20_000,
    dask: DaskOption = None,
) -> None:
    """Crawl model metadata (and cards) into <data dir>/raw.duckdb; resumes an interrupted crawl."""
    from hubgenome.flows.crawl import crawl_flow
    from hubgenome.flows.scale_out import on_dask

    summary = on_dask(crawl_flow, dask)(
        mode=mode,
        endpoint=endpoint,
        cards=cards,
        limit=limit,
        data_dir=str(_data_dir(ctx)),
        card_concurrency=card_concurrency,
        overlap_minutes=overlap_minutes,
        dask_address=dask,
        include_private=include_private,
        card_backlog_limit=card_backlog,
    )
    _print_summary(f"crawl {summary['crawl_id']}", summary)


@app.command("import-snapshot")
def import_snapshot(
    ctx: typer.Context,
    source: Annotated[
        Path | None,
        typer.Option("--from", help="A snapshot already downloaded (a .parquet/.csv file or a folder): no download."),
    ] = None,
    endpoint: Annotated[
        str | None,
        typer.Option(envvar="HF_ENDPOINT", help="Hub to download from (default: https://huggingface.co)."),
    ] = None,
    repo_id: Annotated[
        str | None, typer.Option(help="Dataset repo (default: the paper's, modelbiome/ai_ecosystem_withmodelcards).")
    ] = None,
    revision: Annotated[str | None, typer.Option(help="Branch, tag or commit of the dataset (default: main).")] = None,
    cache_dir: Annotated[
        Path | None, typer.Option(help="Where huggingface_hub keeps the download (default: its cache, HF_HUB_CACHE).")
    ] = None,
) -> None:
    """Import the paper's published snapshot (1.86M models with cards) into <data dir>/raw.duckdb as one crawl.

    Downloads the dataset's Parquet (else CSV) files with huggingface_hub (token from HF_TOKEN), or
    reads --from; all rows land in one transaction (a bad file leaves the landing untouched). Then
    `hubgenome build` builds the paper's warehouse.
    """
    from hubgenome.flows.snapshot_import import SNAPSHOT_REPO, import_snapshot_flow

    summary = import_snapshot_flow(
        source_path=str(source) if source else None,
        repo_id=repo_id or SNAPSHOT_REPO,
        revision=revision,
        endpoint=endpoint,
        data_dir=str(_data_dir(ctx)),
        cache_dir=str(cache_dir) if cache_dir else None,
    )
    shown = {key: summary[key] for key in ("crawl_id", "endpoint", "models", "cards", "card_data", "pages")}
    shown["files"] = ", ".join(summary["files"])
    shown.update({key: summary[key] for key in ("rows_without_id", "tags_unparsed", "seconds")})
    _print_summary("snapshot imported", shown)


@app.command()
def build(
    ctx: typer.Context,
    analytics: Annotated[
        bool, typer.Option("--analytics/--no-analytics", help="Compute the analytics schema before publishing.")
    ] = True,
    dask: DaskOption = None,
    full_refresh: FullRefreshOption = False,
) -> None:
    """Build the warehouse from the raw landing (dbt build + tests + analytics) and publish it atomically.

    The new warehouse replaces <data dir>/warehouse.duckdb only if every dbt test passed and the
    analytics succeeded; on any failure the previously published warehouse stays in place, and open
    readers are never disturbed. The build starts from a copy of the published warehouse and
    processes only the landing rows added since (incremental), unless --full-refresh is given or
    that warehouse cannot be the starting point; it prints which, and why.
    """
    from hubgenome.flows.build import build_flow
    from hubgenome.flows.scale_out import on_dask

    result = on_dask(build_flow, dask)(
        data_dir=str(_data_dir(ctx)), analytics=analytics, dask_address=dask, full_refresh=full_refresh
    )
    Console().print(result.mode_summary, highlight=False, soft_wrap=True)
    _print_summary(
        "warehouse published",
        {
            "warehouse": str(result.warehouse),
            "build mode": result.build_mode,
            "models built": result.models_built,
            "tests passed": result.tests_passed,
            "seeds loaded": result.seeds_loaded,
            "seconds": result.elapsed_seconds,
        },
    )


@app.command()
def report(
    ctx: typer.Context,
    out_dir: Annotated[
        Path | None, typer.Option(help="Where to write report.html and report.md (default: <data dir>/reports).")
    ] = None,
) -> None:
    """Write the self-contained HTML report and Markdown summary from the published warehouse."""
    import duckdb

    from hubgenome.analytics.report import write_report

    data_paths = paths(_data_dir(ctx))
    if not data_paths.warehouse_db.exists():
        msg = f"No published warehouse at {data_paths.warehouse_db}: run `hubgenome build` (or `hubgenome demo`) first."
        raise HubgenomeError(msg)
    with duckdb.connect(str(data_paths.warehouse_db), read_only=True) as con:
        written = write_report(con, out_dir or data_paths.data_dir / "reports")
    _print_summary("report written", {"html": str(written.html), "markdown": str(written.markdown)})


safety_app = typer.Typer(
    help="Per-model safety evaluations you own: import them into the landing; the next build joins them.",
    no_args_is_help=True,
)
app.add_typer(safety_app, name="safety")


@safety_app.command("import")
def safety_import(
    ctx: typer.Context,
    file: Annotated[
        Path,
        typer.Argument(
            help="CSV (UTF-8, header row) or Parquet with columns model_id, method, attack_or_benchmark, metric, "
            "value, source (required) and unit, evaluated_on (optional).",
            show_default=False,
        ),
    ],
) -> None:
    """Land a file of per-model safety evaluations in <data dir>/raw.duckdb: every row, or none.

    A file with any bad row (missing column, empty cell, non-numeric value, duplicated evaluation,
    not UTF-8) is refused whole with a message naming each row and column. Importing a corrected
    file later supersedes the earlier rows of the same evaluation. Run `hubgenome build` next.
    """
    from hubgenome.flows.safety_import import import_safety_evaluations

    landed = import_safety_evaluations(paths(_data_dir(ctx)).raw_db, file)
    _print_summary(
        "safety evaluations imported",
        {"import": landed.import_id, "rows": landed.rows_landed, "models": landed.models, "file": landed.source_file},
    )
    console.print("Run `hubgenome build` to publish them in the warehouse.")


@app.command("app")
def dashboard(
    ctx: typer.Context,
    port: Annotated[int, typer.Option(help="Port of the dashboard.")] = 8501,
) -> None:
    """Start the Streamlit dashboard on the published warehouse (http://127.0.0.1:PORT)."""
    from hubgenome.app.launch import launch

    launch(_data_dir(ctx), port=port)


@app.command()
def demo(
    ctx: typer.Context,
    models: Annotated[int, typer.Option(help="How many synthetic models to generate.")] = 3000,
    seed: Annotated[int, typer.Option(help="Seed of the synthetic Hub.")] = 20250712,
    serve_app: Annotated[
        bool, typer.Option("--app/--no-app", help="Start the dashboard on the demo warehouse at the end.")
    ] = True,
    port: Annotated[int, typer.Option(help="Port of the dashboard.")] = 8501,
) -> None:
    """Generate the synthetic demo Hub, serve it locally, crawl it, build its warehouse, open the dashboard.

    All offline; everything lands under <data dir>/demo. The data is SYNTHETIC and labelled so.
    """
    from hubgenome.demo import run_demo

    demo_dir = paths(_data_dir(ctx)).demo_dir
    result = run_demo(demo_dir, n_models=models, seed=seed)
    _print_summary("demo (SYNTHETIC data: generated, not crawled from huggingface.co)", result)
    if serve_app:
        from hubgenome.app.launch import launch

        Console().print(f"Dashboard on the demo warehouse: http://127.0.0.1:{port}  (Ctrl-C to stop)")
        launch(demo_dir, port=port)


@app.command()
def pipeline(
    ctx: typer.Context,
    endpoint: Annotated[
        str | None,
        typer.Option(envvar="HF_ENDPOINT", help="Hub endpoint (default: https://huggingface.co)."),
    ] = None,
    id_sweep: Annotated[
        str, typer.Option(help="auto: weekly (when none succeeded in 7 days); always; never.")
    ] = "auto",
    counters: Annotated[bool, typer.Option("--counters/--no-counters", help="Run the counters sweep.")] = True,
    cards: Annotated[bool, typer.Option("--cards/--no-cards", help="Fetch README.md of new/changed models.")] = True,
    card_concurrency: Annotated[int, typer.Option(help="Card downloads in flight at once.")] = 8,
    analytics: Annotated[
        bool, typer.Option("--analytics/--no-analytics", help="Run the analytics step before publishing.")
    ] = True,
    overlap_minutes: Annotated[
        float, typer.Option(help="Incremental crawls re-read this much before the last watermark.")
    ] = 120,
    include_private: IncludePrivateOption = False,
    card_backlog: CardBacklogOption = 20_000,
    dask: DaskOption = None,
    full_refresh: FullRefreshOption = False,
) -> None:
    """The nightly run: incremental crawl + cards (+ backlog), counters sweep, weekly id sweep, reconciliation,
    build, audit, run summary.

    Exit codes: 0 done (or skipped because another run holds <data dir>/pipeline.lock: it says so),
    1 a stage failed (the reason is printed; the published warehouse still serves; the next run resumes).
    Alerts go to HUBGENOME_ALERT_WEBHOOK when set.
    """
    from hubgenome.flows.pipeline import PipelineFailedError, pipeline_flow
    from hubgenome.flows.scale_out import on_dask

    if id_sweep not in ("auto", "always", "never"):
        console.print(f"[bold red]error:[/] --id-sweep must be auto, always or never, not {id_sweep!r}")
        raise typer.Exit(2)
    try:
        summary = on_dask(pipeline_flow, dask)(
            endpoint=endpoint,
            data_dir=str(_data_dir(ctx)),
            id_sweep=id_sweep,
            counters=counters,
            cards=cards,
            card_concurrency=card_concurrency,
            analytics=analytics,
            overlap_minutes=overlap_minutes,
            dask_address=dask,
            include_private=include_private,
            card_backlog_limit=card_backlog,
            full_refresh=full_refresh,
        )
    except PipelineFailedError as exc:
        console.print(f"[bold red]pipeline failed:[/] {exc}")
        raise typer.Exit(1) from exc
    if summary["state"] == "skipped":
        console.print(f"[yellow]{summary['message']}[/]")
        return
    shown = {
        key: summary[key]
        for key in ("pipeline_run_id", "state", "crawl_mode", "models_new", "models_changed", "models_deleted")
    }
    shown.update(
        {
            key: summary[key]
            for key in (
                "models_reconciled",
                "cards_backlog_remaining",
                "audit_missing",
                "audit_stale",
                "build_mode",
                "build_mode_reason",
            )
            if summary[key] is not None
        }
    )
    shown.update({f"{stage['stage']} seconds": stage["seconds"] for stage in summary["stages"]})
    shown["rate limit wait seconds"] = summary["rate_limit_wait_seconds"]
    _print_summary("nightly pipeline", shown)


@app.command()
def audit(
    ctx: typer.Context,
    endpoint: Annotated[
        str | None,
        typer.Option(envvar="HF_ENDPOINT", help="Hub endpoint (default: https://huggingface.co)."),
    ] = None,
    fresh: Annotated[
        bool, typer.Option("--fresh/--last-sweep", help="Run a new id sweep first (default: use the newest one).")
    ] = False,
) -> None:
    """Compare the landing and the published warehouse with an id sweep: missing, stale, extra, private models.

    Prints counts and a sample of ids for each. Exit codes: 0 nothing public missing (and no private
    model in the warehouse), 1 something is, 2 nothing to audit against.
    """
    from hubgenome.core.errors import ConfigurationError
    from hubgenome.flows.audit import run_audit
    from hubgenome.flows.hub_client import HubClient

    try:
        report = run_audit(client=HubClient(resolve_endpoint(endpoint)), data_dir=_data_dir(ctx), fresh=fresh)
    except ConfigurationError as exc:
        console.print(f"[bold red]error:[/] {exc}")
        raise typer.Exit(2) from exc
    table = Table(
        title=f"audit against id sweep {report.sweep_crawl_id} ({'fresh' if report.fresh_sweep else 'newest'}, "
        f"{report.public_models:,} public models)",
        title_justify="left",
    )
    for column in ("finding", "count", "sample of ids"):
        table.add_column(column)
    findings = {
        "missing (landing or warehouse)": report.missing_public,
        "missing from the landing": report.missing_from_landing,
        "missing from the warehouse": report.missing_from_warehouse,
        "stale in the landing": report.stale_in_landing,
        "stale in the warehouse": report.stale_in_warehouse,
        "extra in the warehouse": report.extra_in_warehouse,
        "private in the warehouse": report.private_in_warehouse,
        "private in the landing (--include-private)": report.private_in_landing,
        "gone since the sweep (404 at reconciliation)": report.gone_since_sweep,
    }
    for name, finding in findings.items():
        table.add_row(name, f"{finding.count:,}", ", ".join(finding.sample))
    table.add_row("cards still owed (backlog)", f"{report.card_backlog:,}", "")
    Console().print(table)
    if report.warehouse is None:
        console.print("[yellow]No published warehouse yet: only the landing was audited.[/]")
    if not report.ok:
        console.print(f"[bold red]incomplete:[/] {report.missing:,} public models missing")
        raise typer.Exit(1)


@app.command()
def schedule(
    ctx: typer.Context,
    cron: Annotated[str, typer.Option(help="When to run, in cron syntax (default: nightly at 03:00).")] = "0 3 * * *",
    timezone: Annotated[str, typer.Option(help="Time zone of the cron expression (IANA name).")] = "UTC",
    interval: Annotated[
        float | None, typer.Option(help="Run every this many seconds instead of on the cron (for trying out).")
    ] = None,
    endpoint: Annotated[
        str | None,
        typer.Option(envvar="HF_ENDPOINT", help="Hub endpoint the scheduled runs crawl."),
    ] = None,
    id_sweep: Annotated[str, typer.Option(help="auto, always or never (see `pipeline`).")] = "auto",
    name: Annotated[str, typer.Option(help="Deployment name.")] = "nightly",
) -> None:
    """Serve the nightly pipeline as a Prefect deployment on a cron, until interrupted (Ctrl-C / SIGTERM).

    Starts a local Prefect server (SQLite under <data dir>/prefect, telemetry off) on a free port
    unless PREFECT_API_URL names a server, and stops it on exit.
    """
    from hubgenome.flows.schedule import serve_pipeline

    serve_pipeline(
        data_dir=_data_dir(ctx),
        cron=cron,
        timezone=timezone,
        interval_seconds=interval,
        endpoint=endpoint,
        id_sweep=id_sweep,
        name=name,
    )


def main() -> None:
    """Entry point of the ``hubgenome`` script: readable errors instead of tracebacks for known failures."""
    try:
        app()
    except HubgenomeError as exc:
        console.print(f"[bold red]error:[/] {exc}")
        sys.exit(1)
    except KeyboardInterrupt:
        console.print("[yellow]interrupted[/]")
        sys.exit(130)


if __name__ == "__main__":
    main()
