"""The ``dynamics-stats`` command line.

Each sub-command lives in its own module of this package with two functions:
``register(commands)`` adds its parser, ``run(args)`` carries it out. Modules import
their heavy dependencies inside ``run`` so that the command starts quickly.

Exit codes: 0 on success, 2 on bad input (the message says what, where and how to fix
it; no traceback), 3 when a ``--fail-on`` rule is met, 1 on an internal error.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Callable, Sequence

from dynamics_stats.core.errors import DynamicsStatsError, InputError, UnknownNameError

__all__ = ["COMMAND_MODULES", "main"]

#: Sub-command modules of this package, in the order ``--help`` lists them.
COMMAND_MODULES: tuple[str, ...] = (
    "inspect",
    "analyze",
    "sweep",
    "formats",
    "feedback",
    "calibrate",
)


def _build_parser() -> tuple[argparse.ArgumentParser, dict[str, Callable[..., int]]]:
    parser = argparse.ArgumentParser(
        prog="dynamics-stats",
        description="Diagnose a neural-network training run from the metrics it logged.",
    )
    commands = parser.add_subparsers(dest="command", required=True)
    handlers: dict[str, Callable[..., int]] = {}
    for name in COMMAND_MODULES:
        module = importlib.import_module(f"dynamics_stats.cli.{name}")
        module.register(commands)
        handlers[name] = module.run
    return parser, handlers


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line and return its exit code.

    Parameters
    ----------
    argv : sequence of str or None, default=None
        Arguments without the program name; ``sys.argv[1:]`` when None.

    Returns
    -------
    int
        0 on success, 2 on bad input, 3 when a ``--fail-on`` rule is met, 1 on an
        internal error.
    """
    parser, handlers = _build_parser()
    args = parser.parse_args(argv)
    try:
        return handlers[args.command](args)
    except (InputError, UnknownNameError) as err:
        print(f"dynamics-stats: error: {err}", file=sys.stderr)
        return 2
    except DynamicsStatsError as err:
        print(f"dynamics-stats: internal error: {err}", file=sys.stderr)
        return 1


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
