"""Tian, Chen & Ganguli, "Understanding self-supervised learning dynamics without contrastive pairs",
ICML 2021, arXiv:2102.06810 (DirectPred): every numbered result, plus the exactly stated equations of §3.2.

Numbered items of the paper (checked against its text via the shared notes, which read the ar5iv
rendering end to end): Lemma 1, Theorems 1-3, Assumptions 1-3 (used as assumptions of Theorem 3 and of
the mode equations, not registered on their own), Lemma 2 (appendix). The equations 11-19 are
registered as ``equation`` records. Checks live in :mod:`ssl_props.papers.tian2021.conservation_and_collapse` (``C``) and
:mod:`ssl_props.papers.tian2021.alignment_and_fixed_points` (``A``);
each accepts keyword overrides of the implementation it tests (``field=``, ``predictor=``, ...).
"""
from __future__ import annotations

from ssl_props.papers.tian2021 import alignment_and_fixed_points as A
from ssl_props.papers.tian2021 import conservation_and_collapse as C
from ssl_props.papers.tian2021 import errata as E
from ssl_props.papers.tian2021 import registered_losses as L
from ssl_props.papers.tian2021 import symmetrised_flow as S
from ssl_props.registry import Check, Paper, Theorem, register

PAPER = Paper(key="tian2021", authors=("Yuandong Tian", "Xinlei Chen", "Surya Ganguli"),
              title="Understanding self-supervised learning dynamics without contrastive pairs",
              venue="ICML 2021", year=2021, arxiv="2102.06810")

_NOTES = "statement checked against the paper's text as read for the shared notes (ar5iv rendering)"

register(Theorem(
    id="tian2021.lem1", paper=PAPER, number="Lemma 1", kind="lemma", title="BYOL/SimSiam learning dynamics",
    statement="The population gradient flow of the linear model with stop-gradient target, predictor learning-rate "
              "ratio α_p, weight decay η and EMA rate β is Eqns 2-4.",
    formula="dW_p/dt = α_p G Wᵀ − ηW_p, dW/dt = W_pᵀG − ηW, dW_a/dt = β(W − W_a), G = −W_pW(X+X') + W_aX",
    assumptions=("StopGrad on the target branch W_a x2",),
    checks=(Check("symbolic", "gradient_of_population_loss", C.symbolic_lemma1,
                  "sympy: −∂J/∂W_p = G Wᵀ and −∂J/∂W = W_pᵀ G for generic 2×2 matrices"),
            Check("numeric", "field_matches_autograd", C.numeric_lemma1,
                  "byol_field equals −(autograd of J with detached target) − weight decay; EMA = Euler of Eqn 4"),
            Check("numeric", "registered_losses_field", L.numeric_registered_field,
                  "autograd through the registered simsiam/byol (target W itself) = the chain rule with ∂ℓ/∂p only; "
                  "autograd of ½||p − sg(z)||² on samples = Eqns 2-4 with the sample moments"),
            Check("numeric", "population_loss_value", L.numeric_population_loss,
                  "J's trace formula = ½ mean||W_pWx1 − W_ax2||² on symmetrised samples (target term included)"),
            Check("necessity", "drop_stop_gradient", C.necessity_lemma1_stopgrad,
                  "with the gradient through W_a = W, −∂J/∂W differs from Eqn 3",
                  assumption="StopGrad on the target branch W_a x2")),
    provenance=_NOTES + "; the appendix states it without α_p and η, and its remark adds back the weight decay η only, "
               "not α_p (α_p is the main text's Eqn 2; issue 14 item 9)"))

