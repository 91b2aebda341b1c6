"""The verification certificate: ``python -m ssl_props report --out DIR``.

Runs every registered check (or one paper's) under a Hypothesis profile and writes

* ``report.json``: schema ``ssl-props/report/v1`` (documented in ``docs/report-schema.md``): per
  theorem its citation and per check the verdict, examples tried, the counterexample found by each
  necessity check (or the failure message), and the time; plus the environment (package versions,
  device, dtype, Hypothesis profile and seed, git revision);
* ``report.md``: the same, as tables grouped by paper with the papers' result numbers;
* ``figures/*.png``: every registered figure (:mod:`ssl_props.figures`), linked from ``report.md``.

With the derandomised ``ci`` profile (or ``--seed``), two runs give the same verdicts and the same
counterexamples; only times and the creation date differ.
"""
from __future__ import annotations

import json
import os
import platform
import subprocess
import sys
import time
from dataclasses import asdict, dataclass
from importlib import metadata
from pathlib import Path
from typing import Any, Iterable

from ssl_props.errors import UsageError
from ssl_props.registry import Check, Theorem, check_id, iter_checks, run_check

SCHEMA = "ssl-props/report/v1"
PACKAGES = ("ssl-props", "torch", "hypothesis", "numpy", "scipy", "sympy", "matplotlib", "pytest")


@dataclass
class CheckRecord:
    """The outcome of one check."""

    id: str
    theorem: str
    kind: str
    name: str
    assumption: str | None
    passed: bool
    examples: int  # Hypothesis test cases run (0 for symbolic checks)
    seconds: float
    counterexample: str | None = None  # what a necessity check found
    message: str | None = None  # why the check failed (the claim, both sides, the shrunk input)


@dataclass
class _Counter:
    n: int = 0

    def __call__(self, observation: Any) -> None:
        if getattr(observation, "type", None) == "test_case":
            self.n += 1


def _observe():
    """Count Hypothesis test cases through its observability hook (coverage collection off: it is slow)."""
    from hypothesis.internal import observability

    observability.OBSERVABILITY_COLLECT_COVERAGE = False
    return observability


def run_one(theorem: Theorem, check: Check) -> CheckRecord:
    """Run ``check`` and record its verdict; never raises on a failed claim."""
    obs = _observe()
    counter = _Counter()
    t0 = time.perf_counter()
    out, msg, ok = None, None, True
    with obs.with_observability_callback(counter):
        try:
            out = run_check(check)
        except Exception as e:  # a failed claim (AssertionError) or a broken check: both are a red verdict
            ok = False
            notes = "\n".join(getattr(e, "__notes__", []))
            msg = f"{type(e).__name__}: {e}" + (f"\n{notes}" if notes else "")
    dt = time.perf_counter() - t0
    return CheckRecord(check_id(theorem, check), theorem.id, check.kind, check.name, check.assumption, ok,
                       counter.n, round(dt, 4), str(out) if (ok and check.kind == "necessity") else None, msg)


def run_checks(pairs: Iterable[tuple[Theorem, Check]], progress: bool = True) -> list[CheckRecord]:
    """Run every ``(theorem, check)`` pair, drawing a progress bar on stderr when it is a terminal."""
    pairs = list(pairs)
    progress = progress and sys.stderr.isatty()
    records = []
    width = 30
    for i, (t, c) in enumerate(pairs, 1):
        if progress:
            done = int(width * (i - 1) / len(pairs))
            sys.stderr.write(f"\r[{'#' * done}{'.' * (width - done)}] {i - 1}/{len(pairs)} {check_id(t, c)[:60]:<60}")
            sys.stderr.flush()
        records.append(run_one(t, c))
    if progress:
        failed = sum(not r.passed for r in records)
        sys.stderr.write(f"\r[{'#' * width}] {len(pairs)}/{len(pairs)} checks, {failed} failed{' ' * 50}\n")
    return records


