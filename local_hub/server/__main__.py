"""``python -m hubgenome.local_hub.server``: run the local Hub as its own process (scripts, benchmarks).

Prints the URL alone on the first line of stdout once listening; everything else goes to stderr.
Exit status 2 with a one-line reason on a bad corpus or option.
"""

from __future__ import annotations

import argparse
import sys

from hubgenome.core.errors import HubgenomeError
from hubgenome.local_hub.server import HubBehaviour, serve


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m hubgenome.local_hub.server",
        description="Serve a corpus folder (shared/hubdata layout) as a local Hugging Face Hub.",
    )
    parser.add_argument("--corpus", required=True, help="corpus folder with models-NN.jsonl.gz files")
    parser.add_argument("--host", default="127.0.0.1", help="interface to listen on (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=0, help="port to listen on (default 0: a free port)")
    parser.add_argument("--api-quota", type=int, default=None, help="requests per window on /api (default unlimited)")
    parser.add_argument(
        "--resolver-quota", type=int, default=None, help="requests per window on file resolvers (default unlimited)"
    )
    parser.add_argument("--window-seconds", type=float, default=300.0, help="rate-limit window (default 300)")
    parser.add_argument(
        "--faults",
        default=None,
        help="fault spec, e.g. 'status=0.1:503;slow=0.02:1.5;drop=0.01;truncate=0.02;first_page_429=1;seed=7'",
    )
    parser.add_argument("--gated-status", type=int, choices=(401, 403), default=401, help="status for gated cards")
    parser.add_argument("--serve-gated-cards", action="store_true", help="serve gated models' cards anyway")
    parser.add_argument("--datasets", default=None, help="folder of dataset repos (<owner>/<name>/<files>) to serve")
    living = parser.add_argument_group("living Hub (docs/living_hub.md)")
    living.add_argument("--events", default=None, help="JSONL file of events to apply on the hub clock")
    living.add_argument("--event-rate", default=None, help="event rates per simulated day, e.g. 'default'")
    living.add_argument("--seed", type=int, default=0, help="seed of --event-rate")
    living.add_argument("--clock-start", default=None, help="hub clock start, ISO 8601")
    living.add_argument("--clock-speed", type=float, default=0.0, help="simulated seconds per real second")
    living.add_argument("--seconds-per-request", type=float, default=0.0, help="simulated seconds per Hub request")
    living.add_argument("--heavy-page-budget", type=int, default=None, help="504 above limit x properties")
    living.add_argument("--token", action="append", default=[], help="TOKEN=USER (repeatable)")
    return parser


def main(argv: list[str] | None = None) -> int:
    """Parse the options and serve until interrupted; returns the exit status."""
    args = _parser().parse_args(argv)
    tokens = dict(pair.partition("=")[::2] for pair in args.token)
    try:
        behaviour = HubBehaviour(
            api_quota=args.api_quota,
            resolver_quota=args.resolver_quota,
            window_seconds=args.window_seconds,
            faults=args.faults,
            gated_status=args.gated_status,
            serve_gated_cards=args.serve_gated_cards,
            tokens=tokens,
            heavy_page_budget=args.heavy_page_budget,
            datasets=args.datasets,
            events=args.events,
            event_rate=args.event_rate,
            seed=args.seed,
            clock_start=args.clock_start,
            clock_speed=args.clock_speed,
            seconds_per_request=args.seconds_per_request,
        )
        serve(args.corpus, behaviour, host=args.host, port=args.port)
    except (HubgenomeError, OSError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