register(Theorem(
    id="tian2021.thm1", paper=PAPER, number="Theorem 1", kind="theorem",
    title="Weight decay promotes balancing of predictor and online network",
    statement="For any target trajectory, W Wᵀ − α_p⁻¹ W_pᵀ W_p decays as e^{−2ηt} (is conserved when η = 0); the "
              "proof uses only the chain rule, so it holds for any loss of the predictor output with a stop-gradient "
              "target (checked on the registered SimSiam and BYOL cosine losses).",
    formula="W(t)W(t)ᵀ = α_p⁻¹ W_p(t)ᵀW_p(t) + e^{−2ηt} C",
    assumptions=("StopGrad on the target branch W_a x2", "the same weight decay η on W and W_p"),
    checks=(Check("symbolic", "derivative_identity", C.symbolic_theorem1,
                  "sympy: d/dt Q + 2ηQ = 0 for Q = WWᵀ − α_p⁻¹W_pᵀW_p along Eqns 2-3"),
            Check("numeric", "balance_along_trajectories", C.numeric_theorem1,
                  "batched RK4 on drawn data models, EMA targets: Q(t) = e^{−2ηt}Q(0)"),
            Check("numeric", "registered_losses_balance", L.numeric_registered_balance,
                  "dQ/dt = −2ηQ for the autograd field through the registered simsiam/byol (any loss of p with a "
                  "stop-gradient target)"),
            Check("necessity", "drop_stop_gradient", C.necessity_theorem1_stopgrad,
                  "no stop-gradient: Q(t) ≠ e^{−2ηt}Q(0)", assumption="StopGrad on the target branch W_a x2"),
            Check("necessity", "unequal_weight_decay", C.necessity_theorem1_eta,
                  "extra decay on W_p only: the identity fails", assumption="the same weight decay η on W and W_p")),
    related=("tian2021.lem1",),
    provenance=_NOTES + "; the appendix restatement drops α_p⁻¹ (a typo; its proof keeps it)"))

register(Theorem(
    id="tian2021.thm2", paper=PAPER, number="Theorem 2", kind="theorem", title="The stop-gradient is essential",
    statement="Without stop-gradient (W_a = W), vec dW/dt = −H vec W with H ⪰ λ0 I, so ||W(t)||_F ≤ e^{−λ0 t}||W(0)||_F "
              "(λ0 = η here): the representation collapses.",
    formula="H = X' ⊗ (W_pᵀW_p + I) + X ⊗ (W_p − I)ᵀ(W_p − I) + ηI",
    assumptions=("no stop-gradient: the gradient also flows through the target W_a = W",
                 "inf_t λ_min(H(t)) ≥ λ0 > 0 (here η > 0)"),
    checks=(Check("symbolic", "hessian_form", C.symbolic_theorem2,
                  "sympy: the no-stop-gradient field equals −H vec W; H is symmetric"),
            Check("numeric", "norm_decays", C.numeric_theorem2,
                  "field = −H vec W and ||W(t)|| ≤ e^{−ηt}||W(0)|| on drawn data models"),
            Check("necessity", "with_stop_gradient_no_collapse", C.necessity_theorem2_stopgrad,
                  "with stop-gradient, a learned predictor keeps W away from 0",
                  assumption="no stop-gradient: the gradient also flows through the target W_a = W"),
            Check("necessity", "no_weight_decay_no_collapse", C.necessity_theorem2_eta,
                  "η = 0 and X' = 0: W does not decay", assumption="inf_t λ_min(H(t)) ≥ λ0 > 0 (here η > 0)")),
    related=("tian2021.lem2",),
    provenance=_NOTES + "; the appendix leaves ηI out of H's definition but uses it in the proof"))

register(Theorem(
    id="tian2021.lem2", paper=PAPER, number="Lemma 2", kind="lemma", title="Dynamics of a negative definite system",
    statement="If H(t) is symmetric with λ_min(H(t)) ≥ λ0 > 0, the solution of dw/dt = −H(t)w has ||w(t)|| ≤ e^{−λ0 t}||w(0)||.",
    formula="||w(t)||₂ ≤ e^{−λ0 t} ||w(0)||₂",
    assumptions=("H(t) symmetric",),
    checks=(Check("numeric", "norm_bound", C.numeric_lemma2, "batched RK4 with random symmetric time-varying H(t)"),
            Check("necessity", "non_symmetric_H", C.necessity_lemma2_symmetric,
                  "H = λ0 I + kN (N nilpotent) has all eigenvalues λ0 but ||w|| grows transiently",
                  assumption="H(t) symmetric")),
    provenance=_NOTES + " (appendix only)"))

