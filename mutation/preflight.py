"""Pre-flight of a mutation run: the suite once on the unmutated copy; ``failing(dest, suite, args) -> node ids``.

mutmut stops at once when a test fails on the unmutated code (its stats run uses ``-x``). A tree that
others are changing can have such a test for a while; ``run.py`` then deselects it for the mutation run
and writes it to ``mutation/work/<suite>/deselected.txt`` (listed in the report), rather than losing the
whole run. The pre-flight uses the same pytest options as mutmut (``pytest_add_cli_args``).

This module is also the pytest plugin of the pre-flight (``-p mutation.preflight``): it appends the node id
of each failing test or collector to the file named by ``$MUTATION_PREFLIGHT_OUT``.
"""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ENV = "MUTATION_PREFLIGHT_OUT"


def _record(report) -> None:
    if report.failed and os.environ.get(ENV):
        with open(os.environ[ENV], "a") as f:
            f.write(report.nodeid + "\n")


pytest_runtest_logreport = _record
pytest_collectreport = _record


def failing(dest: Path, suite: str, pytest_args: list[str], nice: int = 19) -> list[str]:
    """Node ids that fail or error in ``suite`` on the copy ``dest`` (unmutated), in the order reported."""
    out = dest / "preflight_failures.txt"
    out.write_text("")
    cmd = ["nice", "-n", str(nice), sys.executable, "-m", "pytest", f"{suite}/", "-q", "--tb=no", "--rootdir=.",
           "-p", "mutation.preflight", *pytest_args]
    subprocess.run(cmd, cwd=dest, capture_output=True, env=dict(os.environ, **{ENV: str(out)}))
    return list(dict.fromkeys(line for line in out.read_text().splitlines() if line))
