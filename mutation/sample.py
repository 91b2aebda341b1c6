"""A stratified sample of the mutants: ``python mutation/run.py SUITE --sample N [--offset K]``.

The full configuration has thousands of mutants, more than a 30-minute run on two cores can test. mutmut
runs the mutants it is given cheapest first, so a run cut short would have tested the cheap functions
only; a sample of every N-th mutant of each function instead spreads the run over every module and
function, and its score estimates the full one. Each function's sample starts at its own phase, fixed by
a hash of the function's name (mutants ``h+K, h+K+N, ...`` by mutmut's number, ``h = crc32(name) mod N``):
a common start would always take mutmut's first mutant of every function, which mutmut makes from the
signature's defaults, and over-represent those about N-fold (issue 15: they were 54 of the 210 survivors
of the first run). Further runs with other offsets (without ``--fresh``) add to the verdicts already there.

``names(dest)`` has mutmut generate the mutants in the copy ``dest`` (as ``mutmut run`` does first) and
returns their names; mutmut's generation is its internal API (mutmut is pinned below 4 for it).
"""
from __future__ import annotations

import json
import re
import zlib
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


def phase(function: str, every: int) -> int:
    """The function's own start in ``0..every-1``: a stable hash of its name (the same on every run)."""
    return zlib.crc32(function.encode()) % every


def pick(all_names: list[str], every: int, offset: int = 0) -> list[str]:
    """The mutants numbered ``phase + offset`` mod ``every`` in their function (mutmut numbers them from 1)."""
    out = []
    for n in all_names:
        if m := _NUMBER.search(n):
            if (int(m.group(1)) - 1) % every == (phase(n[: m.start()], every) + offset) % every:
                out.append(n)
    return out
