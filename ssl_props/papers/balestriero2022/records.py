"""Balestriero & LeCun, "Contrastive and Non-Contrastive Self-Supervised Learning Recover Global and Local
Spectral Embedding Methods", NeurIPS 2022, arXiv:2205.11508.

The paper's body (Secs. 3-5, appendix) could not be read in this project (notes:
``shared/papers/balestriero2022_spectral.md``: 0 numbered results verified). Every result is therefore
registered BY THE CLAIM IT ENCODES, with ids ``balestriero2022.claimN`` and no Theorem/Proposition number;
each record's ``provenance`` says what comes from the paper's Sec. 2 / abstract and what is derived here.
Checks accept keyword overrides of the implementation they test (``check_vicreg_optimum(closed_form=...)``).
"""
from __future__ import annotations

from ssl_props.papers.balestriero2022 import derivations as sym
from ssl_props.papers.balestriero2022.relation_graph import (check_augmentation_graph, check_invariance_identity,
                                                             check_laplacian_kernel, necessity_equal_views,
                                                             necessity_symmetric)
from ssl_props.papers.balestriero2022.optima import (check_barlow_optimum, check_gibbs_identity, check_linear_optimum,
                                                     check_simclr_optimum, check_vicreg_lower_bound,
                                                     check_vicreg_optimum, check_vicreg_recovers_le,
                                                     necessity_components, necessity_eigengap, necessity_full_rank,
                                                     necessity_quadratic_variance, necessity_regular,
                                                     necessity_simplex_dim, necessity_stochastic)
from ssl_props.papers.balestriero2022.label_alignment import (check_aligned_closed_form, check_aligned_optimum,
                                                              check_misaligned_rank_pinned, necessity_aligned,
                                                              necessity_enough_dims, necessity_high_invariance,
                                                              necessity_small_invariance)
from ssl_props.papers.balestriero2022 import oracle_existing as ex
from ssl_props.papers.balestriero2022 import registered_losses as reg
from ssl_props.papers.balestriero2022.oracles import LBFGS, SCIPY_EIGH, SK_LE, SK_MDS
from ssl_props.papers.balestriero2022.rotation_invariance import (check_right_singular_vectors_free,
                                                                  necessity_orthogonal_map)
from ssl_props.registry import Check, Paper, Theorem, register

PAPER = Paper(key="balestriero2022", authors=("Randall Balestriero", "Yann LeCun"),
              title="Contrastive and Non-Contrastive Self-Supervised Learning Recover Global and Local Spectral Embedding Methods",
              venue="NeurIPS 2022", year=2022, arxiv="2205.11508")
UNNUMBERED = "unnumbered (claim)"
_PROV = ("Paper body not read (numbering unverified: registered by claim, no number invented). ")


def _th(i: int, title: str, statement: str, formula: str, checks: tuple[Check, ...], prov: str,
        assumptions: tuple[str, ...] = (), related: tuple[str, ...] = ()) -> Theorem:
    return register(Theorem(id=f"balestriero2022.claim{i}", paper=PAPER, number=UNNUMBERED, kind="claim", title=title,
                            statement=statement, formula=formula, assumptions=assumptions, checks=checks,
                            related=tuple(f"balestriero2022.{r}" for r in related), provenance=_PROV + prov))


def _sym(fn) -> Check:
    return Check("symbolic", fn.__name__, fn, (fn.__doc__ or "").strip().splitlines()[0])


_th(1, "relation matrix of V augmentations",
    "Stacking V views of N' images view-major, G = (11ᵀ − I_V) ⊗ I_N' (each row has V − 1 positives) and its "
    "Laplacian has eigenvalue 0 with multiplicity N' and V with multiplicity N'(V − 1).",
    "G = (1_V 1_Vᵀ − I_V) ⊗ I_{N'},  spec(L) = {0^{N'}, V^{N'(V−1)}}",
    (_sym(sym.augmentation_laplacian_spectrum), Check("numeric", "construction_and_spectrum", check_augmentation_graph,
                                                      "paper's index construction = Kronecker form; exact spectrum"),
     Check("necessity", "drop_equal_views", necessity_equal_views,
           "3 and 2 views: non-zero Laplacian eigenvalues 3 and 2, no single V", assumption="every image has the same number V of views")),
    "Construction from the paper's Sec. 2 code snippet (via the notes' transcription); spectrum derived.",
    assumptions=("every image has the same number V of views",))