def _git(*args: str) -> str | None:
    try:
        return subprocess.run(["git", *args], capture_output=True, text=True, check=True, timeout=10,
                              cwd=Path(__file__).resolve().parent).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return None


def environment(profile: str, seed: int | None) -> dict[str, Any]:
    """Versions, device, dtype, Hypothesis profile/seed and git revision of this run."""
    import torch
    from hypothesis import settings

    from ssl_props.device import DEFAULT_DTYPE, default_device

    versions = {}
    for p in PACKAGES:
        try:
            versions[p] = metadata.version(p)
        except metadata.PackageNotFoundError:
            versions[p] = None
    dev = default_device()
    s = settings.get_profile(profile)
    return {
        "python": platform.python_version(), "platform": platform.platform(), "packages": versions,
        "device": str(dev), "device_name": torch.cuda.get_device_name(dev) if dev.type == "cuda" else platform.processor() or "cpu",
        "dtype": str(DEFAULT_DTYPE).replace("torch.", ""),
        "hypothesis": {"profile": profile, "max_examples": s.max_examples, "derandomize": s.derandomize,
                       "seed": seed if seed is not None else ("derandomized" if s.derandomize else None)},
        "git": {"revision": _git("rev-parse", "HEAD"), "dirty": bool(_git("status", "--porcelain"))},
    }


def build_report(records: list[CheckRecord], theorems: list[Theorem], env: dict[str, Any],
                 figures: list[dict[str, str]]) -> dict[str, Any]:
    by_theorem: dict[str, list[CheckRecord]] = {}
    for r in records:
        by_theorem.setdefault(r.theorem, []).append(r)
    papers = {t.paper.key: t.paper for t in theorems}
    return {
        "schema": SCHEMA,
        "created": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "environment": env,
        "summary": {"theorems": len(theorems), "checks": len(records), "passed": sum(r.passed for r in records),
                    "failed": sum(not r.passed for r in records), "seconds": round(sum(r.seconds for r in records), 2)},
        "papers": [{"key": p.key, "citation": p.cite(), "arxiv": p.arxiv, "url": p.url} for p in papers.values()],
        "theorems": [{"id": t.id, "paper": t.paper.key, "arxiv": t.paper.arxiv, "number": t.number, "kind": t.kind,
                      "title": t.title, "statement": t.statement, "assumptions": list(t.assumptions),
                      "related": list(t.related), "provenance": t.provenance,
                      "passed": all(r.passed for r in by_theorem.get(t.id, [])),
                      "checks": [asdict(r) for r in by_theorem.get(t.id, [])]} for t in theorems],
        "figures": figures,
    }


def _cell(s: str | None, limit: int = 160) -> str:
    s = (s or "").replace("\n", " ").replace("|", "\\|")
    return s if len(s) <= limit else s[: limit - 1] + "…"


