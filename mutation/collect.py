"""Read one suite's mutmut verdicts: ``collect(suite) -> list of mutant records``.

A record: ``name`` (mutmut's, e.g. ``ssl_props.spectral.x_solve__mutmut_3``), ``module`` (its file),
``status`` (killed, survived, no tests, timeout, ..., or "not checked" for one the run did not reach),
``seconds`` (its test time; none for a verdict carried over from an earlier run, ``run.py --retry``) and, for every checked mutant that was not killed, ``line`` (where in the module) and
``mutation`` ("old code -> new code", from mutmut's diff). Verdicts come from ``mutants/**/*.meta`` of
the suite's copy; diffs from mutmut's own ``get_diff_for_mutant`` (run in that copy).
"""
from __future__ import annotations

import json
import os
from contextlib import contextmanager
from pathlib import Path

from mutmut.stats import status_by_exit_code

WORK = Path(__file__).resolve().parent / "work"
KILLED = {"killed", "timeout", "segfault", "caught by type check"}


@contextmanager
def _cwd(path: Path):
    old = os.getcwd()
    os.chdir(path)
    try:
        yield
    finally:
        os.chdir(old)


def _mutation_and_line(diff: str, source: list[str], func: str) -> tuple[str, int | None]:
    """("old -> new", line in the module) from a mutmut function diff."""
    old = [ln[1:].strip() for ln in diff.splitlines() if ln.startswith("-") and not ln.startswith("---")]
    new = [ln[1:].strip() for ln in diff.splitlines() if ln.startswith("+") and not ln.startswith("+++")]
    mutation = f"{' '.join(old)} -> {' '.join(new)}"
    start = next((i for i, s in enumerate(source) if s.lstrip().startswith((f"def {func}(", f"async def {func}("))), 0)
    if old:
        for i in range(start, len(source)):
            if source[i].strip() == old[0]:
                return mutation, i + 1
    return mutation, start + 1 if start else None


def _function(name: str) -> str:
    """The source name of the function a mutant name is in (``x_f__mutmut_3`` -> f; methods: ``xǁCǁf``)."""
    mangled = name.rpartition(".")[2].rpartition("__mutmut_")[0]
    return mangled.split("ǁ")[-1] if "ǁ" in mangled else mangled[2:]


def collect(suite: str) -> list[dict]:
    dest = WORK / suite
    records = []
    with _cwd(dest):
        from mutmut.mutation.diff_apply import get_diff_for_mutant
        carried = json.loads(Path("carried.json").read_text()) if Path("carried.json").exists() else {}
        for meta in sorted(Path("mutants").rglob("*.py.meta")):
            module = str(meta.relative_to("mutants"))[: -len(".meta")]
            data = json.loads(meta.read_text())
            source = Path(module).read_text().splitlines()
            for name, code in data["exit_code_by_key"].items():
                code = carried.get(name, code) if code is None else code  # a verdict of an earlier run (run.py --retry)
                rec = dict(name=name, module=module, status=status_by_exit_code[code],
                           seconds=data.get("durations_by_key", {}).get(name))
                if rec["status"] not in KILLED | {"not checked"}:
                    try:
                        diff = get_diff_for_mutant(name, path=module)
                    except Exception as exc:  # noqa: BLE001 - a missing diff must not lose the verdict
                        diff = f"-? (no diff: {exc})"
                    rec["mutation"], rec["line"] = _mutation_and_line(diff, source, _function(name))
                records.append(rec)
    return records


if __name__ == "__main__":
    import sys
    for r in collect(sys.argv[1]):
        if r["status"] not in KILLED:
            print(f"{r['module']}:{r.get('line')}  {r['status']:10s} {r['name']}  {r.get('mutation')}")
