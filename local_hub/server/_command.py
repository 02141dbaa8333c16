"""The ``serve-hub`` command: the local Hub's options, declared once.

``hubgenome serve-hub`` (:mod:`hubgenome.cli`) and ``python -m hubgenome.local_hub.server`` both
run :func:`serve_hub`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer


def serve_hub(
    corpus: Annotated[Path, typer.Option(help="A corpus folder in the shared/hubdata layout.")],
    port: Annotated[int, typer.Option(help="Port to listen on (0 picks a free one).")] = 8765,
    host: Annotated[str, typer.Option(help="Interface to bind.")] = "127.0.0.1",
    api_quota: Annotated[
        int | None, typer.Option(help="Requests per window on /api/* per client (default: unlimited).")
    ] = None,
    resolver_quota: Annotated[
        int | None, typer.Option(help="Requests per window on file resolvers per client (default: unlimited).")
    ] = None,
    window_seconds: Annotated[float, typer.Option(help="Length of a rate-limit window, as on the Hub.")] = 300.0,
    faults: Annotated[
        str | None,
        typer.Option(
            help="Seeded fault injection, e.g. 'status=0.1:503;slow=0.02:1.5;drop=0.01;truncate=0.02;seed=7' "
            "(grammar: local_hub/server/_faults.py)."
        ),
    ] = None,
    gated_status: Annotated[int, typer.Option(help="401 or 403 for gated models' cards.")] = 401,
    serve_gated_cards: Annotated[
        bool, typer.Option(help="Serve gated models' cards, as for a token with access.")
    ] = False,
    datasets: Annotated[
        Path | None, typer.Option(help="Also serve the dataset repos in this folder (<owner>/<name>/<files>).")
    ] = None,
    events: Annotated[
        Path | None,
        typer.Option(
            help="A living Hub: apply these events (JSONL, one {at, kind, model_id, ...} a line) when the hub "
            "clock reaches them. Kinds: create, commit, card_edit, delete, rename, transfer, launch, make_private, "
            "gate, disable, enable, counters (docs/living_hub.md)."
        ),
    ] = None,
    event_rate: Annotated[
        str | None,
        typer.Option(
            help="A living Hub: draw events at these rates, fractions of the corpus per simulated day, e.g. "
            "'default' (calibrated on the real corpora) or 'create=0.005,commit=0.01,delete=0.0005,counters=0.05'."
        ),
    ] = None,
    seed: Annotated[int, typer.Option(help="Seed of --event-rate (same seed, same events).")] = 0,
    clock_start: Annotated[
        str | None,
        typer.Option(help="Hub clock start, ISO 8601 (default: one day after the corpus's newest date)."),
    ] = None,
    clock_speed: Annotated[
        float, typer.Option(help="Simulated seconds per real second (0: the clock moves only per request).")
    ] = 0.0,
    seconds_per_request: Annotated[
        float, typer.Option(help="Simulated seconds each Hub request adds to the clock (events happen mid-crawl).")
    ] = 0.0,
    heavy_page_budget: Annotated[
        int | None,
        typer.Option(help="Answer 504 to /api/models pages whose limit x properties exceeds this (default: off)."),
    ] = None,
    token: Annotated[
        list[str] | None,
        typer.Option(
            help="TOKEN=USER (repeatable): a bearer token and its user; private repos exist only for their owner."
        ),
    ] = None,
) -> None:
    """Serve a corpus folder as a local Hugging Face Hub (listing, model info, README resolver).

    With --events or --event-rate it is a living Hub: models are created, committed to, renamed,
    deleted, launched and re-counted on a simulated clock while clients crawl it.
    """
    from datetime import datetime

    from hubgenome.core.errors import ConfigurationError
    from hubgenome.local_hub.server import HubBehaviour, serve

    tokens: dict[str, str] = {}
    for pair in token or ():
        secret, sep, user = pair.partition("=")
        if not sep or not secret or not user:
            msg = f"--token takes TOKEN=USER, got {pair!r}"
            raise ConfigurationError(msg)
        tokens[secret] = user
    if events is not None and not events.is_file():
        msg = f"--events {events}: no such file (write one event a line, see docs/living_hub.md)"
        raise ConfigurationError(msg)
    if clock_start is not None:
        try:
            datetime.fromisoformat(clock_start)
        except ValueError as exc:
            msg = f"--clock-start {clock_start!r} is not an ISO 8601 time, e.g. 2025-01-01T00:00:00Z"
            raise ConfigurationError(msg) from exc
    behaviour = HubBehaviour(
        api_quota=api_quota,
        resolver_quota=resolver_quota,
        window_seconds=window_seconds,
        faults=faults,
        gated_status=gated_status,
        serve_gated_cards=serve_gated_cards,
        tokens=tokens,
        heavy_page_budget=heavy_page_budget,
        datasets=datasets,
        events=events,
        event_rate=event_rate,
        seed=seed,
        clock_start=clock_start,
        clock_speed=clock_speed,
        seconds_per_request=seconds_per_request,
    )
    serve(corpus, behaviour, host=host, port=port)
