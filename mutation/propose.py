"""Propose equivalent-mutant lines for review: ``python mutation/propose.py [SUITE] [--run]`` prints, for each survivor of
the last run that matches one of the rules below, a line in ``equivalent.txt``'s format. Nothing is written: a
person reads each proposal against the code before adding it (a rule can only say where to look).

Rules (derivation modules only, ``ssl_props/papers/*/derivations.py``: sympy proofs whose verdict is an exception):
* a sympy symbol's or function's NAME changed (``sp.Symbol("t")`` → ``sp.Symbol("XXtXX")``): names do not enter
  the algebra;
* the text of a failure label or message changed (``_zero(expr, "label")``, ``raise AssertionError("...")``): it is
  printed only when the identity fails;
* ``--run``: the derivation, called with its defaults, returns the same value (``repr``) under the mutant as
  without it, each in a fresh interpreter in the suite's ``mutants/`` (a derivation takes no data: a weakened
  internal check or a different symbol assumption that still proves the identity cannot be seen by a test). The
  reviewer checks the non-default arguments the code calls it with.
"""
from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from collect import KILLED, collect  # noqa: E402
from report import load_equivalents  # noqa: E402

_NAME_CALL = re.compile(r"(sp\.Symbol|sp\.symbols|sp\.Function|_mat|_m|symbolic_matrix)\(")
_LABEL = re.compile(r"^(_zero|_require_zero|raise AssertionError|raise PropertyViolation)\b")


def _strings(code: str) -> list[str]:
    return re.findall(r'"[^"]*"', code)


def _same_but_strings(old: str, new: str) -> bool:
    strip = lambda s: re.sub(r'f?"[^"]*"', '""', s).replace("None", '""')  # noqa: E731
    return strip(old) == strip(new) and old != new


def reason(rec: dict) -> str | None:
    if not re.match(r"ssl_props/papers/[^/]+/derivations\.py$", rec["module"]):
        return None
    old, _, new = rec.get("mutation", "").partition(" -> ")
    if not _same_but_strings(old, new):
        return None
    if old.startswith("return "):
        return None  # the summary string a derivation returns is its output (the report prints it): not equivalent
    if _LABEL.match(old.strip()) or "_zero(" in old or "_require_zero(" in old:
        return "a failure label or message, printed only when the identity fails"
    if _NAME_CALL.search(old):
        return "the name of a sympy symbol or function does not change the algebra"
    return None


_CALL = """import importlib, os, sys
module, _, mutant = sys.argv[1].rpartition(".")
os.environ["MUTANT_UNDER_TEST"] = sys.argv[2]
fn = getattr(importlib.import_module(module), mutant.rpartition("__mutmut_")[0][2:])
try:
    print("returns", repr(getattr(fn, "__wrapped__", fn)()))  # __wrapped__: past the lru_cache
except BaseException as exc:  # noqa: BLE001 - the outcome is what is compared
    print("raises", type(exc).__name__, exc)
"""


def same_result(rec: dict, suite: str) -> str | None:
    """The reason line when the derivation returns the same under the mutant as without it (``--run``)."""
    if not re.match(r"ssl_props/papers/[^/]+/derivations\.py$", rec["module"]):
        return None
    cwd = Path(__file__).resolve().parent / "work" / suite / "mutants"
    out = [subprocess.run([sys.executable, "-c", _CALL, rec["name"], which], cwd=cwd, capture_output=True,
                          text=True, timeout=600).stdout for which in ("none", rec["name"])]
    if out[0] != out[1] or not out[0].startswith("returns"):
        return None
    return f"the derivation (no data, its defaults) returns the same under the mutant: {out[0].strip()[:60]!r}"


def main(argv: list[str]) -> int:
    run = "--run" in argv
    suite = next((a for a in argv if not a.startswith("--")), "theorems")
    known = load_equivalents()
    for rec in collect(suite):
        if rec["status"] in KILLED | {"not checked"} or rec["name"] in known:
            continue
        if (why := reason(rec) or (same_result(rec, suite) if run else None)) is not None:
            print(f"{rec['name']} | {rec['mutation']} | {why}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
