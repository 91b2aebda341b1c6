"""Every loss of lightly 1.6.0 and solo-learn 1.0.2 that takes embeddings, through ``ssl-props check``.

Writes ``docs/real-losses.md``: per loss the command that runs it (flags only, no wrapper file), the
verdict, and for each check that still fails whether it is a real defect of the loss or a declared design
choice (a design choice is declared with a flag, so it shows as xfailed, not failed). Run it in the
conformance environment (``make conformance`` builds it)::

    .venv-conformance/bin/python scripts/real_losses.py            # regenerate docs/real-losses.md
    .venv-conformance/bin/python scripts/real_losses.py --only DINO  # print the rows whose target contains DINO

``tests/test_conformance_real_losses.py`` regenerates the table and fails when the file is stale or when a
failing check has no explanation. solo-learn targets (``solo.losses.vicreg:vicreg_loss_func``) load the
module file alone: solo's package ``__init__`` needs optional dependencies that are not installed.
"""
from __future__ import annotations

import argparse
import contextlib
import fnmatch
import io
import json
import os
import sys
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DOC = ROOT / "docs" / "real-losses.md"
MAX_EXAMPLES = 5  # per property check: the table runs ~50 losses; the flags, not the budget, decide a verdict

DETACHED_WEIGHTS = "check_gradient_matches_finite_differences=weights computed without gradient by design"
CODES = "check_gradient_matches_finite_differences=the codes/targets carry no gradient (computed under no_grad)"


@dataclass(frozen=True)
class Entry:
    """One loss: its target, the flags that run it, and why each check left failing fails."""

    library: str  # lightly | solo-learn
    target: str
    flags: tuple[str, ...] = ()
    failures: dict[str, tuple[str, str]] = field(default_factory=dict)  # check pattern → (defect | design, why)
    note: str = ""  # the loss's design, one line

    def command(self) -> str:
        return " ".join(["ssl-props check", self.target, *(_quote(f) for f in self.flags)])


def _quote(flag: str) -> str:
    """The flag as a POSIX shell word (single quotes, double quotes when it holds an apostrophe)."""
    if not any(ch in flag for ch in " ()*;'\"$`"):
        return flag
    if "'" not in flag:
        return f"'{flag}'"
    return '"' + "".join("\\" + ch if ch in '"$`\\' else ch for ch in flag) + '"'



