"""``python -m hubgenome.local_hub.server``: run the local Hub as its own process (scripts, benchmarks).

The options are those of ``hubgenome serve-hub`` (declared once, in ``_command.py``), except
that ``--port`` defaults to 0 (a free port). Prints the URL alone on the first line of stdout once
listening; everything else goes to stderr. Exit status 2 with a one-line reason on a bad corpus or
option.
"""

from __future__ import annotations

import sys

import click

from hubgenome.core.errors import HubgenomeError


def main(argv: list[str] | None = None) -> int:
    """Parse the options and serve until interrupted; returns the exit status."""
    import typer

    from hubgenome.local_hub.server._command import serve_hub

    app = typer.Typer(add_completion=False)
    app.command()(serve_hub)
    # a later --port overrides this one: click keeps the last value of a repeated option
    args = ["--port", "0", *(sys.argv[1:] if argv is None else argv)]
    try:
        app(args=args, prog_name="python -m hubgenome.local_hub.server", standalone_mode=False)
    except click.ClickException as exc:
        exc.show()
        return 2
    except (HubgenomeError, OSError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except (KeyboardInterrupt, click.exceptions.Abort):
        pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