_th(2, "VICReg invariance = Laplacian quadratic form",
    "For symmetric G, VICReg's invariance term (γ/N) Σ_ij G_ij ‖Z_i − Z_j‖² equals (2γ/N) tr(Zᵀ L Z), the Laplacian "
    "Eigenmaps objective (Dirichlet energy of Z on G); L is PSD, L1 = 0 and its kernel counts the components.",
    "Σ_ij G_ij ‖Z_i − Z_j‖² = 2 tr(Zᵀ L Z),  L = diag(G1) − G",
    (_sym(sym.invariance_is_dirichlet_energy),
     Check("numeric", "identity", check_invariance_identity, "float64 identity on weighted, sparse, disconnected G"),
     Check("numeric", "laplacian_kernel", check_laplacian_kernel, "L1 = 0, L ⪰ 0, nullity = #components"),
     Check("numeric", "registered_vicreg", reg.check_registered_vicreg_invariance,
           "get_loss('vicreg') invariance at drawn λ = (λ/(nd)) tr(ZᵀLZ) on the two-view G"),
     Check("necessity", "drop_symmetry", necessity_symmetric, "asymmetric G breaks the identity", assumption="G symmetric")),
    "Identity consistent with the alphaXiv summary ('Dirichlet energy'); factor 2 from ordered pairs (ours).",
    assumptions=("G symmetric",))


_th(3, "VICReg closed-form optimal representation",
    "Parameters named as the paper's VICReg (Sec. 2: α variance hinge, β covariance, γ invariance): here the hinge "
    "α Σ max(0, 1 − √C_kk) is replaced by the quadratic β Σ (1 − C_kk)², so ONE weight β multiplies ‖Cov − I‖²_F "
    "(the paper's β on the off-diagonal; α absent) and γ is the paper's γ; Cov = ZᵀHZ/N (the paper's code uses "
    "torch.cov's 1/(N − 1): its optimum is √((N−1)/N)·Z⋆ at γ(N−1)/N). With that quadratic variance, VICReg's minimisers are Z⋆ = √N U_K diag(√(1 − γλ_k/β)_+) Q "
    "+ 1aᵀ: the bottom non-constant eigenvectors of L, a free rotation Q (right singular vectors unconstrained) and a free "
    "translation; rank(Z⋆) = #{k ≤ K: λ_k < β/γ} is tuned by γ/β.",
    "min β‖ZᵀHZ/N − I‖²_F + (γ/N)Σ G_ij‖Z_i−Z_j‖²  at  Z⋆ = √N U_K diag(√(1−γλ_k/β)_+)",
    (_sym(sym.vicreg_scalar_problem), _sym(sym.spectral_loss_in_eigenbasis),
     Check("numeric", "lower_bound", check_vicreg_lower_bound, "closed form attains the bound; random Z never beats it"),
     Check("numeric", "batched_lbfgs", check_vicreg_optimum, "8 starts in one L-BFGS call reach loss and HZZᵀH",
           oracle=LBFGS),
     Check("numeric", "sklearn_ratio_cut_le", ex.check_sklearn_ratio_cut,
           "any symmetric G: span([1, Z⋆]) = sklearn's ratio-cut LE (norm_laplacian=False)", oracle=SK_LE),
     Check("numeric", "unbiased_normaliser", reg.check_unbiased_normaliser,
           "torch.cov's 1/(N−1): √((N−1)/N)·Z⋆(γ(N−1)/N) attains the bound, random Z never beat it"),
     Check("necessity", "drop_eigengap", necessity_eigengap, "tie at λ_K: optimum not unique", assumption="eigengap λ_K < λ_(K+1)"),
     Check("necessity", "hinge_variance", necessity_quadratic_variance, "hinge variance: spectral form not optimal",
           assumption="quadratic variance penalty (not the hinge)")),
    "Paper result type (i) 'closed-form optimal representation'; this spectral variant and its formula are DERIVED here "
    "(notes R2); the paper's exact VICReg closed form (hinge or limit) is unverified.",
    assumptions=("eigengap λ_K < λ_(K+1)", "quadratic variance penalty (not the hinge)"), related=("claim2",))