L, S = "lightly", "solo-learn"
ENTRIES: tuple[Entry, ...] = (
    # ------------------------------------------------------------------ lightly: two views
    Entry(L, "lightly.loss:BarlowTwinsLoss", note="the registered Barlow Twins (biased BatchNorm statistics)"),
    Entry(L, "lightly.loss:DCLLoss", note="decoupled contrastive: the positive out of the denominator"),
    Entry(L, "lightly.loss:DCLWLoss", ("--xfail", DETACHED_WEIGHTS), note="von Mises-Fisher weights without gradient"),
    Entry(L, "lightly.loss:DirectCLRLoss", note="NT-Xent on the first loss_dim=64 coordinates (all of them here)"),
    Entry(L, "lightly.loss:MACLLoss", ("--xfail", DETACHED_WEIGHTS),
          note="adaptive temperature and reweighting V detached by design"),
    Entry(L, "lightly.loss:MMCRLoss", ("--views", "pair:1"),
          note="(batch, views, dim) inputs; pair:1 and pair:0 both run, so the axis is pinned"),
    Entry(L, "lightly.loss:NegativeCosineSimilarity", ("--teacher", "x1", "--teacher-detached"),
          note="a predictor loss: the training loop detaches the target (lightly's examples call it on z.detach())"),
    Entry(L, "lightly.loss:NTXentLoss", note="the registered NT-Xent"),
    Entry(L, "lightly.loss:TiCoLoss", ("--xfail", "check_gradient_matches_finite_differences=the running covariance C "
                                       "carries no gradient"), note="stateful: the running covariance C"),
    Entry(L, "lightly.loss:VICRegLoss", note="the registered VICReg"),
    Entry(L, "lightly.loss.hypersphere_loss:HypersphereLoss", note="Wang & Isola's alignment + uniformity"),
    Entry(L, "lightly.loss.regularizer.co2:CO2Regularizer", ("--collapse-elsewhere", "CO2 is a consistency term "
                                                                "added to a contrastive loss"),
          failures={"check_has_gradient": ("defect", "forward returns torch.tensor(alpha * 0.5 * div): a new leaf, "
                                                     "detached from the graph, so the regulariser never trains anything"),
                    "check_gradient_matches_finite_differences": ("defect", "the same torch.tensor(...) detachment")},
          note="CO2's symmetric KL consistency term"),
    # ------------------------------------------------------------------ lightly: lists, stacks, keywords
    Entry(L, "lightly.loss:EMPSSLLoss",
          failures={"check_prefers_spread*": ("defect", "lightly adds +R(Z) (its tcr_loss is the coding rate R); "
                                                        "EMP-SSL's official code minimises −R: collapse scores lower"),
                    "check_collapse_not_minimum": ("defect", "the same sign")},
          note="a list of views"),
    Entry(L, "lightly.loss:FroSSLLoss", note="a list of views: Frobenius-norm regulariser per view"),
    Entry(L, "lightly.loss:WMSELoss", ("--init", "embedding_dim=4", "--init", "w_size=8", "--init", "eps=0.01",
                                       "--batch", "8", "--dim", "4", "--views", "cat:0",
                                       "--collapse-elsewhere", "W-MSE prevents collapse with its whitening layer"),
          failures={"check_mixed_precision": ("defect", "under autocast(float16) `z[idx] = whitening(...)` writes a "
                                                        "half tensor into a float32 buffer")},
          note="views concatenated (2n, d); sizes fixed by the constructor"),
    Entry(L, "lightly.loss:LeJEPALoss", ("--views", "kw:local_proj,global_proj:0", "--fixed-seed", "0"),
          note="keyword-only (V, N, D) views; SIGReg's 1024 random slices (torch's generator, reseeded)"),
    Entry(L, "lightly.loss:VISRegLoss", ("--views", "kw:local_proj,global_proj:0", "--fixed-seed", "0", "--xfail",
                                         "check_gradient_matches_finite_differences=the stop-gradient on the std (VISReg, Eq. 2: shape decoupled from scale)"),
          note="as LeJEPA: random slices"),
    Entry(L, "lightly.loss:KoLeoLoss", ("--views", "single", "--family", "sample-contrastive"),
          note="a one-batch regulariser, added per view as DINOv2 does"),
    Entry(L, "lightly.loss:SIGReg", ("--views", "single", "--fixed-seed", "0"),
          note="LeJEPA's sketched isotropic Gaussian regulariser (random slices)"),
    Entry(L, "lightly.loss.vicreg_loss:variance_loss", ("--views", "single", "--collapse-elsewhere",
                                                        "VICReg's covariance term prevents dimensional collapse"),
          note="VICReg's variance term alone: eps is a constant, never a view"),
    Entry(L, "lightly.loss.vicreg_loss:covariance_loss", ("--views", "single", "--collapse-elsewhere",
                                                          "VICReg's variance term prevents complete collapse"),
          note="VICReg's covariance term alone"),
    Entry(L, "lightly.loss.vicreg_loss:invariance_loss", ("--collapse-elsewhere", "VICReg's variance and covariance "
                                                          "terms prevent collapse"), note="VICReg's invariance term alone"),
    Entry(L, "lightly.loss.emp_ssl_loss:tcr_loss", ("--views", "single:0", "--arg", "eps=0.2", "--xfail",
                                                    "check_prefers_spread*=the coding rate R(Z) is maximised (EMP-SSL "
                                                    "minimises −R): it grows with spread"),
          note="the coding rate R(Z) of a (V, B, D) batch; eps is required"),
    # ------------------------------------------------------------------ lightly: teacher / student, prototypes
    Entry(L, "lightly.loss:DINOLoss", ("--init", "output_dim=8", "--dim", "8", "--teacher", "teacher_out",
                                       "--teacher-detached", "--crops", "2,2"),
          note="teacher lists of global crops, a centre updated every call; lightly's loop runs the teacher in no_grad"),
    Entry(L, "lightly.loss:SwaVLoss", ("--crops", "2,2", "--input-range=-1,1", "--xfail", CODES),
          note="prototype scores (cosines): high- and low-resolution lists"),
    Entry(L, "lightly.loss:MSNLoss", ("--teacher", "targets", "--arg", "prototypes=unit(8,D)"),
          note="anchors against target views through prototypes"),
    Entry(L, "lightly.loss:PMSNLoss", ("--teacher", "targets", "--arg", "prototypes=unit(8,D)"),
          note="MSN with a power-law prior"),
    Entry(L, "lightly.loss:PMSNCustomLoss", ("--init", "target_distribution=@ssl_props.checker.builders:uniform_like",
                                             "--teacher", "targets", "--arg", "prototypes=unit(8,D)"),
          note="MSN with a given prior (here uniform, MSN's)"),
    Entry(L, "lightly.loss:CAPILoss", ("--views", "kw:student_logits,teacher_logits:1", "--teacher", "teacher_logits"),
          note="token cluster logits (B, T, K); Sinkhorn targets detached inside"),
    Entry(L, "lightly.loss:IBOTPatchLoss", ("--init", "output_dim=8", "--dim", "8", "--teacher", "teacher_out",
                                            "--teacher-detached", "--arg", "mask=mask(B,1,1)"),
          note="masked patch tokens (B·T, K) with a (B, T) mask; a centre"),
    Entry(L, "lightly.loss:IBOTPlusPlusPatchLoss", ("--init", "output_dim=8", "--dim", "8", "--teacher", "teacher_out",
                                                    "--teacher-detached", "--arg", "mask=mask(B,1,1)"),
          note="iBOT++: visible tokens too"),
    Entry(L, "lightly.loss:DetConSLoss", ("--init", "gather_distributed=False", "--views", "pair:1",
                                          "--arg", "mask_view0=randint(1,B,1)", "--arg", "mask_view1=randint(1,B,1)"),
          note="mask-pooled (B, M, D) features with one mask per image"),
    Entry(L, "lightly.loss:DetConBLoss", ("--init", "gather_distributed=False",
                                          "--views", "kw:pred_view0+pred_view1,target_view1+target_view0:1",
                                          "--teacher", "target_view1", "--teacher-detached",
                                          "--arg", "mask_view0=randint(1,B,1)", "--arg", "mask_view1=randint(1,B,1)"),
          note="BYOL-style predictions against targets of the other view: both predictions get z1, both targets z2"),
    Entry(L, "lightly.loss:PatchKernelAlignmentLoss", ("--views", "kw:student_features,teacher_features:0",
                                                       "--teacher", "teacher_features", "--dtype", "float32",
                                                       "--batch", "6"),
          note="dense (B, N, D) features: one image of N tokens, computed in float32 by design; the CKA of two tokens "
               "is identically 1 (no gradient), so 6 tokens are pinned"),
    Entry(L, "lightly.loss:VICRegLLoss", ("--init", "num_matches=(2,2)", "--crops", "2,2:tuples",
                                          "--views", "kw:global_view_features,local_view_features",
                                          "--arg", "global_view_grids=grid(2,2)*2",
                                          "--arg", "local_view_grids=grid(2,2)*2"),
          note="(global, local-grid) feature pairs with their grids; the 2×2 local grids hold the global vector"),
    Entry(L, "lightly.loss:LeWMLoss", ("--views", "kw:predicted+embeddings,target:1", "--teacher", "target",
                                       "--teacher-detached", "--fixed-seed", "0"),
          note="(B, T, D) predicted and target frames, SIGReg on the embeddings (here the predictions' frames)"),
    Entry(L, "lightly.loss.lewm_loss:latent_prediction_loss", ("--views", "kw:predicted,target:1", "--teacher",
                                                               "target", "--teacher-detached"),
          note="LeWM's prediction term"),
    Entry(L, "lightly.loss.lejepa_loss:lejepa_invariance_loss", ("--views", "kw:all_proj,global_proj:0",
                                                                 "--collapse-elsewhere", "SIGReg prevents collapse"),
          note="LeJEPA's invariance term alone"),
    Entry(L, "lightly.loss.visreg_loss:visreg_center_loss", ("--views", "single", "--collapse-elsewhere",
                                                             "VISReg's scale and shape terms prevent collapse"),
          note="VISReg's centring term"),
    Entry(L, "lightly.loss.visreg_loss:visreg_scale_loss", ("--views", "single", "--collapse-elsewhere",
                                                            "VISReg's shape term prevents dimensional collapse"),
          note="VISReg's scale term"),
    Entry(L, "lightly.loss.visreg_loss:visreg_shape_loss", ("--views", "single", "--arg", "num_slices=64",
                                                            "--fixed-seed", "0", "--xfail",
                                                            "check_gradient_matches_finite_differences=the stop-gradient on the std (VISReg, Eq. 2: shape decoupled from scale)"),
          note="VISReg's sliced-Wasserstein shape term: random slices from torch's generator; num_slices is required"),
    Entry(L, "lightly.loss.regularizer.dse:DSERegularizer", ("--views", "single:0", "--fixed-seed", "0", "--xfail",
                                                             "check_batch_permutation_invariance=k-means starts from "
                                                             "randomly indexed tokens: under a fixed seed the index picks "
                                                             "another token once the batch is permuted", "--xfail",
                                                             "check_gradient_matches_finite_differences=the k-means "
                                                             "cluster assignments carry no gradient"),
          note="dense structure regulariser on (B, N, D) tokens: one image of N tokens"),
    # ------------------------------------------------------------------ solo-learn
    Entry(S, "solo.losses.barlow:barlow_loss_func", note="Barlow Twins with scale_loss=0.025"),
    Entry(S, "solo.losses.byol:byol_loss_func", note="(p, z): a predictor loss; z detached inside"),
    Entry(S, "solo.losses.simsiam:simsiam_loss_func", note="(p, z): a predictor loss; z detached inside"),
    Entry(S, "solo.losses.nnclr:nnclr_loss_func", ("--teacher", "nn", "--teacher-detached"),
          note="nearest neighbours from a support set (detached by the model)"),
    Entry(S, "solo.losses.simclr:simclr_loss_func", note="NT-Xent at τ = 0.1"),
    Entry(S, "solo.losses.simclr:manual_simclr_loss_func", ("--views", "cat:0", "--arg", "pos_mask=positives(2)",
                                                            "--arg", "neg_mask=negatives(2)"),
          note="views concatenated with explicit positive and negative masks"),
    Entry(S, "solo.losses.vicreg:vicreg_loss_func", note="VICReg with the variance term not halved"),
    Entry(S, "solo.losses.vicreg:invariance_loss", ("--collapse-elsewhere", "VICReg's other terms prevent collapse"),
          note="VICReg's invariance term alone"),
    Entry(S, "solo.losses.vicreg:variance_loss", ("--collapse-elsewhere", "VICReg's covariance term prevents "
                                                  "dimensional collapse"), note="VICReg's variance term, both views"),
    Entry(S, "solo.losses.vicreg:covariance_loss", ("--collapse-elsewhere", "VICReg's variance term prevents complete "
                                                    "collapse"), note="VICReg's covariance term, both views"),
    Entry(S, "solo.losses.wmse:wmse_loss_func", ("--collapse-elsewhere", "W-MSE prevents collapse with its whitening"),
          failures={"check_gradient_matches_finite_differences": (
              "defect", "the default simplified=True detaches z2 while the docstring says it equals simplified=False")},
          note="MSE of whitened views"),
    Entry(S, "solo.losses.moco:moco_loss_func", ("--teacher", "key", "--teacher-detached",
                                                 "--arg", "queue=unit(16,D).T"),
          note="MoCo v2+: a (D, K) queue of keys; the momentum keys detached by the model"),
    Entry(S, "solo.losses.ressl:ressl_loss_func", ("--teacher", "k", "--teacher-detached", "--arg", "queue=unit(16,D)"),
          note="ReSSL: relational targets against a (K, D) queue"),
    Entry(S, "solo.losses.swav:swav_loss_func", ("--teacher", "assignments", "--teacher-detached", "--crops", "2,0",
                                                 "--input-range=0,1"),
          note="predictions against given codes (lists of views)"),
    Entry(S, "solo.losses.deepclusterv2:deepclusterv2_loss_func", ("--views", "stacked:1:0",
                                                                  "--arg", "assignments=argmax(z2,1,B)",
                                                                  "--collapse-elsewhere", "k-means re-balances the "
                                                                  "clusters (DeepCluster)"),
          note="prototype outputs (P, V, B, K) against k-means assignments (P, B), here the second view's argmax"),
    Entry(S, "solo.losses.dino:DINOLoss", ("--init", "num_prototypes=8", "--init", "warmup_teacher_temp=0.04",
                                          "--init", "teacher_temp=0.04", "--init", "warmup_teacher_temp_epochs=0",
                                          "--init", "num_epochs=1", "--dim", "8", "--teacher", "teacher_output",
                                          "--crops", "2,0:cat"),
          note="views concatenated; a centre"),
)


