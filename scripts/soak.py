"""Soak: the theorem suite under N fresh Hypothesis seeds (``dev`` profile), to find flaky properties.

    python scripts/soak.py [-N 20] [--seeds 1,2,3] [--profile dev] [--workers 0] [-- extra pytest args]
    make soak N=20

Each seed is one ``pytest theorems/ --hypothesis-profile=dev --hypothesis-seed=SEED`` in a fresh
process, run from a fresh temporary folder so that its Hypothesis example database starts empty (a
failure replayed from an earlier seed would be blamed on the wrong one). Prints one line per seed and
one ``FAILED <test id> (seed SEED)`` line per failing test, with the command that replays it; exits 1
if any test failed under any seed, 2 if pytest could not run.
"""
from __future__ import annotations

import argparse
import secrets
import subprocess
import sys
import tempfile
import time
import xml.etree.ElementTree as ET
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def failures(junit: Path) -> list[tuple[str, str]]:
    """``(test id, first line of the message)`` of every failed or erroring test case in a JUnit XML file."""
    out = []
    for case in ET.parse(junit).getroot().iter("testcase"):
        for bad in (*case.findall("failure"), *case.findall("error")):
            name = case.get("name", "")
            cid = name[name.index("[") + 1: -1] if "[" in name else f"{case.get('classname')}::{name}"
            out.append((cid, (bad.get("message") or "").splitlines()[0][:200] if bad.get("message") else ""))
    return out


def run_seed(seed: int, profile: str, workers: int, extra: list[str]) -> tuple[int, list[tuple[str, str]], float]:
    with tempfile.TemporaryDirectory(prefix="ssl-soak-") as tmp:
        junit = Path(tmp) / "junit.xml"
        cmd = [sys.executable, "-m", "pytest", str(ROOT / "theorems"), f"--hypothesis-profile={profile}",
               f"--hypothesis-seed={seed}", "-q", "-p", "no:cacheprovider", f"--junitxml={junit}", *extra]
        if workers:
            cmd += ["-n", str(workers)]
        t0 = time.perf_counter()
        proc = subprocess.run(cmd, cwd=tmp, capture_output=True, text=True)
        dt = time.perf_counter() - t0
        if proc.returncode not in (0, 1) or not junit.exists():
            sys.stderr.write(proc.stdout[-3000:] + proc.stderr[-3000:])
            return proc.returncode or 2, [], dt
        return proc.returncode, failures(junit), dt


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("-N", type=int, default=20, help="number of fresh seeds (ignored with --seeds)")
    ap.add_argument("--seeds", default=None, help="comma-separated seeds to replay instead of fresh ones")
    ap.add_argument("--profile", default="dev", choices=("ci", "dev", "thorough"))
    ap.add_argument("--workers", type=int, default=0, help="pytest-xdist workers per run (0: serial)")
    ap.add_argument("extra", nargs="*", help="extra pytest arguments (after --)")
    a = ap.parse_args(argv)
    if a.N < 1 and not a.seeds:
        ap.error(f"-N must be at least 1, got {a.N}")
    try:
        seeds = [int(s) for s in a.seeds.split(",") if s] if a.seeds else [secrets.randbelow(2**32) for _ in range(a.N)]
    except ValueError:
        ap.error(f"--seeds must be comma-separated integers, got {a.seeds!r}")
    failed: list[tuple[int, str, str]] = []
    broken = 0
    for i, seed in enumerate(seeds, 1):
        rc, bad, dt = run_seed(seed, a.profile, a.workers, a.extra)
        broken += rc not in (0, 1)
        status = "pytest could not run" if rc not in (0, 1) else f"{len(bad)} failed"
        print(f"[{i}/{len(seeds)}] seed {seed}: {status} ({dt:.0f} s)", flush=True)
        for cid, msg in bad:
            print(f"  FAILED {cid} (seed {seed}): {msg}", flush=True)
            failed.append((seed, cid, msg))
    print(f"\n{len(seeds)} seeds, profile {a.profile}: {len(failed)} failing test runs"
          f"{f', {broken} runs where pytest could not run' if broken else ''}")
    for seed, cid, _ in failed:
        print(f"  replay: pytest theorems/ --hypothesis-profile={a.profile} --hypothesis-seed={seed} -k '{cid}'")
    return 2 if broken else (1 if failed else 0)


if __name__ == "__main__":
    raise SystemExit(main())
