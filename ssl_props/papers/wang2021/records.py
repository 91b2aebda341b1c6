"""Wang, Chen, Du & Tian, "Towards Demystifying Representation Learning with Non-contrastive
Self-supervision", arXiv:2110.04947 (DirectSet(α), DirectCopy).

The paper's full text could not be read (only its abstract and introduction, see the shared notes):
the records below encode the abstract's claims as *reconstructed* statements, re-derived from the linear
model of Tian et al. (2021); their numbers, exact hypotheses and constants are unverified (each record's
``provenance`` says so). Checks live in :mod:`ssl_props.papers.wang2021.thresholds`.
"""
from __future__ import annotations

from ssl_props.papers.wang2021 import derivations as D
from ssl_props.papers.wang2021 import directset_variants as V
from ssl_props.papers.wang2021 import downstream as DS
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
    title="DirectSet(α) learns the range of a projection; weight decay thresholds augmentation variance",
    statement="With X = I, X' = Q diag(σ_j²) Qᵀ, weight decay η and W_p = F^α, WᵀW converges to Q diag(s*) Qᵀ with "
              "s_j* = u₊^{1/α} if σ_j² < 1/(4η) − 1 and 0 otherwise: a PSD matrix whose RANGE is that of the "
              "projection onto the low augmentation-variance directions; its eigenvalues u₊(σ_j)^{1/α} < 1 differ per "
              "mode, so it is a projection only up to per-mode rescaling (not idempotent). Describes the unnormalised "
              "W_p = F^α under the L2 loss with X = I (see wang2021.remark-normalised-predictor and "
              "wang2021.remark-nonwhitened).",
    formula="u₊ = [1 + √(1 − 4η(1+σ²))] / (2(1+σ²)), s* = u₊^{1/α}, kept iff σ² < 1/(4η) − 1",
    assumptions=(_A_ETA, _A_INIT, _A_PRED, _A_SG),
    checks=(Check("symbolic", "fixed_points_and_threshold", C.symbolic_threshold,
                  "sympy: u± solve u(1 − cu) = η for any α; discriminant ≥ 0 ⇔ σ² ≤ 1/(4η) − 1"),
            Check("numeric", "limit_matches_closed_form", C.numeric_threshold,
                  "batched adaptive simulation (DirectPred SimSiam, DirectCopy EMA) vs the closed form, rotated Q"),
            Check("numeric", "mode_field_zeros", C.numeric_mode_field_zeros,
                  "s* = u₊^{1/α} is a stable zero and u₋^{1/α} an unstable one of the library's per-mode DirectSet "
                  "field (τ = 1, ε = 0 by default); dropped modes have ds/dt < 0 on (0, 2]"),
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

_A_NORM = "W_p is normalised by its largest eigenvalue (p_j = (f_j/f_max)^α + ε, ε ≥ 0)"
register(Theorem(
    id="wang2021.remark-normalised-predictor", paper=PAPER, number="remark (ours, on the authors' code)", kind="remark",
    title="with a top-eigenvalue-normalised predictor every mode collapses",
    statement="The threshold of wang2021.thm1 holds for the unnormalised W_p = F^α. With W_p normalised by its largest "
              "eigenvalue (the authors' luckmatters DirectPred 'boost_scale' path) the top mode has p = 1 + ε, its gain "
              "is ≤ −η, so f_max(t) ≤ f_max(0) e^{−2ηt}: under the L2 loss with stop-gradient EVERY mode collapses, also "
              "those the threshold keeps. The threshold therefore tells a user which DirectSet variant it describes.",
    formula="g(1 + ε) = −η − (1 + ε)(σ²(1 + ε) + ελ) ≤ −η  ⇒  max_j λ_j s_j(t) ≤ max_j λ_j s_j(0) · e^{−2ηt}",
    assumptions=(_A_NORM,), related=("wang2021.thm1",),
    checks=(Check("symbolic", "top_mode_gain", D.normalised_top_mode_decays, "g(1 + ε) + η ≤ 0 (sympy identity)"),
            Check("numeric", "collapse_bound", V.numeric_normalised_collapse,
                  "per-mode flow, α ∈ {½, 1}, ε ∈ {0, 0.1}: f_max(t) ≤ f_max(0)e^{−2ηt} at every saved time"),
            Check("necessity", "unnormalised", V.necessity_normalisation, "W_p = F keeps the modes",
                  assumption=_A_NORM)),
    provenance="remark of ours on the authors' code (facebookresearch/luckmatters byol_trainer.py, read by the "
               "fidelity notes); the paper's own DirectSet normalisation is not known (body not seen)"))

_A_INIT_NW = "initialisation above the unstable point p₋ for the kept modes"
register(Theorem(
    id="wang2021.remark-nonwhitened", paper=PAPER, number="remark (ours, reconstructed)", kind="remark",
    title="the threshold for non-whitened inputs",
    statement="For X = Q diag(λ_j) Qᵀ commuting with X' = Q diag(σ_j²) Qᵀ, DirectCopy (W_p = W X Wᵀ) with SimSiam target "
              "and weight decay η keeps exactly the modes with λ_j²/(4(λ_j + σ_j²)) > η, at s_j* = p₊/λ_j with "
              "p₊ = [λ + √(λ² − 4η(λ + σ²))]/(2(λ + σ²)); at λ = 1 this is wang2021.thm1's σ² < 1/(4η) − 1.",
    formula="keep_j ⇔ λ_j²/(4(λ_j + σ_j²)) > η,  WᵀW → Q diag(p₊/λ) Qᵀ on kept modes",
    assumptions=(_A_INIT_NW,), related=("wang2021.thm1", "tian2021.eq16"),
    checks=(Check("symbolic", "threshold", D.nonwhitened_threshold, "roots p±, maximum λ²/(4(λ+σ²)), λ = 1 case"),
            Check("numeric", "matrix_limit", V.numeric_nonwhitened_threshold,
                  "full matrix simulation (rotated basis, 4 cases) vs the closed-form limit"),
            Check("numeric", "mode_reduction_with_eps", V.numeric_mode_reduction,
                  "aligned start: the matrix simulator's WᵀW(t) vs the per-mode flow, DirectCopy F + εI and "
                  "DirectSet(½) F^½ + εI, ε ∈ [0.05, 0.3] drawn (RK4, converged tolerances)"),
            Check("necessity", "small_initialisation", V.necessity_nonwhitened_init, "small W(0): kept modes lost",
                  assumption=_A_INIT_NW)),
    provenance="RECONSTRUCTED: derivation from the fidelity notes ([I], λ²/(4(λ+σ²)) > η), verified here in Tian et "
               "al.'s linear model; not a statement seen in the paper (body not seen)"))

_A_LABEL = "the label depends only on the kept (low augmentation-variance) directions"
register(Theorem(
    id="wang2021.downstream", paper=PAPER, number="abstract claim (reconstructed)", kind="claim",
    title="the learned projection lowers the downstream sample complexity",
    statement="On the synthetic model of wang2021.thm1 with x ~ N(0, I) and a label y = βᵀx + noise whose β lies in the "
              "kept directions, a least-squares probe on the SSL representation W*x has expected excess risk "
              "σ²k/(n − k − 1) (k = kept modes) instead of σ²D/(n − D − 1) on raw x: fewer labelled samples reach a "
              "given risk.",
    formula="E‖β̂ − β‖² = σ² p/(n − p − 1),  p = k (W*x) vs p = D (x)",
    assumptions=(_A_LABEL,), related=("wang2021.thm1",),
    checks=(Check("numeric", "probe_risk", DS.numeric_probe_sample_complexity,
                  "4000 batched probes: both exact risks (6 standard errors) and the projected one lower"),
            Check("necessity", "label_on_discarded", DS.necessity_label_in_kept_subspace,
                  "label on a discarded direction: projection hurts", assumption=_A_LABEL)),
    provenance=_RECON.replace("the claim is from the abstract", "the claim is from both abstracts ('reduces the "
                              "sample complexity of downstream tasks'); this linear-probe form, its model and the "
                              "inverse-Wishart risk are ours, and the claim")))
