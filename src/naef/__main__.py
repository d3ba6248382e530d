"""``naef`` (the console script) and ``python -m naef``: the command, with Ctrl-C while its modules are still
loading ending as it does anywhere else — one line, exit code 130 (128 + SIGINT), never a traceback."""

from __future__ import annotations

import signal
import sys

__all__ = ["main"]


def main() -> None:
    """Load :mod:`naef.cli` and run it; an interruption during the load prints "interrupted: nothing written"."""
    try:
        from naef.cli import main as run_cli
    except KeyboardInterrupt:
        sys.stderr.write("interrupted: nothing written\n")
        raise SystemExit(128 + signal.SIGINT) from None
    run_cli()


if __name__ == "__main__":
    main()
