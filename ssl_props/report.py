"""The verification certificate: ``pytest theorems/ --ssl-report=DIR`` or ``python -m ssl_props report --out DIR``.

One code path: every pytest test of a registered result runs its check through :func:`run_recorded`
(hooked in by :mod:`ssl_props.pytest_plugin`), which records the verdict; with ``--ssl-report`` the
pytest process (the xdist controller, when the run is spread with ``-n``) collects the records from
the test reports and writes, in registry order,

* ``report.json``: schema ``ssl-props/report/v1`` (documented in ``docs/report-schema.md``): per
  theorem its citation and per check the verdict, examples tried, the counterexample found by each
  necessity check (or the failure message), and the time; plus the environment (package versions,
  device, dtype, Hypothesis profile and seed, git revision);
* ``report.md``: the same, as tables grouped by paper with the papers' result numbers;
* ``figures/*.png``: every registered figure (:mod:`ssl_props.figures`), linked from ``report.md``.

The ``report`` command is a front-end: it runs pytest on the packaged suite (:mod:`ssl_props.theorem_suite`)
with ``--ssl-report``. With the derandomised ``ci`` profile (or ``--seed``), two runs, serial or spread
over workers, give the same verdicts and the same counterexamples; only times and the creation date differ.
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
from ssl_props.registry import Check, Theorem, all_theorems, check_id, iter_checks, paper_keys, run_check

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
    oracle: str | None = None  # the independent side the check compares with (Check.oracle), None if not declared


@dataclass
class _Counter:
    """Hypothesis test cases run, summed over every phase of every ``@given`` run (Hypothesis's own
    statistics, delivered once per run: cheap, unlike per-test-case observability)."""

    n: int = 0

    def __call__(self, stats: dict[str, Any]) -> None:
        self.n += sum(len(v.get("test-cases", [])) for k, v in stats.items()
                      if k.endswith("-phase") and isinstance(v, dict))


def run_recorded(theorem: Theorem, check: Check) -> tuple[CheckRecord, BaseException | None]:
    """Run ``check`` once and record its verdict: the one runner of a theorem check (every pytest test of
    a registered result goes through it, see :mod:`ssl_props.pytest_plugin`). Returns the record and the
    exception that refuted the claim (``None`` when it held), so a caller can re-raise it unchanged."""
    from hypothesis.statistics import collector

    counter = _Counter()
    t0 = time.perf_counter()
    out, msg, err = None, None, None
    with collector.with_value(counter):
        try:
            out = run_check(check)
        except Exception as e:  # a failed claim (AssertionError) or a broken check: both are a red verdict
            err = e
            notes = "\n".join(getattr(e, "__notes__", []))
            msg = f"{type(e).__name__}: {e}" + (f"\n{notes}" if notes else "")
    dt = time.perf_counter() - t0
    ok = err is None
    record = CheckRecord(check_id(theorem, check), theorem.id, check.kind, check.name, check.assumption, ok,
                         counter.n, round(dt, 4), str(out) if (ok and check.kind == "necessity") else None, msg,
                         check.oracle)
    return record, err


def run_one(theorem: Theorem, check: Check) -> CheckRecord:
    """Run ``check`` and record its verdict; never raises on a failed claim."""
    return run_recorded(theorem, check)[0]


def in_registry_order(records: Iterable[CheckRecord]) -> tuple[list[CheckRecord], list[Theorem]]:
    """The records sorted as :func:`ssl_props.registry.iter_checks` yields them (whatever order, or
    worker, ran them), and their theorems in that order: a run spread over workers gives the same
    certificate as a serial one."""
    records = list(records)
    known = {t.id: t for t in all_theorems()}
    order = {check_id(t, c): i for i, (t, c) in enumerate(iter_checks())}
    records.sort(key=lambda r: (order.get(r.id, len(order)), r.id))
    missing = sorted({r.theorem for r in records} - set(known))
    if missing:
        raise UsageError(f"records of unregistered results {missing}: register them before the run ends")
    return records, [known[i] for i in dict.fromkeys(r.theorem for r in records)]


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
        oracles = [c for t in ts for c in t["checks"] if c.get("oracle")]
        if oracles:
            out += ["", "Oracles: the independent side each check compares with.", "",
                    "| id | oracle | verdict |", "|---|---|---|"]
            out += [f"| `{c['id']}` | {_cell(c['oracle'], 300)} | {'PASS' if c['passed'] else '**FAIL**'} |" for c in oracles]
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


def write_certificate(out: str | Path, records: Iterable[CheckRecord], env: dict[str, Any],
                      figures: bool = True) -> dict[str, Any]:
    """Write ``report.json``, ``report.md`` and (unless ``figures=False``) ``figures/*.png`` into ``out``."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    records, theorems = in_registry_order(records)
    report = build_report(records, theorems, env, write_figures(out) if figures else [])
    (out / "report.json").write_text(json.dumps(report, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    (out / "report.md").write_text(render_markdown(report), encoding="utf-8")
    return report


def summary_line(report: dict[str, Any], out: str | Path) -> str:
    s, out = report["summary"], Path(out)
    return (f"{s['passed']}/{s['checks']} checks passed ({s['failed']} failed); wrote {out / 'report.json'}, "
            f"{out / 'report.md'} and {len(report['figures'])} figures")


def pytest_command(args: Any) -> list[str]:
    """The pytest run behind ``ssl-props report``: the packaged theorem suite with ``--ssl-report``.

    ``PYTEST_ADDOPTS="-n 2"`` spreads it over two workers (pytest-xdist), with the same certificate."""
    from ssl_props import theorem_suite

    cmd = [sys.executable, "-m", "pytest", theorem_suite.__file__, "--ssl-report", str(args.out),
           f"--hypothesis-profile={args.profile}", "-p", "no:cacheprovider", "-q", "--no-header"]
    if args.seed is not None:
        cmd.append(f"--hypothesis-seed={args.seed}")
    if args.paper:
        cmd += ["--ssl-paper", args.paper]
    for o in args.only:
        cmd += ["--ssl-only", o]
    if args.no_figures:
        cmd.append("--ssl-report-no-figures")
    return cmd


def run_report_command(args: Any) -> int:
    """``report`` subcommand, a front-end over ``pytest --ssl-report``: exit 0 when every check passed,
    1 otherwise, 2 on a usage error (bad device, nothing selected) or when pytest could not run."""
    from ssl_props.device import ENV_VAR, resolve_device

    try:
        device = resolve_device(args.ssl_device)
    except ValueError as e:
        raise UsageError(str(e)) from None
    if args.paper is not None and args.paper not in paper_keys():
        raise UsageError(f"unknown paper {args.paper!r}; use one of {', '.join(paper_keys())}")
    if not any(selected(check_id(t, c), args.paper, args.only) for t, c in iter_checks(args.paper)):
        raise UsageError(f"no checks selected (paper={args.paper!r}, only={args.only!r})")
    env = {**os.environ, ENV_VAR: str(device)}  # the one switch every check reads, for the child only
    quiet = subprocess.DEVNULL if args.quiet else None
    out = Path(args.out)
    (out / "report.json").unlink(missing_ok=True)  # a stale certificate must not pass for this run's
    proc = subprocess.run(pytest_command(args), env=env, stdout=quiet)
    if proc.returncode not in (0, 1) or not (out / "report.json").exists():
        raise UsageError(f"pytest exited with status {proc.returncode} before writing {out / 'report.json'}"
                         " (rerun without --quiet to see why)")
    report = json.loads((out / "report.json").read_text(encoding="utf-8"))
    print(summary_line(report, out))
    return 0 if report["summary"]["failed"] == 0 else 1


def selected(cid: str, paper: str | None, only: Iterable[str]) -> bool:
    """Whether check id ``cid`` is chosen by ``--paper`` (a paper key) and ``--only`` (any substring)."""
    only = list(only)
    return (paper is None or cid.startswith(paper + ".")) and (not only or any(o in cid for o in only))