def run(entry: Entry, max_examples: int = MAX_EXAMPLES) -> dict:
    """The JSON report of ``entry``'s command (exit code under ``"exit"``; a usage error under ``"error"``)."""
    from ssl_props.cli import main

    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(["check", entry.target, *entry.flags, "--format", "json", "--max-examples", str(max_examples)])
    if code == 2:
        return {"exit": 2, "error": err.getvalue().strip().splitlines()[-1] if err.getvalue().strip() else "usage error"}
    doc = json.loads(out.getvalue())
    doc["exit"] = code
    return doc


def explain(entry: Entry, check: str) -> tuple[str, str] | None:
    """``(defect | design, why)`` for a failing check of ``entry``, if the entry explains it."""
    for pattern, why in entry.failures.items():
        if check == pattern or fnmatch.fnmatchcase(check, pattern):
            return why
    return None


def _like(doc: dict) -> str:
    parts = []
    for m in doc.get("behaves_like", [])[:2]:
        params = ", ".join(f"{k}={v!r}" if not isinstance(v, float) else f"{k}={v:.4g}" for k, v in m["params"].items())
        f = m.get("factor", 1.0)
        parts.append((f"{f:.4g} × " if abs(f - 1) > 1e-9 else "") + f"{m['name']}({params})")
    return "; ".join(parts) or "—"


