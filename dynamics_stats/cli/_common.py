"""Arguments and helpers shared by several sub-commands."""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from pathlib import Path

from dynamics_stats.core.errors import InputError

__all__ = ["add_source_arguments", "emit", "parse_roles"]


def add_source_arguments(parser: argparse.ArgumentParser, *, format_flags: tuple[str, ...]) -> None:
    """Add the arguments that name a run and how to read it.

    Parameters
    ----------
    parser : argparse.ArgumentParser
        The sub-command's parser.
    format_flags : tuple of str
        Option strings that force a log format.
    """
    parser.add_argument("path", help="log file or folder, or runs:/<run_id> for MLflow")
    parser.add_argument(*format_flags, dest="log_format", help="force a log format (see 'formats')")
    parser.add_argument(
        "--role",
        action="append",
        default=[],
        metavar="NAME=ROLE",
        help="give a metric a role, e.g. --role norm=grad_norm (repeatable)",
    )
    parser.add_argument("--tracking-uri", help="MLflow tracking URI for runs:/ sources")
    parser.add_argument("--regex", help="regex with named groups for plain-text logs")


def parse_roles(pairs: Sequence[str]) -> dict[str, str]:
    """Turn ``NAME=ROLE`` arguments into a mapping.

    Parameters
    ----------
    pairs : sequence of str
        The ``--role`` values.

    Returns
    -------
    dict of str to str
        Metric name to role name.

    Raises
    ------
    InputError
        When an item has no ``=`` or no name.
    """
    roles = {}
    for pair in pairs:
        name, sep, role = pair.rpartition("=")
        if not sep or not name:
            raise InputError(f"--role expects NAME=ROLE, e.g. --role norm=grad_norm; got {pair!r}.")
        roles[name] = role
    return roles


def emit(text: str, out: str | None) -> None:
    """Print ``text`` or write it to ``out``.

    Parameters
    ----------
    text : str
        The report.
    out : str or None
        Destination file; stdout when None.

    Raises
    ------
    InputError
        When the file cannot be written.
    """
    if out is None:
        print(text)
        return
    try:
        Path(out).write_text(text + "\n", encoding="utf-8")
    except OSError as err:
        raise InputError(f"cannot write the report to '{out}': {err.strerror}.") from err
