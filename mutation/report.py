"""Scores and survivors of the mutation runs: ``python mutation/report.py`` writes ``mutation/report.md``
and prints a summary.

For ``theorems/``, ``tests/`` and both together (a mutant killed by either), the score is
killed / (checked − equivalent): ``checked`` counts the mutants the run reached (a run stopped early leaves
some "not checked", reported as such), ``equivalent`` the checked ones listed in ``mutation/equivalent.txt``
(a mutant that no test can kill because it computes the same thing); a listed mutant that some suite did kill
is not equivalent, whatever the list says: it counts against the suites that did not kill it and is flagged in
the report. Equivalents are listed with their reason, never dropped silently; a listed mutant whose recorded mutation no longer matches is reported as
stale (its source changed: look at it again). Every other mutant that was not killed is a survivor and is
listed with its module, line and mutation.
"""
from __future__ import annotations

import json
import sys
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from collect import KILLED, WORK, collect  # noqa: E402

HERE = Path(__file__).resolve().parent
SUITES = ("theorems", "tests")


def load_equivalents(path: Path = HERE / "equivalent.txt") -> dict[str, tuple[str, str]]:
    """``name | mutation | reason`` lines (``#`` comments) -> {name: (mutation, reason)}."""
    out = {}
    for line in path.read_text().splitlines():
        if line.strip() and not line.startswith("#"):
            name, rest = line.split(" | ", 1)
            mutation, reason = rest.rsplit(" | ", 1)  # a mutation may hold " | ", a reason may not
            name, mutation, reason = name.strip(), mutation.strip(), reason.strip()
            out[name] = (mutation, reason)
    return out


def combine(by_suite: dict[str, dict[str, dict]]) -> dict[str, dict]:
    """One record per mutant for "both": killed if either suite killed it; checked if killed or checked by all."""
    both = {}
    for name in set().union(*by_suite.values()):
        recs = [s[name] for s in by_suite.values() if name in s]
        killed = [r for r in recs if r["status"] in KILLED]
        pick = killed[0] if killed else next((r for r in recs if r["status"] != "not checked"), recs[0])
        if not killed and (len(recs) < len(by_suite) or any(r["status"] == "not checked" for r in recs)):
            pick = dict(pick, status="not checked")
        both[name] = pick
    return both


def killed_by_any(by_suite: dict[str, dict[str, dict]]) -> set[str]:
    """The mutants some suite killed: shown killable, so never counted as equivalent."""
    return {n for recs in by_suite.values() for n, r in recs.items() if r["status"] in KILLED}


def score(recs: dict[str, dict], equivalents: dict) -> dict:
    """``equivalents``: the listed ones no suite killed (``killed_by_any``)."""
    checked = [r for r in recs.values() if r["status"] != "not checked"]
    killed = sum(r["status"] in KILLED for r in checked)
    equiv = sum(r["name"] in equivalents and r["status"] not in KILLED for r in checked)
    denom = len(checked) - equiv
    timeouts = sum(r["status"] == "timeout" for r in checked)
    return dict(total=len(recs), checked=len(checked), killed=killed, equivalent=equiv, timeouts=timeouts,
                score=killed / denom if denom else float("nan"),
                survivors=sorted((r for r in checked if r["status"] not in KILLED and r["name"] not in equivalents),
                                 key=lambda r: (r["module"], r.get("line") or 0)))


def _row(r: dict) -> str:
    return f"| `{r['module']}:{r.get('line')}` | {r['status']} | `{r.get('mutation', '')}` | `{r['name']}` |"