def verdict(entry: Entry, doc: dict) -> tuple[str, list[str]]:
    """``(one-line verdict, failure lines)``."""
    if doc.get("error"):
        return f"usage error: {doc['error']}", []
    counts = doc["counts"]
    summary = ", ".join(f"{v} {k}" for k, v in counts.items() if v)
    head = ("PASSED" if doc["passed"] else "FAILED") + f" ({summary})"
    lines = []
    for r in doc["results"]:
        if r["passed"]:
            continue
        why = explain(entry, r["check"])
        kind, text = why if why else ("UNEXPLAINED", r["message"][:200])
        lines.append(f"`{r['check']}`: **{kind}**: {text}")
    return head, lines


def render(rows: list[tuple[Entry, dict]]) -> str:
    out = ["# Real losses under `ssl-props check`", "",
           "Every loss of lightly 1.6.0 and solo-learn 1.0.2 that takes embeddings, run as a user runs it: the "
           "command below (flags only, no wrapper file). Generated by `scripts/real_losses.py` in the conformance "
           f"environment with `--max-examples {MAX_EXAMPLES}` added; `tests/test_conformance_real_losses.py` "
           "(`make conformance`) fails when this file is stale or when a failing check is not explained. "
           "Each check still failing is a **defect** (of the loss) or a **design** choice the loss makes; a "
           "design choice that a flag can declare is declared (it shows as xfailed, with its reason). "
           "solo-learn targets load the module file alone (solo's package `__init__` needs optional "
           "dependencies).", "",
           "Flags: `--views` the calling convention when two run (`pair:1`, `kw:A,B:0`, `single`, `cat:0`), "
           "`--teacher NAME` the detached teacher (`--teacher-detached`: the training loop detaches it), "
           "`--crops G,L[:PACK]` multi-crop, `--arg NAME=VALUE|builder` extra arguments (prototypes "
           "`unit(8,D)`, a queue `unit(16,D).T`, masks), `--input-range LO,HI` scores in their domain, "
           "`--collapse-elsewhere` a term whose collapse is prevented by another, `--fixed-seed N` a loss that "
           "draws random slices (torch's generator reseeded before every call), `--xfail CHECK=REASON`.", ""]
    for lib in (L, S):
        out += [f"## {lib}", "", "| loss | command | verdict | behaves like | what it is |", "|---|---|---|---|---|"]
        for entry, doc in rows:
            if entry.library != lib:
                continue
            head, lines = verdict(entry, doc)
            cell = head + "".join(f"<br>{x}" for x in lines)
            name = entry.target.split(":")[-1]
            out.append(f"| `{name}` | `{entry.command()}` | {cell.replace('|', '∣')} | {_like(doc)} | {entry.note} |")
        out.append("")
    return "\n".join(out)


def generate(only: str | None = None) -> tuple[str, list[tuple[Entry, dict]]]:
    rows = [(e, run(e)) for e in ENTRIES if only is None or only in e.target]
    return render(rows), rows


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--only", default=None, help="only targets containing this text (printed, file untouched)")
    args = ap.parse_args(argv)
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    text, rows = generate(args.only)
    if args.only:
        for entry, doc in rows:
            head, lines = verdict(entry, doc)
            print(entry.command(), "\n ", head, *[f"\n    {x}" for x in lines], "\n  notes:", doc.get("notes"))
        return 0
    DOC.write_text(text + "\n")
    print(f"wrote {DOC.relative_to(ROOT)} ({len(rows)} losses)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