_th(4, "VICReg recovers Laplacian Eigenmaps",
    "When G is regular (the augmentation graph has degree V − 1), the subspace of VICReg's optimal representation is "
    "the Laplacian Eigenmaps embedding (generalised problem L u = λ D u), i.e. VICReg is a local spectral embedding method.",
    "span Z⋆_VICReg = span{D^{-1/2} v_k: bottom non-trivial eigvecs of D^{-1/2} L D^{-1/2}}  when D = d·I",
    (Check("numeric", "regular_graphs", check_vicreg_recovers_le, "projector distance on weighted regular graphs"),
     Check("numeric", "generalised_eigenproblem", reg.check_laplacian_eigenmaps_pencil,
           "irregular G: ZᵀDZ = I, ZᵀD1 = 0, diag(ZᵀLZ) = scipy eigh(L, D)", oracle=SCIPY_EIGH),
     Check("numeric", "sklearn_belkin_niyogi", ex.check_sklearn_belkin_niyogi,
           "regular G: VICReg = sklearn norm_laplacian=True; any G: our LE = sklearn's", oracle=SK_LE + " (norm_laplacian=True)"),
     Check("necessity", "drop_regularity", necessity_regular, "irregular G: LE ≠ VICReg", assumption="G regular (constant degree)"),
     Check("necessity", "irregular_vs_sklearn", ex.necessity_irregular_vs_sklearn, "irregular G: VICReg vs sklearn's LE",
           assumption="G regular (constant degree)", oracle=SK_LE + " (norm_laplacian=True)")),
    "Mapping VICReg ↔ Laplacian Eigenmaps from the abstract (and alphaXiv summary); regularity condition derived here.",
    assumptions=("G regular (constant degree)",), related=("claim3",))


_th(5, "linear VICReg optimal parameters (LPP)",
    "With claim3's parameters (quadratic variance under β, the paper's γ; Cov with 1/N, torch.cov's 1/(N − 1) "
    "rescales as in claim3), for a linear network Z = XW with HX of full column rank, VICReg's optimal W is Σ^{-1/2} E_K diag(√(1 − γμ_k/β)_+) Q "
    "with (μ, E) the bottom eigenpairs of Σ^{-1/2} (XᵀLX/N) Σ^{-1/2}: Locality Preserving Projections; it depends on X "
    "and G only through these spectra.",
    "W⋆ = Σ^{-1/2} E_K diag(√(1−γμ_k/β)_+),  Σ = XᵀHX/N",
    (_sym(sym.linear_network_reduction),
     Check("numeric", "batched_lbfgs", check_linear_optimum, "8 starts over W in one call reach loss and Gram of XW",
           oracle=LBFGS),
     Check("numeric", "scipy_pencil", ex.check_scipy_pencil, "W⋆ vs scipy eigh(XᵀLX, XᵀHX): span and Gram",
           oracle=SCIPY_EIGH),
     Check("necessity", "drop_full_rank", necessity_full_rank, "rank-deficient X: W not identified",
           assumption="H X full column rank (N > D)")),
    "Paper result type (ii) 'closed-form optimal network parameters in the linear regime'; its data-space counterpart is "
    "named kernel LPP (alphaXiv summary); this linear-kernel formula is DERIVED here (notes R3).",
    assumptions=("H X full column rank (N > D)",), related=("claim3",))


