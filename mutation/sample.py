"""A stratified sample of the mutants: ``python mutation/run.py SUITE --sample N [--offset K]``.

The full configuration has thousands of mutants, more than a 30-minute run on two cores can test. mutmut
runs the mutants it is given cheapest first, so a run cut short would have tested the cheap functions
only; a sample of every N-th mutant of each function (mutants ``K, K+N, K+2N, ...`` by mutmut's number)
instead spreads the run over every module and function, and its score estimates the full one. Further
runs with other offsets (without ``--fresh``) add to the verdicts already there.

``names(dest)`` has mutmut generate the mutants in the copy ``dest`` (as ``mutmut run`` does first) and
returns their names; mutmut's generation is its internal API (mutmut is pinned below 4 for it).
"""
from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

_GENERATE = ("import os; from mutmut.__main__ import copy_src_dir, create_mutants; "
             "os.makedirs('mutants', exist_ok=True); copy_src_dir(); create_mutants(1)")
_NUMBER = re.compile(r"__mutmut_(\d+)$")


def names(dest: Path) -> list[str]:
    """Every mutant name of the copy ``dest`` (generating the mutants if needed)."""
    subprocess.run([sys.executable, "-c", _GENERATE], cwd=dest, check=True, capture_output=True)
    out = []
    for meta in sorted((dest / "mutants").rglob("*.py.meta")):
        out += list(json.loads(meta.read_text())["exit_code_by_key"])
    return out


def pick(all_names: list[str], every: int, offset: int = 0) -> list[str]:
    """The mutants numbered ``offset`` mod ``every`` (mutmut numbers the mutants of a function from 1)."""
    return [n for n in all_names if (m := _NUMBER.search(n)) and (int(m.group(1)) - 1) % every == offset % every]