def render_markdown(report: dict[str, Any]) -> str:
    env, summ = report["environment"], report["summary"]
    out = ["# ssl-props verification certificate", "",
           f"{summ['passed']}/{summ['checks']} checks passed on {summ['theorems']} registered results "
           f"({summ['failed']} failed) in {summ['seconds']} s.", "",
           f"Device `{env['device']}` ({env['device_name']}), dtype `{env['dtype']}`, Hypothesis profile "
           f"`{env['hypothesis']['profile']}` (max_examples={env['hypothesis']['max_examples']}, seed: "
           f"{env['hypothesis']['seed']}), git `{env['git']['revision']}`{' (dirty)' if env['git']['dirty'] else ''}.", "",
           "Packages: " + ", ".join(f"{k} {v}" for k, v in env["packages"].items() if v), ""]
    for paper in report["papers"]:
        out += [f"## {paper['citation']}", "", f"[arXiv:{paper['arxiv']}]({paper['url']})", "",
                "| result | id | kind | verdict | checks | examples | time (s) |", "|---|---|---|---|---|---|---|"]
        ts = [t for t in report["theorems"] if t["paper"] == paper["key"]]
        for t in ts:
            cs = t["checks"]
            out.append(f"| {t['number']} | `{t['id']}` | {t['kind']} | {'PASS' if t['passed'] else '**FAIL**'} | "
                       f"{sum(c['passed'] for c in cs)}/{len(cs)} | {sum(c['examples'] for c in cs)} | "
                       f"{sum(c['seconds'] for c in cs):.2f} |")
        out += ["", "Necessity checks: each assumption dropped, and the counterexample that shows it is needed.", "",
                "| id | assumption dropped | counterexample |", "|---|---|---|"]
        for t in ts:
            for c in t["checks"]:
                if c["kind"] == "necessity":
                    out.append(f"| `{c['id']}` | {_cell(c['assumption'])} | "
                               f"{_cell(c['counterexample'] if c['passed'] else 'FAILED: ' + (c['message'] or ''), 300)} |")
        failed = [c for t in ts for c in t["checks"] if not c["passed"]]
        if failed:
            out += ["", "### Failures", ""]
            for c in failed:
                out += [f"- `{c['id']}`:", "", "```", (c["message"] or "").strip(), "```", ""]
        out.append("")
    if report["figures"]:
        out += ["## Figures", ""]
        for f in report["figures"]:
            out += [f"### {f['name']} ({f['paper']})", "", f["caption"], "", f"![{f['name']}]({f['path']})", ""]
    return "\n".join(out)


def write_figures(out: Path, seed: int = 0) -> list[dict[str, str]]:
    from ssl_props.figures import all_figures

    (out / "figures").mkdir(parents=True, exist_ok=True)
    written = []
    for f in all_figures():
        path = f.fn(out / "figures" / f"{f.name}.png", seed=seed)
        written.append({"name": f.name, "paper": f.paper, "caption": f.caption,
                        "path": str(Path(path).resolve().relative_to(out.resolve()))})
    return written


def run_report_command(args: Any) -> int:
    """``report`` subcommand: exit 0 when every check passed, 1 otherwise."""
    from ssl_props.device import ENV_VAR, resolve_device

    try:
        device = resolve_device(args.ssl_device)
    except ValueError as e:
        raise UsageError(str(e)) from None
    previous = os.environ.get(ENV_VAR)
    os.environ[ENV_VAR] = str(device)  # the one switch every check reads; restored on the way out
    try:
        return _run_report(args)
    finally:
        if previous is None:
            os.environ.pop(ENV_VAR, None)
        else:
            os.environ[ENV_VAR] = previous


def _run_report(args: Any) -> int:
    from hypothesis import core

    from ssl_props.profiles import temporary_profile

    # the report's own profile: the chosen one without the example database, so that nothing replayed
    # from earlier runs changes the verdicts or counterexamples; the caller's profile and seed come back after
    previous_seed = core.global_force_seed
    with temporary_profile("_report", parent=args.profile, database=None):
        if args.seed is not None:
            core.global_force_seed = args.seed  # what pytest's --hypothesis-seed does
        try:
            return _write_report(args)
        finally:
            core.global_force_seed = previous_seed


def _write_report(args: Any) -> int:
    pairs = list(iter_checks(args.paper))
    if args.only:
        pairs = [(t, c) for t, c in pairs if any(s in check_id(t, c) for s in args.only)]
    if not pairs:
        raise UsageError(f"no checks selected (paper={args.paper!r}, only={args.only!r})")
    theorems = list(dict.fromkeys(t for t, _ in pairs))
    records = run_checks(pairs, progress=not args.quiet)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    figures = [] if args.no_figures else write_figures(out)
    report = build_report(records, theorems, environment(args.profile, args.seed), figures)
    (out / "report.json").write_text(json.dumps(report, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    (out / "report.md").write_text(render_markdown(report), encoding="utf-8")
    s = report["summary"]
    print(f"{s['passed']}/{s['checks']} checks passed ({s['failed']} failed); wrote {out / 'report.json'}, "
          f"{out / 'report.md'} and {len(figures)} figures")
    return 0 if s["failed"] == 0 else 1