register(Theorem(
    id="tian2021.thm3", paper=PAPER, number="Theorem 3", kind="theorem", title="Eigenspace alignment",
    statement="Under Assumptions 1-3, d[F,W_p]/dt = −([F,W_p]K + K[F,W_p]); if λ_min K(t) ≥ λ0 > 0 then "
              "||[F,W_p](t)||_F ≤ e^{−2λ0 t}||[F,W_p](0)||_F, so W_p and F = WXWᵀ come to share eigenvectors.",
    formula="K = (1+σ²)[(α_p/2)F + W_p² − τ/(1+σ²) W_p] + (3/2)ηI",
    assumptions=("Assumption 3: symmetric predictor (symmetric init, symmetrised flow)", "inf_t λ_min K(t) ≥ λ0 > 0"),
    checks=(Check("symbolic", "commutator_identity", A.symbolic_theorem3, "sympy: the commutator ODE along Eqn 7"),
            Check("numeric", "commutator_identity_full_field", S.numeric_theorem3_identity,
                  "d[F,W_p]/dt from the full field (Eqns 2-3) = −([F,W_p]K + K[F,W_p]) with alignment_K"),
            Check("numeric", "commutator_decays", A.numeric_theorem3,
                  "SimSiam (τ = 1), X = I, X' = σ²I, λ0 = 3η/2 − 1/(4c) > 0: the bound holds along trajectories"),
            Check("necessity", "non_symmetric_predictor", A.necessity_theorem3_symmetric,
                  "a non-symmetric gradient-trained predictor violates the bound",
                  assumption="Assumption 3: symmetric predictor (symmetric init, symmetrised flow)"),
            Check("necessity", "K_not_positive", A.necessity_theorem3_K,
                  "η = 0, small α_p, W_p ≈ I/2: λ_min K < 0 and ||[F,W_p]|| grows",
                  assumption="inf_t λ_min K(t) ≥ λ0 > 0")),
    related=("tian2021.eq11",),
    provenance=_NOTES + "; the appendix writes max_t for the infimum (a typo). Assumptions 1-2 (W_a = τW, X = I, "
               "X' = σ²I) define the setting and are simulated as such; a search with anisotropic X' (λ0 from the "
               "smallest c) found no violation of the bound, so they are not listed as dropped assumptions"))

register(Theorem(
    id="tian2021.eq11", paper=PAPER, number="Eqns 11-13", kind="equation", title="Decoupled eigen-mode dynamics",
    statement="When W, W_p, W_a are diagonal in a common basis of X = I and X', each mode follows (p_j, s_j, τ_j) of "
              "Eqns 11-13 with the EMA ratio τ_j = W_a/W.",
    formula="ṗ = α_p s(τ − cp) − ηp, ṡ = 2ps(τ − cp) − 2ηs, s τ̇ = β(1 − τ)s − τṡ/2",
    checks=(Check("numeric", "full_matches_modes", A.numeric_eqn11,
                  "diagonal initialisation of the full field (EMA target) vs the mode ODE, batched"),
            Check("necessity", "off_diagonal_init", A.necessity_eqn11_aligned,
                  "W(0) with off-diagonal entries: the diagonal of the full field leaves Eqns 11-12",
                  assumption="W, W_p, W_a start diagonal in a common eigenbasis of X = I and X' (aligned initialisation)")),
    assumptions=("W, W_p, W_a start diagonal in a common eigenbasis of X = I and X' (aligned initialisation)",),
    related=("tian2021.thm3",),
    provenance=_NOTES + "; per-mode augmentation variances σ_j² (X' diagonal) are our extension of the isotropic case"))

