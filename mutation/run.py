"""Run mutmut on one suite in its own copy of the tree: ``python mutation/run.py theorems|tests [options]``.

The copy (``mutation/work/<suite>/``, git-ignored) holds ``ssl_props/``, ``tests/``, ``theorems/``, ``docs/``
(a test reads it), ``conftest.py`` and ``pyproject.toml``, taken from ``HEAD`` (default: what is committed,
so edits in progress elsewhere in the tree never leak into a run) or from the work tree (``--source
worktree``), and the two pytest plugins of ``mutation/``. Its ``pyproject.toml`` is the project's with
``[tool.mutmut]`` rewritten: the test selection is the one suite, ``--only`` narrows the mutated modules
(a pilot), and a test that fails before any mutation is deselected and listed (``preflight.py``). mutmut
then works on its own copy inside that one (``mutants/``), so no file of the project is ever modified. In
the copy, the mutated modules' decorated functions are undecorated first (``desugar.py``), or mutmut
would skip every registered loss and every derivation.

mutmut keeps each verdict in ``mutants/**/*.meta`` as it goes: a run that is stopped keeps what it
finished, and running again (without ``--fresh``) resumes; ``--max-minutes`` stops it so (SIGINT to
mutmut's process group, then SIGKILL), leaving no process behind. ``mutation/collect.py`` reads the verdicts.
"""
from __future__ import annotations

import argparse
import fnmatch
import json
import os
import shutil
import signal
import subprocess
import sys
import tomllib
from pathlib import Path

from desugar import desugar
from preflight import failing
from sample import names, pick

ROOT = Path(__file__).resolve().parent.parent
WORK = ROOT / "mutation" / "work"
COPIED = ["ssl_props", "tests", "theorems", "docs", "conftest.py", "pyproject.toml"]
TOOL = ["mutation/hypothesis_profile.py", "mutation/preflight.py"]  # pytest plugins, always from the work tree
SUITES = ("theorems", "tests")


def copy_tree(dest: Path, source: str) -> None:
    """The files mutmut needs, from HEAD (``git archive``) or from the work tree; the plugins of TOOL."""
    dest.mkdir(parents=True)
    (dest / "mutation").mkdir()
    for rel in TOOL:
        shutil.copy2(ROOT / rel, dest / rel)
    if source == "head":
        archive = subprocess.run(["git", "archive", "HEAD", *COPIED], cwd=ROOT, check=True, capture_output=True)
        subprocess.run(["tar", "-x", "-C", str(dest)], input=archive.stdout, check=True)
        return
    ignore = shutil.ignore_patterns("__pycache__", ".hypothesis", ".pytest_cache")
    for rel in COPIED:
        src, dst = ROOT / rel, dest / rel
        dst.parent.mkdir(parents=True, exist_ok=True)
        shutil.copytree(src, dst, ignore=ignore) if src.is_dir() else shutil.copy2(src, dst)


def undecorate(dest: Path) -> None:
    """Undecorate the functions of the mutated modules of the copy (``desugar.py``: mutmut skips decorated ones)."""
    conf = read_config(dest)
    match = lambda p, globs: any(fnmatch.fnmatch(p, g) for g in globs)  # noqa: E731
    for path in sorted((dest / "ssl_props").rglob("*.py")):
        rel = str(path.relative_to(dest))
        if match(rel, conf.get("only_mutate", ["*"])) and not match(rel, conf.get("do_not_mutate", [])):
            desugar(path)