_th(6, "SimCLR fits the row-normalised relation matrix",
    "SimCLR's loss −Σ G_ij log Ĝ(Z)_ij is a cross-entropy between G and a right-stochastic Ĝ; over right-stochastic "
    "matrices it is minimised exactly by Ĝ = diag(G1)^{-1} G, the gap being the degree-weighted KL divergence.",
    "−Σ G_ij log P_ij − (−Σ G_ij log Ĝ⋆_ij) = Σ_i d_i KL(Ĝ⋆_i ‖ P_i),  Ĝ⋆ = D^{-1}G",
    (_sym(sym.cross_entropy_gibbs),
     Check("numeric", "kl_gap", check_gibbs_identity, "float64 identity for random stochastic P"),
     Check("numeric", "registered_losses", reg.check_registered_contrastive,
           "get_loss simclr / dcl / infonce_cross_view (both forms) = G cross-entropy of their candidate sets, drawn τ"),
     Check("necessity", "wrong_candidate_set", reg.necessity_candidate_set, "SimCLR's candidates do not give DCL",
           assumption="each method's candidate set (k ≠ i; positives removed for DCL; the other view for InfoNCE)"),
     Check("necessity", "drop_row_normalisation", necessity_stochastic, "unnormalised P beats Gibbs",
           assumption="P right-stochastic (rows sum to 1)")),
    "Two-step SimCLR (Ĝ estimate + cross-entropy) is the paper's Sec. 2 writing (notes); the KL identity is DERIVED here. "
    "The registered losses are checked against the G form on the two-view augmentation graph; DCL's and cross-view "
    "InfoNCE's candidate sets are our reading (the paper names SimCLR and NNCLR).",
    assumptions=("P right-stochastic (rows sum to 1)",
                 "each method's candidate set (k ≠ i; positives removed for DCL; the other view for InfoNCE)"))


_th(7, "SimCLR optimum on the augmentation graph",
    "For the V-view augmentation G and K ≥ N' − 1, SimCLR's minimisers put all views of an image on one unit vector and "
    "the N' images on a regular simplex (cosine −1/(N' − 1)): rank(Z⋆) = N' − 1 is fixed by G, whatever K and τ. "
    "Reading encoded: 'rank pinned by G' as the number of components (N' − 1 after centring), not Sec. 1's literal "
    "'rank(Z) = rank(G)' (rank G = N here: erratum-rank).",
    "cos(z_i, z_j) = 1 if same image, −1/(N'−1) otherwise",
    (Check("numeric", "batched_lbfgs", check_simclr_optimum, "8 starts reach the simplex loss and cosine matrix",
           oracle=LBFGS),
     Check("numeric", "classical_mds", ex.check_classical_mds, "simplex cosine Gram = sklearn ClassicalMDS of 1 − M",
           oracle=SK_MDS),
     Check("necessity", "drop_dimension", necessity_simplex_dim, "K = 1 < N' − 1: simplex value not attained",
           assumption="K ≥ N' − 1")),
    "Rank pinned by G (K3) and SimCLR ↔ global (MDS/ISOMAP-type) embedding are the paper's claims (abstract, notes V1-V2); "
    "the simplex closed form is standard, not the paper's printed statement.",
    assumptions=("K ≥ N' − 1",), related=("claim6",))


_th(8, "BarlowTwins optimum: rank pinned by the components of G",
    "With positives listed from G, BarlowTwins reaches zero loss exactly when every feature is constant on each "
    "connected component of G and features are mutually orthogonal; hence K ≤ #components and rank(Z⋆) ≤ #components. "
    "Reading encoded: the component count, not Sec. 1's literal 'rank(Z) = rank(G)' (= N: erratum-rank).",
    "1 − C_kk = z_kᵀ L z_k / z_kᵀ D z_k;  L_BT = 0 ⇔ columns ∈ null(L), C = I",
    (_sym(sym.barlow_diagonal_is_rayleigh),
     Check("numeric", "zero_loss_and_null_space", check_barlow_optimum, "closed form, batched L-BFGS, null-space bound",
           oracle=LBFGS),
     Check("numeric", "sklearn_null_space", ex.check_sklearn_null_space,
           "indicators and [1, Z⋆_VICReg(K = c − 1)] span sklearn's null(L)", oracle=SK_LE),
     Check("necessity", "drop_component_count", necessity_components, "K > #components: positive minimum",
           assumption="K ≤ number of connected components of G")),
    "BT ↔ CCA and 'BarlowTwins enforces rank(Z) = rank(G)' are the paper's claims at summary level (notes V2, K3); "
    "the component characterisation and bound are DERIVED here; the CCA form (linear, two views) is not encoded.",
    assumptions=("K ≤ number of connected components of G",), related=("claim7",))