register(Theorem(
    id="tian2021.eq14", paper=PAPER, number="Eqn 14", kind="equation", title="Exact integral of the mode dynamics",
    statement="Along Eqns 11-12, s_j(t) = α_p⁻¹ p_j(t)² + e^{−2ηt} c_j with c_j = s_j(0) − α_p⁻¹ p_j(0)² (appendix sign).",
    formula="s_j(t) = α_p⁻¹ p_j²(t) + e^{−2ηt} c_j",
    checks=(Check("symbolic", "integral", A.symbolic_eqn14, "sympy: d/dt(s − p²/α_p) = −2η(s − p²/α_p)"),
            Check("numeric", "integral_along_trajectories", A.numeric_eqn14, "batched mode ODE, drawn (η, σ², α_p, p0, s0)"),
            Check("numeric", "main_text_constant_is_a_typo", A.numeric_eqn14_printed_constant,
                  "the main text's c_j = α_p⁻¹p_j(0)² − s_j(0) fails at t = 0 whenever s_j(0) ≠ α_p⁻¹p_j(0)²"),
            Check("necessity", "unequal_weight_decay", A.necessity_eqn14_same_decay,
                  "extra decay on p only: s − p²/α_p no longer decays as e^{−2ηt}", assumption="the same weight decay η on W and W_p")),
    assumptions=("the same weight decay η on W and W_p",),
    related=("tian2021.thm1",),
    provenance=_NOTES + "; the main text prints c_j with the opposite sign (erratum), the appendix derivation is used"))

register(Theorem(
    id="tian2021.eq16", paper=PAPER, number="Eqn 16", kind="equation", title="Fixed points and the collapse threshold",
    statement="On the invariant parabola, ṗ = p²(τ − cp) − ηp: for 0 < η < τ²/(4c) it has stable 0 and p₊, unstable p₋ "
              "(the collapse basin boundary); for η > τ²/(4c) only p = 0 (collapse).",
    formula="p±* = [τ ± √(τ² − 4η(1+σ²))] / (2(1+σ²))",
    assumptions=("the mode starts on the invariant parabola s = p²/α_p (c_j = 0)",),
    checks=(Check("symbolic", "fixed_points_and_stability", A.symbolic_eqn16,
                  "sympy: p± are roots; f'(0) = −η, f'(p₊) = −p₊√D, f'(p₋) = p₋√D; D ≥ 0 ⇔ σ² ≤ τ²/(4η) − 1"),
            Check("numeric", "limits_match_prediction", A.numeric_eqn16,
                  "batched (p, s) mode ODE: the limit is p₊ iff D > 0 and p(0) > p₋, else 0"),
            Check("necessity", "off_parabola", A.necessity_eqn16_parabola,
                  "p(0) = 0 < p₋ but s(0) = 1: the mode still survives",
                  assumption="the mode starts on the invariant parabola s = p²/α_p (c_j = 0)")),
    related=("tian2021.eq14", "wang2021.thm1"),
    provenance=_NOTES))

register(Theorem(
    id="tian2021.eq18", paper=PAPER, number="Eqns 18-19", kind="equation", title="DirectPred",
    statement="DirectPred sets W_p = U diag(√s_j + ε max_j s_j) Uᵀ from F = U diag(s) Uᵀ: a symmetric PSD predictor "
              "commuting with F, with (W_p − ε s_max I)² = F.",
    formula="p_j = √s_j + ε max_j s_j, W_p = Û diag(p_j) Ûᵀ",
    checks=(Check("numeric", "predictor_square_root", A.numeric_eqn18,
                  "(W_p − ε s_max I)² = F, [W_p, F] = 0, W_p symmetric, on drawn PSD F incl. tied spectra"),
            Check("necessity", "indefinite_F", A.necessity_eqn18_psd,
                  "F with a negative eigenvalue: (W_p − ε s_max I)² = F₊ ≠ F", assumption="F symmetric positive semi-definite (a correlation matrix)")),
    assumptions=("F symmetric positive semi-definite (a correlation matrix)",),
    related=("wang2021.thm1",),
    provenance=_NOTES + "; the paper's unnormalised Eqn 18 (the luckmatters code divides by s_max first)"))

