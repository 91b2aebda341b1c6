"""The errors every front-end shares (a low module: it imports nothing of ssl_props).

* :class:`InvalidArgument`: a public function was called with an argument it cannot accept (a
  ``ValueError`` whose message names the argument, what it held and what to pass instead);
* :class:`UsageError`: a usage or input error of the command line (``list``, ``check``, ``report``),
  printed as one line on stderr with exit code 2.
"""
from __future__ import annotations

import sys
from typing import Any

__all__ = ["InvalidArgument", "UsageError", "run_parsed"]


class InvalidArgument(ValueError):
    """A public function of ssl_props was called with an argument it cannot accept."""


class UsageError(Exception):
    """A usage or input error: printed as one line, exit code 2."""


def run_parsed(parser: Any, argv: list[str] | None) -> int:
    """Parse ``argv`` with an ``argparse`` parser and run the chosen subcommand's ``func``: its exit code, or 2
    with one line on stderr for a usage error (argparse prints its own)."""
    try:
        args = parser.parse_args(argv)
    except SystemExit as e:  # argparse already printed its one-line usage error
        return int(e.code or 0) and 2
    try:
        return int(args.func(args))
    except UsageError as e:
        print(f"ssl-props: error: {e}", file=sys.stderr)
        return 2
