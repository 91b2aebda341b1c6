"""The errors every front-end shares (a low module: it imports nothing of ssl_props).

* :class:`InvalidArgument`: a public function was called with an argument it cannot accept (a
  ``ValueError`` whose message names the argument, what it held and what to pass instead);
* :class:`UsageError`: a usage or input error of the command line (``list``, ``check``, ``report``),
  printed as one line on stderr with exit code 2.
"""
from __future__ import annotations

__all__ = ["InvalidArgument", "UsageError"]


class InvalidArgument(ValueError):
    """A public function of ssl_props was called with an argument it cannot accept."""


class UsageError(Exception):
    """A usage or input error: printed as one line, exit code 2."""
