"""Propose equivalent-mutant lines for review: ``python mutation/propose.py [SUITE]`` prints, for each survivor of
the last run that matches one of the rules below, a line in ``equivalent.txt``'s format. Nothing is written: a
person reads each proposal against the code before adding it (a rule can only say where to look).

Rules (derivation modules only, ``ssl_props/papers/*/derivations.py``: sympy proofs whose verdict is an exception):
* a sympy symbol's or function's NAME changed (``sp.Symbol("t")`` → ``sp.Symbol("XXtXX")``): names do not enter
  the algebra;
* the text of a failure label or message changed (``_zero(expr, "label")``, ``raise AssertionError("...")``): it is
  printed only when the identity fails;
* the summary string a derivation returns changed: the report prints it, the verdict does not read it.
"""
from __future__ import annotations

import re
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
        return "the summary string the derivation returns: printed in the report, not read by the verdict"
    if _LABEL.match(old.strip()) or "_zero(" in old or "_require_zero(" in old:
        return "a failure label or message, printed only when the identity fails"
    if _NAME_CALL.search(old):
        return "the name of a sympy symbol or function does not change the algebra"
    return None


def main(suite: str = "theorems") -> int:
    known = load_equivalents()
    for rec in collect(suite):
        if rec["status"] in KILLED | {"not checked"} or rec["name"] in known:
            continue
        if (why := reason(rec)) is not None:
            print(f"{rec['name']} | {rec['mutation']} | {why}")
    return 0


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:]))