_th(9, "aligned G: SSL recovers the supervised representation",
    "If G = YYᵀ − I is aligned with the labels, K ≥ C − 1 and the invariance weight is high (γ/β > 1/min_c n_c, the "
    "low-data rule), VICReg's optimal representation spans exactly the centred class indicators: a linear probe is exact.",
    "span(HZ⋆) = span(HY)  when G = YYᵀ − I, γ/β > 1/min n_c",
    (_sym(sym.aligned_laplacian_spectrum),
     Check("numeric", "closed_form_span", check_aligned_closed_form, "projector distance and probe residual"),
     Check("numeric", "batched_lbfgs", check_aligned_optimum, "optimisation reaches the label subspace", oracle=LBFGS),
     Check("numeric", "sklearn_label_span", ex.check_sklearn_label_span, "span([1, Z⋆]) = span(Y) = sklearn's LE",
           oracle=SK_LE),
     Check("necessity", "drop_alignment", necessity_aligned, "misaligned G: residual > 0", assumption="G aligned with the labels"),
     Check("necessity", "drop_high_invariance", necessity_high_invariance, "small γ/β: extra directions",
           assumption="γ/β > 1/min_c n_c (high invariance weight)"),
     Check("necessity", "drop_dimension", necessity_enough_dims, "K < C − 1: residual > 0", assumption="K ≥ C − 1")),
    "Checks the arXiv v3 abstract ('aligned: any SSL works; low data: VICReg invariance high'); the NeurIPS abstract "
    "(the registry's venue) says 'SimCLR or VICReg with high invariance' there: its SimCLR half is not checked here; "
    "the threshold 1/min n_c and the exact statement are DERIVED here (notes R6).",
    assumptions=("G aligned with the labels", "γ/β > 1/min_c n_c (high invariance weight)", "K ≥ C − 1"),
    related=("claim3",))


_th(10, "misaligned G: small-invariance VICReg keeps what SimCLR/BarlowTwins lose",
    "If G is misaligned with the labels, SimCLR and BarlowTwins (rank pinned by G) and VICReg with a high invariance "
    "weight confine Z to null(L) and cannot recover the labels linearly, while VICReg with γ/β < 1/λ_max(L) keeps "
    "full rank and a linear probe stays exact.",
    "residual²(null(L)-representations) = N/2 > 0 = residual²(VICReg, γ/β < 1/λ_max, K = N − 1)",
    (Check("numeric", "probe_residuals", check_misaligned_rank_pinned, "exact residuals of the three optima"),
     Check("numeric", "sklearn_null_space_residual", ex.check_sklearn_misaligned_residual,
           "probe residual² on sklearn's null(L) basis = N/2", oracle=SK_LE),
     Check("necessity", "drop_small_invariance", necessity_small_invariance, "γ/β large: labels lost",
           assumption="γ/β < 1/λ_max(L) (small invariance weight)")),
    "Checks the arXiv v3 abstract ('misaligned: VICReg with small invariance over SimCLR/BarlowTwins'), NOT the NeurIPS "
    "proceedings abstract (the registry's venue), which recommends BarlowTwins or small-invariance VICReg; "
    "remark-abstracts shows the closed forms support v3. Residual N/2 and the threshold are DERIVED here.",
    assumptions=("γ/β < 1/λ_max(L) (small invariance weight)",), related=("claim7", "claim8", "claim9"))


_th(11, "right singular vectors are unconstrained",
    "VICReg and SimCLR depend on Z only through its left singular vectors and singular values (Z → ZQ leaves the loss "
    "unchanged), so their optima constrain only those, aligned with G.",
    "L(Z Q) = L(Z),  Q ∈ O(K)",
    (Check("numeric", "rotation_invariance", check_right_singular_vectors_free, "VICReg (spectral) and SimCLR"),
     Check("necessity", "drop_orthogonal_gram_only", necessity_orthogonal_map,
           "non-orthogonal Q changes VICReg; orthogonal Q changes BarlowTwins", assumption="Q orthogonal and the loss depends on Z only through Z Zᵀ (not BarlowTwins)")),
    "Headline claim K1 (intro, per the notes; Fig. 1 caption via a summary). BarlowTwins as printed (uncentred, "
    "feature-wise cosine) is NOT rotation invariant, so it is not included.", assumptions=("Q orthogonal and the loss depends on Z only through Z Zᵀ (not BarlowTwins)",),
    related=("claim3", "claim7"))