A1, A2, A3 = ("Assumption 1: proportional EMA, W_a = τW", "Assumption 2: X = I, X' = σ²I (isotropic)",
              "Assumption 3: symmetric predictor (symmetric W_p, symmetrised Eqn 2)")
register(Theorem(
    id="tian2021.eq7", paper=PAPER, number="Eqn 7", kind="equation", title="Symmetrised dynamics of W_p and F",
    statement="Under Assumptions 1-3 the full field (Eqns 2-3) closes on (W_p, F = WWᵀ) as Eqn 7.",
    formula="Ẇ_p = −(α_p/2)c{W_p,F} + α_pτF − ηW_p,  Ḟ = −c{W_p²,F} + τ{W_p,F} − 2ηF,  c = 1 + σ²",
    assumptions=(A1, A2, A3),
    checks=(Check("numeric", "full_field_closes", S.numeric_eqn7,
                  "byol_field (symmetrised predictor, W_a = τW, X = I, X' = σ²I) vs symmetric_field, drawn σ², τ, α_p, η"),
            Check("necessity", "anisotropic_augmentation", S.necessity_eqn7_isotropic, "X' = diag(σ_j²) leaves Eqn 7",
                  assumption=A2),
            Check("necessity", "target_not_proportional", S.necessity_eqn7_target, "W_a = τW + noise leaves Eqn 7",
                  assumption=A1),
            Check("necessity", "non_symmetric_predictor", S.necessity_eqn7_symmetric, "W_p ≠ W_pᵀ leaves Eqn 7",
                  assumption=A3)),
    related=("tian2021.thm3",),
    provenance=_NOTES + " (Eqn 7 = appendix Eqn 67)"))

_ERR = ("erratum read in the ar5iv HTML rendering of arXiv:2102.06810 through a verbatim GitHub-stored clipping "
        "(characters 0-96,000: main text and Appendices A-C; shared/papers/fidelity-2026-12/wang2021.md §5)")

register(Theorem(
    id="tian2021.erratum-parabola", paper=PAPER, number="Sentence after Eqn 14 (erratum)", kind="erratum",
    title="The η = 0 parabolas drop α_p⁻¹",
    statement="Printed: for η = 0 the modes move on parabolas s_j(t) = p_j²(t) + c_j. Wrong unless α_p = 1: "
              "d/dt(s − p²) = 2ps(τ − cp)(1 − α_p) ≠ 0, and a search finds modes where s − p² drifts. Corrected: "
              "s_j(t) = α_p⁻¹p_j²(t) + c_j with c_j = s_j(0) − α_p⁻¹p_j(0)² (Eqn 14 at η = 0, appendix sign).",
    formula="printed s = p² + c;  corrected s = p²/α_p + c",
    assumptions=("α_p ≠ 1",),
    checks=(Check("symbolic", "conserved_quantity", E.symbolic_parabola,
                  "sympy: d/dt(s − p²/α_p) = 0, d/dt(s − p²) ∝ (1 − α_p) at η = 0"),
            Check("numeric", "printed_parabola_drifts", E.numeric_parabola,
                  "batched mode ODE, η = 0: s − p²/α_p constant; s − p² moves beyond the tolerance for |α_p − 1| ≥ 0.2"),
            Check("necessity", "alpha_one", E.necessity_parabola_alpha, "α_p = 1: the printed form holds",
                  assumption="α_p ≠ 1")),
    related=("tian2021.eq14",), provenance=_ERR))

