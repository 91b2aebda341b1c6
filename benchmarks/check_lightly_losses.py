"""Run ``ssl-props check`` on every lightly loss that takes embeddings; print the rows of docs/real-losses.md.

Run in the conformance environment (``make conformance`` builds it)::

    .venv-conformance/bin/python benchmarks/check_lightly_losses.py [--max-examples 25]

Each row: the target, the flags it needs (none = out of the box), the counts, the failed / xfailed /
warning checks and the wall time of the battery (pre-flight and identification included).
"""
from __future__ import annotations

import argparse
import time

from ssl_props.checker import check_loss
from ssl_props.checker.cli import load_target
from ssl_props.errors import UsageError

DETACHED = {"check_gradient_matches_finite_differences": "detached by design"}
#: (target, CLI flags as shown, check_loss keywords, constructor arguments)
ROWS = [
    ("lightly.loss:BarlowTwinsLoss", "", {}, {}),
    ("lightly.loss:DCLLoss", "", {}, {}),
    ("lightly.loss:DCLWLoss", "--xfail check_gradient_matches_finite_differences=...", {"expected_failures": DETACHED}, {}),
    ("lightly.loss:DirectCLRLoss", "", {}, {}),
    ("lightly.loss:MACLLoss", "--xfail check_gradient_matches_finite_differences=...", {"expected_failures": DETACHED}, {}),
    ("lightly.loss:MMCRLoss", "(detected: --views pair:1)", {}, {}),
    ("lightly.loss:NegativeCosineSimilarity", "--predictor --xfail check_stop_gradient=...",
     {"needs_stop_gradient": True, "expected_failures": {"check_stop_gradient": "the caller detaches"}}, {}),
    ("lightly.loss:NTXentLoss", "", {}, {}),
    ("lightly.loss:TiCoLoss", "--xfail check_gradient_matches_finite_differences=...", {"expected_failures": DETACHED}, {}),
    ("lightly.loss:VICRegLoss", "", {}, {}),
    ("lightly.loss.hypersphere_loss:HypersphereLoss", "", {}, {}),
    ("lightly.loss:EMPSSLLoss", "(detected: --views list)", {}, {}),
    ("lightly.loss:FroSSLLoss", "(detected: --views list)", {}, {}),
    ("lightly.loss:WMSELoss", "--init embedding_dim=4 --init w_size=8 --batch 8 --dim 4", {"shapes": (8, 4)},
     {"embedding_dim": 4, "w_size": 8}),
    ("lightly.loss:WMSELoss", "(defaults: embedding_dim=128, w_size=256)", {}, {}),
    ("lightly.loss:LeJEPALoss", "(detected: --views kw:local_proj,global_proj:0)", {}, {}),
    ("lightly.loss:VISRegLoss", "(detected: --views kw:local_proj,global_proj:0)", {}, {}),
    ("lightly.loss:KoLeoLoss", "", {}, {}),
]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--max-examples", type=int, default=None)
    args = ap.parse_args()
    print("| target | flags | counts | not passed | s |")
    print("|---|---|---|---|---|")
    for target, shown, kw, init in ROWS:
        t0 = time.perf_counter()
        try:
            report = check_loss(load_target(target, init), max_examples=args.max_examples, **kw)
        except UsageError as e:
            print(f"| `{target}` | {shown} | usage error | {e} | |")
            continue
        c = {k: v for k, v in report.counts().items() if v}
        bad = "; ".join(f"{r.status}: {r.check}: {r.message[:160]}" for r in report.results
                        if r.status not in ("passed", "skipped"))
        like = ", ".join(m["name"] for m in report.behaves_like[:2]) or "no registered loss"
        print(f"| `{target}` | {shown} | {c} (behaves like {like}) | {bad.replace('|', '/')} | "
              f"{time.perf_counter() - t0:.1f} |")


if __name__ == "__main__":
    main()
