"""Wang, Chen, Du & Tian, "Towards Demystifying Representation Learning with Non-contrastive
Self-supervision", arXiv:2110.04947 (DirectSet(α), DirectCopy).

The paper's full text could not be read (only its abstract and introduction, see the shared notes):
the records below encode the abstract's claims as *reconstructed* statements, re-derived from the linear
model of Tian et al. (2021); their numbers, exact hypotheses and constants are unverified (each record's
``provenance`` says so). Checks live in :mod:`ssl_props.papers.wang2021.thresholds`.
"""
from __future__ import annotations

from ssl_props.papers.wang2021 import thresholds as C
from ssl_props.registry import Check, Paper, Theorem, register

PAPER = Paper(key="wang2021", authors=("Xiang Wang", "Xinlei Chen", "Simon S. Du", "Yuandong Tian"),
              title="Towards Demystifying Representation Learning with Non-contrastive Self-supervision",
              venue="arXiv preprint", year=2021, arxiv="2110.04947")

_RECON = ("RECONSTRUCTED: the full text was not available; the claim is from the abstract ('a linear network "
          "provably learns a desirable projection matrix'; 'weight decay acts as an implicit threshold that discards "
          "the features with high variance under augmentation'); the number, hypotheses and constants are our "
          "derivation in Tian et al.'s model (threshold from their Eqn 16), not verified against the paper")

_A_ETA = "weight decay η > 0"
_A_INIT = "initialisation above the unstable point: u_j(0) > u_j− for the kept modes"
_A_PRED = "the predictor is set from the feature correlation (DirectSet), not absent"
_A_SG = "StopGrad on the target branch"
_A_INIT_BOTH = "initialisation above the unstable point for both α: s_j(0)^α > u_j− for α = ½ and α = 1"

register(Theorem(
    id="wang2021.thm1", paper=PAPER, number="Theorem 1 (numbering unverified)", kind="theorem",
    title="DirectSet(α) learns a projection; weight decay thresholds augmentation variance",
    statement="With X = I, X' = Q diag(σ_j²) Qᵀ, weight decay η and W_p = F^α, WᵀW converges to Q diag(s*) Qᵀ with "
              "s_j* = u₊^{1/α} if σ_j² < 1/(4η) − 1 and 0 otherwise: a rescaled projection onto the low "
              "augmentation-variance directions.",
    formula="u₊ = [1 + √(1 − 4η(1+σ²))] / (2(1+σ²)), s* = u₊^{1/α}, kept iff σ² < 1/(4η) − 1",
    assumptions=(_A_ETA, _A_INIT, _A_PRED, _A_SG),
    checks=(Check("symbolic", "fixed_points_and_threshold", C.symbolic_threshold,
                  "sympy: u± solve u(1 − cu) = η for any α; discriminant ≥ 0 ⇔ σ² ≤ 1/(4η) − 1"),
            Check("numeric", "limit_matches_closed_form", C.numeric_threshold,
                  "batched adaptive simulation (DirectPred SimSiam, DirectCopy EMA) vs the closed form, rotated Q"),
            Check("necessity", "no_weight_decay", C.necessity_weight_decay, "η = 0 keeps every direction",
                  assumption=_A_ETA),
            Check("necessity", "small_initialisation", C.necessity_initialisation,
                  "W(0) small: kept directions are lost", assumption=_A_INIT),
            Check("necessity", "no_predictor", C.necessity_predictor, "W_p = I: everything collapses",
                  assumption=_A_PRED),
            Check("necessity", "no_stop_gradient", C.necessity_stop_gradient,
                  "gradient through the target: everything collapses", assumption=_A_SG)),
    related=("tian2021.eq16", "tian2021.eq18"),
    provenance=_RECON))

register(Theorem(
    id="wang2021.directcopy", paper=PAPER, number="DirectCopy (§ unverified)", kind="claim",
    title="DirectCopy reaches the subspace of DirectPred without an eigendecomposition",
    statement="DirectSet(½) (DirectPred) and DirectSet(1) (DirectCopy, W_p = F) keep the same directions: the "
              "threshold u(1 − cu) > η does not depend on α, only the surviving magnitudes s* = u₊^{1/α} do.",
    formula="keep_j ⇔ 4η(1 + σ_j²) < 1 for every α > 0",
    checks=(Check("numeric", "same_subspace", C.numeric_same_subspace,
                  "projectors onto the surviving eigenspaces of WᵀW agree for α = ½ and α = 1"),
            Check("necessity", "init_between_unstable_points", C.necessity_same_init_threshold,
                  "s(0) < u₋ < √s(0): DirectPred keeps the mode, DirectCopy loses it", assumption=_A_INIT_BOTH)),
    assumptions=(_A_INIT_BOTH,),
    related=("wang2021.thm1",),
    provenance=_RECON.replace("the claim is from the abstract", "the claim is from the abstract ('DirectCopy rivals "
                              "DirectPred' while removing the eigendecomposition)")))

register(Theorem(
    id="wang2021.sgd", paper=PAPER, number="toy experiment (ours)", kind="claim",
    title="The threshold on real minibatch SGD",
    statement="A linear encoder trained by SGD on Gaussian data with per-feature augmentation noise, DirectCopy "
              "predictor from an EMA of the online correlation and weight decay η, keeps exactly the features with "
              "σ² < 1/(4η) − 1, at s* = u₊/(1 + σ²).",
    formula="diag(WᵀW) → u₊/c for kept features, 0 otherwise",
    checks=(Check("numeric", "sgd_threshold", C.numeric_sgd_threshold,
                  "1000 SGD steps, batch 256, d = 6 (3 kept, 3 discarded)"),
            Check("necessity", "no_stop_gradient", C.necessity_sgd_stop_gradient,
                  "gradient through the target: the kept features collapse too", assumption=_A_SG)),
    assumptions=(_A_SG,),
    related=("wang2021.thm1",),
    provenance="our toy experiment illustrating the reconstructed Theorem 1 beyond the ODE (not a numbered result)"))