register(Theorem(
    id="tian2021.erratum-fig4", paper=PAPER, number="Figure 4 caption (erratum)", kind="erratum",
    title="The caption's ṗ misses the factor (1 + σ²)",
    statement="Printed: ṗ_j = −p_j(p_j − p*₋)(p_j − p*₊). Eqn 16 factors as ṗ = −(1 + σ²)p(p − p₋)(p − p₊), so the "
              "caption is off by σ²p(p − p₋)(p − p₊) whenever σ² > 0 (signs and stability unaffected). Corrected form "
              "checked with sympy and against the mode field on the parabola.",
    formula="ṗ = p²(τ − cp) − ηp = −c p(p − p₋)(p − p₊),  c = 1 + σ²",
    assumptions=("σ² > 0",),
    checks=(Check("symbolic", "factorisation", E.symbolic_figure4, "sympy: Eqn 16 = −c p(p − p₋)(p − p₊) ≠ −p(p − p₋)(p − p₊)"),
            Check("numeric", "caption_differs", E.numeric_figure4,
                  "32 drawn modes on the parabola: the field equals the corrected form, differs from the caption's"),
            Check("necessity", "no_augmentation", E.necessity_figure4_sigma, "σ² = 0: the caption is exact",
                  assumption="σ² > 0")),
    related=("tian2021.eq16",), provenance=_ERR))

register(Theorem(
    id="tian2021.erratum-range", paper=PAPER, number="Eqn 16, fixed-point range (erratum)", kind="erratum",
    title="The range 0 < η ≤ τ²/(4(1+σ²)) must be strict",
    statement="Printed: for 0 < η ≤ τ²/(4(1+σ²)) there are three fixed points, 0 and p₊ stable. At equality p₋ = p₊ = "
              "τ/(2c) is a double root with f' = 0, f'' = −τ: only two fixed points, and p* is semi-stable — a mode "
              "started below it collapses (found on every drawn mode). Corrected: 0 < η < τ²/(4(1+σ²)).",
    formula="η = τ²/(4c): f(p) = −c p (p − τ/(2c))²",
    assumptions=("η = τ²/(4(1+σ²)) exactly (D = 0)",),
    checks=(Check("symbolic", "double_root", E.symbolic_double_root, "sympy: p₊ − p₋ = f = f' = 0, f'' = −τ at D = 0"),
            Check("numeric", "collapse_below_double_root", E.numeric_double_root,
                  "RK4 mode ODE at D = 0 from 0.3p*: p(T) ≤ 0.3p* e^{−0.49ηT} (collapse)"),
            Check("necessity", "strict_range", E.necessity_double_root_equality,
                  "η = 0.8·threshold: p₊ attracts 0.7p₊ (stable, as printed for the strict range)",
                  assumption="η = τ²/(4(1+σ²)) exactly (D = 0)")),
    related=("tian2021.eq16",), provenance=_ERR))

register(Theorem(
    id="tian2021.erratum-eqn15", paper=PAPER, number="Eqn 15 (erratum)", kind="erratum",
    title="Eqn 15 integrates against dt′, not dt",
    statement="Printed: τ_j(t) = p_j(t)⁻¹βe^{−βt}∫₀ᵗ p_j(t′)e^{βt′} dt. Integrated against dt, the integrand does not "
              "depend on the variable (read literally, τ = βt, which leaves Eqn 13's τ at once). Corrected (dt′): on the "
              "invariant parabola with τ(0) = 0, (pτ)′ + βpτ = βp gives τ = βe^{−βt}∫₀ᵗp(t′)e^{βt′}dt′ / p(t).",
    formula="τ(t) = β e^{−βt} ∫₀ᵗ p(t′) e^{βt′} dt′ / p(t)",
    assumptions=("on the invariant parabola (c_j = 0) with τ(0) = 0",),
    checks=(Check("symbolic", "solves_eqn13", E.symbolic_eqn15, "sympy: τ = y/p with y′ = βp − βy solves Eqn 13"),
            Check("numeric", "integral_matches_eqn13", E.numeric_eqn15,
                  "mode ODE with the integral integrated alongside: τ(t) = formula; the literal dt reading fails"),
            Check("necessity", "off_parabola", E.necessity_eqn15_parabola, "c_j ≠ 0, η > 0: the formula fails",
                  assumption="on the invariant parabola (c_j = 0) with τ(0) = 0")),
    related=("tian2021.eq11",), provenance=_ERR))