def toml_value(value) -> str:
    """A TOML literal for the strings, numbers, booleans and lists of ``[tool.mutmut]``."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        return "[" + ", ".join(toml_value(v) for v in value) + "]"
    return json.dumps(value)  # a JSON string or number is a valid TOML one


def read_config(dest: Path) -> dict:
    return tomllib.loads((dest / "pyproject.toml").read_text())["tool"]["mutmut"]


def write_config(dest: Path, suite: str, only: list[str] | None, deselect: list[str]) -> None:
    """Rewrite the copy's ``[tool.mutmut]`` section: this suite only; ``only`` (if given) as ``only_mutate``;
    the tests of ``deselect`` (failing before any mutation, see preflight.py) deselected."""
    path = dest / "pyproject.toml"
    text = path.read_text()
    conf = read_config(dest)
    conf["pytest_add_cli_args_test_selection"] = [f"{suite}/"]
    # a whole file (a collection error) must be ignored: deselecting it would still collect it
    conf["pytest_add_cli_args"] = conf.get("pytest_add_cli_args", []) + [
        a for t in deselect for a in ("--deselect" if "::" in t else "--ignore", t)]
    if only:
        conf["only_mutate"] = only
    kept, skipping = [], False
    for line in text.splitlines():
        if line.startswith("["):
            skipping = line.strip() == "[tool.mutmut]"
        if not skipping:
            kept.append(line)
    kept += ["", "[tool.mutmut]"] + [f"{k} = {toml_value(v)}" for k, v in conf.items()]
    path.write_text("\n".join(kept) + "\n")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("suite", choices=SUITES)
    ap.add_argument("--only", nargs="+", help="mutate only these modules (globs as in only_mutate)")
    ap.add_argument("--source", choices=("head", "worktree"), default="head")
    ap.add_argument("--fresh", action="store_true", help="start again (default: resume the copy's run)")
    ap.add_argument("--max-children", type=int, default=1, help="mutants run at once")
    ap.add_argument("--nice", type=int, default=19)
    ap.add_argument("--sample", type=int, metavar="N", help="test every N-th mutant of each function (sample.py)")
    ap.add_argument("--offset", type=int, default=0, help="which of the N (with --sample)")
    ap.add_argument("--max-minutes", type=float, help="stop then (SIGINT: mutmut keeps every finished verdict)")
    ap.add_argument("--retry", action="store_true",
                    help="a fresh copy of HEAD that reruns only what the last run did not kill; a killed verdict is "
                         "carried over when its module's source is unchanged (added checks can only add kills)")
    ap.add_argument("--survivors-of", choices=SUITES, metavar="SUITE",
                    help="run only the mutants SUITE's run checked and did not kill (the combined score needs no more)")
    args = ap.parse_args(argv)

    dest = WORK / args.suite
    previous = WORK / f"{args.suite}.previous"
    if args.retry:
        if not dest.exists():
            ap.error(f"--retry needs a previous run in {dest}")
        if previous.exists():
            shutil.rmtree(previous)
        dest.rename(previous)
    if args.fresh and dest.exists():
        shutil.rmtree(dest)
    if not dest.exists():
        copy_tree(dest, args.source)
        undecorate(dest)
        deselect = failing(dest, args.suite, read_config(dest).get("pytest_add_cli_args", []), args.nice)
        (dest / "deselected.txt").write_text("".join(t + "\n" for t in deselect))
        if deselect:
            print(f"mutation/run.py {args.suite}: deselected, failing before any mutation: {deselect}", flush=True)
        write_config(dest, args.suite, args.only, deselect)
    mutmut = Path(sys.executable).parent / "mutmut"
    cmd = ["nice", "-n", str(args.nice), str(mutmut), "run", "--max-children", str(args.max_children)]
    chosen = pick(names(dest), args.sample, args.offset) if args.sample else None
    if args.sample:
        print(f"mutation/run.py {args.suite}: a sample of {len(chosen)} mutants (every {args.sample}-th, offset "
              f"{args.offset})", flush=True)
    if args.retry:
        carried = carry_over(previous, dest)
        chosen = [n for n in (chosen if chosen is not None else names(dest)) if n not in carried]
        print(f"mutation/run.py {args.suite}: {len(carried)} killed verdicts carried over (module unchanged), "
              f"{len(chosen)} mutants to run", flush=True)
    if args.survivors_of:
        left = not_killed(WORK / args.survivors_of)
        chosen = [n for n in (chosen if chosen is not None else names(dest)) if n in left]
        (dest / "selection.txt").write_text(f"the mutants {args.survivors_of}/ checked and did not kill\n")
        print(f"mutation/run.py {args.suite}: {len(chosen)} of them not killed by {args.survivors_of}/", flush=True)
    if chosen is not None:
        if not chosen:
            print(f"mutation/run.py {args.suite}: no mutant to run", flush=True)
            return 0
        cmd += chosen
    # one thread per worker: the workers are forked from a server that has imported torch (and run the suite's
    # collection), and an OpenMP pool started before a fork deadlocks in the child (a hung worker reads "timeout")
    env = dict(os.environ, PYTHONDONTWRITEBYTECODE="1", OMP_NUM_THREADS="1", MKL_NUM_THREADS="1")
    with open(dest / "mutmut.log", "a") as log:
        print(f"mutation/run.py {args.suite}: {' '.join(cmd[:7])} ... (log: {dest / 'mutmut.log'})", flush=True)
        proc = subprocess.Popen(cmd, cwd=dest, stdout=log, stderr=subprocess.STDOUT, env=env,
                                start_new_session=True)
        try:
            return proc.wait(timeout=None if args.max_minutes is None else 60 * args.max_minutes)
        except (subprocess.TimeoutExpired, KeyboardInterrupt):
            return stop(proc)


def not_killed(copy: Path) -> set[str]:
    """The mutants the run in ``copy`` checked and did not kill (survived, no tests, ...), from its verdicts."""
    from collect import KILLED
    from mutmut.stats import status_by_exit_code
    left = set()
    for meta in (copy / "mutants").rglob("*.py.meta"):
        for name, code in json.loads(meta.read_text())["exit_code_by_key"].items():
            if status_by_exit_code[code] not in KILLED | {"not checked"}:
                left.add(name)
    return left


def carry_over(previous: Path, dest: Path) -> dict[str, int]:
    """The killed verdicts of ``previous`` (its own run's, and those it carried) whose module has the same source
    in ``dest``: written to ``dest/carried.json`` (``collect.py`` reads it for the mutants this run does not check)."""
    from collect import KILLED
    from mutmut.stats import status_by_exit_code
    old = json.loads((previous / "carried.json").read_text()) if (previous / "carried.json").exists() else {}
    carried = {}
    for meta in (previous / "mutants").rglob("*.py.meta"):
        module = meta.relative_to(previous / "mutants").with_suffix("")  # ssl_props/x.py
        if not (dest / module).exists() or (previous / module).read_bytes() != (dest / module).read_bytes():
            continue
        for name, code in json.loads(meta.read_text())["exit_code_by_key"].items():
            code = old.get(name, code) if code is None else code
            if status_by_exit_code[code] in KILLED:
                carried[name] = code
    (dest / "carried.json").write_text(json.dumps(carried, indent=0))
    return carried


def stop(proc: subprocess.Popen) -> int:
    """Stop mutmut and its workers (its own process group): SIGINT, then SIGKILL after a minute."""
    os.killpg(proc.pid, signal.SIGINT)
    try:
        proc.wait(timeout=60)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
    print(f"mutation/run.py: stopped mutmut (pid {proc.pid}); finished verdicts are kept", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