def render(by_suite: dict, scores: dict, equivalents: dict, modules: dict) -> str:
    lines = ["# Mutation testing report (`make mutate`, issue 15)", "", "| suite | mutants | checked | killed | "
             "equivalent | score killed/(checked−equivalent) | of the killed: timeouts |", "|---|---|---|---|---|---|---|"]
    for suite, s in scores.items():
        lines.append(f"| {suite} | {s['total']} | {s['checked']} | {s['killed']} | {s['equivalent']} | "
                     f"{100 * s['score']:.1f}% | {s['timeouts']} |")
    for suite in by_suite:
        notes = []
        if (sel := WORK / suite / "selection.txt").exists():
            notes.append(f"ran on {sel.read_text().strip()} (the score of `both` needs no more)")
        if (car := WORK / suite / "carried.json").exists():
            notes.append(f"{len(json.loads(car.read_text()))} killed verdicts carried over from the previous run "
                         "(`run.py --retry`: same module source, checks only added since)")
        if notes:
            lines.append(f"\n`{suite}/`: " + "; ".join(notes) + ".")
    lines += ["", "## Mutants per module (killed / checked)", "", "| module | mutants | "
              + " | ".join(f"{k}" for k in scores) + " |", "|---|---|" + "---|" * len(scores)]
    for module, counts in sorted(modules.items()):
        lines.append(f"| `{module}` | {counts['total']} | "
                     + " | ".join(f"{counts[k]} / {counts[k + ' checked']}" for k in scores) + " |")
    for suite, s in scores.items():
        lines += ["", f"## Survivors of {suite} ({len(s['survivors'])})", "",
                  "| where | status | mutation | mutant |", "|---|---|---|---|"] + [_row(r) for r in s["survivors"]]
    for suite in by_suite:
        sel = WORK / suite / "deselected.txt"
        ids = sel.read_text().split() if sel.exists() else []
        lines += ["", f"## Tests of {suite} deselected (failing before any mutation; see preflight.py): {len(ids)}",
                  ""] + [f"- `{t}`" for t in ids]
    lines += ["", "## Equivalent mutants (mutation/equivalent.txt)", "", "| mutant | mutation | reason | recorded |",
              "|---|---|---|---|"]
    recorded = {n: r for recs in by_suite.values() for n, r in recs.items()}
    for name, (mutation, reason) in sorted(equivalents.items()):
        rec = recorded.get(name)
        killers = [s for s, recs in by_suite.items() if recs.get(name, {}).get("status") in KILLED]
        state = "not in this run" if rec is None else (
            f"NOT EQUIVALENT: killed by {', '.join(killers)}/" if killers else
            "ok" if rec.get("mutation", mutation) == mutation else f"STALE: now `{rec.get('mutation')}`")
        lines.append(f"| `{name}` | `{mutation}` | {reason} | {state} |")
    return "\n".join(lines) + "\n"


def main() -> int:
    by_suite = {s: {r["name"]: r for r in collect(s)} for s in SUITES if (WORK / s / "mutants").exists()}
    if not by_suite:
        print("no mutation run found under mutation/work/ (run `make mutate`)")
        return 1
    listed = load_equivalents()
    killable = killed_by_any(by_suite)
    equivalents = {n: v for n, v in listed.items() if n not in killable}
    recs = dict(by_suite, **({"both": combine(by_suite)} if len(by_suite) > 1 else {}))
    scores = {k: score(v, equivalents) for k, v in recs.items()}
    modules: dict[str, Counter] = {}
    for k, v in recs.items():
        for r in v.values():
            c = modules.setdefault(r["module"], Counter())
            c[k] += r["status"] in KILLED
            c[k + " checked"] += r["status"] != "not checked"
    for r in next(iter(by_suite.values())).values():
        modules[r["module"]]["total"] += 1
    (HERE / "report.md").write_text(render(by_suite, scores, listed, modules))
    for k, s in scores.items():
        print(f"{k:9s} killed {s['killed']} / ({s['checked']} checked − {s['equivalent']} equivalent) = "
              f"{100 * s['score']:.1f}%   ({s['total'] - s['checked']} not checked, {len(s['survivors'])} survivors)")
    for r in scores[list(scores)[-1]]["survivors"]:
        print(f"  survivor {r['module']}:{r.get('line')} [{r['status']}] {r.get('mutation')}")
    print(f"full lists: {HERE / 'report.md'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
