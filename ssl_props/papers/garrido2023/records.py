"""Registered results of Garrido, Chen, Bardes, Najman, LeCun (ICLR 2023, arXiv:2206.02574).

Result numbers are those of the paper's main text (Definitions 3.1-3.2, Proposition 3.1-3.2, Theorem
3.3, Lemma 3.4, Corollary 3.4.1, equations 8-13). The appendix (proofs) was not at hand: the proofs
our checks follow are reconstructions, said so in each record's ``provenance``. A further search (December 2026,
issue 14 item 19: the docs, pages and code corpora, for the appendix, "Proof of Theorem 3.3" and the title) found
only abstracts and summaries, so no provenance could be checked against the appendix and none changed. The checks live in
:mod:`ssl_props.papers.garrido2023.duality` and :mod:`ssl_props.papers.garrido2023.norm_bounds`.
"""
from __future__ import annotations

from ssl_props.papers.garrido2023 import duality as c
from ssl_props.papers.garrido2023 import norm_bounds as cn
from ssl_props.papers.garrido2023 import registered_criteria as rc
from ssl_props.papers.garrido2023 import registry_families as rf
from ssl_props.papers.garrido2023 import derivations as sym
from ssl_props.papers.garrido2023 import unbounded as ub
from ssl_props.registry import Check, Paper, Theorem, register

PAPER = Paper(
    key="garrido2023",
    authors=("Quentin Garrido", "Yubei Chen", "Adrien Bardes", "Laurent Najman", "Yann LeCun"),
    title="On the duality between contrastive and non-contrastive self-supervised learning",
    venue="ICLR 2023", year=2023, arxiv="2206.02574")

MAIN_TEXT = "statement checked against the paper's main text; proof reconstructed (appendix not at hand)"

A_DIAG = "diag(A) is the matrix A ⊙ I (Definition 3.1), not the vector of A's diagonal entries"
register(Theorem(
    id="garrido2023.def3.1", paper=PAPER, number="Definition 3.1", kind="definition", title="extracted diagonal",
    statement="diag(A) keeps the diagonal of A as a matrix and zeroes the rest; it is a projection.",
    formula="diag(A) = A ⊙ I;  diag(diag(A)) = diag(A)", assumptions=(A_DIAG,),
    checks=(Check("symbolic", "projection", sym.extract_diag_is_projection, "idempotent, keeps off-diagonal (sympy 3×3)"),
            Check("numeric", "projection", c.numeric_extract_diag, "idempotent, equals diag_embed(diagonal) on Gram matrices"),
            Check("necessity", "vector_diag", c.necessity_vector_diag, "broadcast vector diagonal is not L_c", assumption=A_DIAG)),
    provenance="checked against the paper's text"))

A_LC = "the orthogonal map acts on embedding space (L_c is blind to it)"
A_LNC = "the orthogonal map mixes the samples (L_nc is blind to it)"
register(Theorem(
    id="garrido2023.def3.2", paper=PAPER, number="Definition 3.2", kind="definition",
    title="sample- and dimension-contrastive criteria",
    statement="L_c penalises the off-diagonal of the Gram matrix KᵀK, L_nc that of KKᵀ; L_c depends only on the "
              "samples' Gram matrix (invariant to rotations of embedding space), L_nc only on the dimensions' one "
              "(invariant to orthogonal mixing of samples).",
    formula="L_c = ||KᵀK − diag(KᵀK)||_F²,  L_nc = ||KKᵀ − diag(KKᵀ)||_F²", assumptions=(A_LC, A_LNC),
    checks=(Check("symbolic", "invariances", sym.criteria_invariances, "rotation invariances for symbolic θ"),
            Check("numeric", "invariances", c.numeric_criteria_invariances, "non-negativity and O(M)/O(N) invariances"),
            Check("numeric", "registered_criteria", rc.numeric_registered_criteria,
                  "registered sample_/dimension_contrastive at drawn reg_weight, and their Thm 3.3 difference"),
            Check("necessity", "lc_not_sample_invariant", c.necessity_lc_needs_embedding_rotation,
                  "L_c changes when the samples are mixed", assumption=A_LC),
            Check("necessity", "lnc_not_embedding_invariant", c.necessity_lnc_needs_sample_mixing,
                  "L_nc changes when embedding space is rotated", assumption=A_LNC)),
    provenance="definition checked against the paper's text; the invariance reading is ours [R]"))

A_INF = "infinitely many negatives (the repulsion's population optimum: uniform on the sphere)"
A_UNIT = "embeddings are L2-normalised"
register(Theorem(
    id="garrido2023.prop3.1", paper=PAPER, number="Proposition 3.1", kind="proposition",
    title="negative pairs under SimCLR/DCL with infinite negatives",
    statement="With infinitely many negatives SimCLR and DCL lead to embeddings whose negative-pair inner products "
              "have mean 0 and variance 1/M (checked for the uniform distribution on the sphere, which Wang & Isola "
              "show is the optimum of the repulsion in that limit).",
    formula="E[xᵀx⁻] = 0,  Var[xᵀx⁻] = 1/M", assumptions=(A_INF, A_UNIT),
    checks=(Check("symbolic", "beta_moments", sym.sphere_inner_product_moments, "Beta-function moments, symbolic M"),
            Check("numeric", "monte_carlo", c.numeric_sphere_moments, "Monte Carlo with 6-sigma bounds"),
            Check("necessity", "finite_batch_simplex", c.necessity_infinite_negatives,
                  "finite-N SimCLR optimum is the simplex", assumption=A_INF),
            Check("necessity", "unnormalised", c.necessity_normalised_embeddings,
                  "Gaussian embeddings have E[(xᵀy)²] = M", assumption=A_UNIT)),
    provenance=MAIN_TEXT + "; the uniform-sphere optimum is Wang & Isola's (arXiv:2005.10242) asymptotic result"))

A_ABS = "the repulsion uses squared or absolute similarities (SimCLR-abs/-sq, not plain SimCLR)"
A_SAME = "negatives come from the same view (K = K')"
register(Theorem(
    id="garrido2023.prop3.2", paper=PAPER, number="Proposition 3.2", kind="proposition",
    title="classification of SSL methods",
    statement="SimCLR-abs/-sq, DCL-abs/-sq and the spectral contrastive loss are sample-contrastive; Barlow Twins, "
              "VICReg and TCR are dimension-contrastive: their regularisers are scaled L_c or L_nc, and they carry the "
              "matching symmetry (TCR's log det, a function of the singular values, carries both).",
    formula="SCL rep. = L_c/(N(N−1)),  BT red. = L_nc(Ẑ)/N²,  VICReg c = L_nc(K̃)/((N−1)²M)",
    assumptions=(A_ABS, A_SAME),
    checks=(Check("symbolic", "reductions", sym.method_reductions, "SCL, BT, VICReg terms as scaled criteria (sympy 3×2)"),
            Check("numeric", "reductions", c.numeric_method_reductions, "scaled equalities on the registered losses"),
            Check("numeric", "fingerprint", c.numeric_fingerprint, "symmetry fingerprint matches the stated class"),
            Check("numeric", "tcr_sylvester", c.numeric_tcr_sylvester, "TCR's covariance and Gram forms agree"),
            Check("numeric", "orthogonal_optimum", c.numeric_orthogonal_minimises, "SimCLR-abs/-sq minimised at orthonormal"),
            Check("necessity", "plain_simclr", c.necessity_abs_or_sq, "plain SimCLR prefers the simplex", assumption=A_ABS),
            Check("necessity", "cross_view", c.necessity_same_view_negatives, "cross-view repulsion is not L_c",
                  assumption=A_SAME)),
    provenance=MAIN_TEXT + "; DCL-abs/-sq are DCL with |s| / s² negatives (as SimCLR-abs/-sq); TCR's two-view "
               "form is pinned in ssl_props.losses.coding_rate (the paper's formula was not at hand)"))

A_ONE = "both criteria are computed on the same matrix K (same-view negatives)"
A_CENTRE = "centring, if any, is applied to K before both criteria"
register(Theorem(
    id="garrido2023.thm3.3", paper=PAPER, number="Theorem 3.3", kind="theorem", title="duality identity",
    statement="For every real matrix K, L_nc plus the sum of the dimensions' fourth norms equals L_c plus the sum of "
              "the embeddings' fourth norms.",
    formula="L_nc + Σ_j ||K_j,·||⁴ = L_c + Σ_i ||K_·,i||⁴", assumptions=(A_ONE, A_CENTRE),
    checks=(Check("symbolic", "expansion", sym.duality_identity, "entry-wise expansion for 8 shapes incl. M≠N"),
            Check("numeric", "identity", c.numeric_identity, "float64, all kinds incl. degenerate"),
            Check("numeric", "batched_sweep", c.numeric_identity_sweep, "256 matrices per example, batched on device"),
            Check("necessity", "cross_view", c.necessity_same_matrix, "||K1ᵀK2|| ≠ ||K1K2ᵀ||", assumption=A_ONE),
            Check("necessity", "one_sided_centring", c.necessity_consistent_centring, "centring one side", assumption=A_CENTRE)),
    provenance=MAIN_TEXT))

A_BOTH = "both the embeddings and the dimensions are normalised"
register(Theorem(
    id="garrido2023.thm3.3/doubly-normalised", paper=PAPER, number="Theorem 3.3 (consequence)", kind="remark",
    title="the doubly-normalised constant",
    statement="As printed, 'with unit rows and unit columns, L_nc = L_c + N − M' is vacuous for M ≠ N: ||K||_F² = N = M "
              "forces M = N, where the constant is 0. Corrected: with embeddings of norm c and dimensions of norm r "
              "(N c² = M r²), L_nc − L_c = N c⁴ − M r⁴, i.e. N − N²/M for unit embeddings.",
    formula="N c² = M r²  ⇒  L_nc − L_c = N c⁴ − M r⁴", assumptions=(A_BOTH,), related=("garrido2023.thm3.3",),
    checks=(Check("symbolic", "constant", sym.doubly_normalised_constant, "gap and M = N forced by unit rows and columns"),
            Check("numeric", "constant", cn.numeric_doubly_normalised_gap, "Sinkhorn doubly-normalised draws"),
            Check("necessity", "single_normalisation", cn.necessity_double_normalisation,
                  "gap not constant with unit embeddings only", assumption=A_BOTH),
            Check("necessity", "ordering_flip", cn.necessity_ordering_flip,
                  "L_c and L_nc order two unit-embedding matrices oppositely", assumption=A_BOTH)),
    provenance="remark of ours on the printed statement (not an erratum: no matrix refutes it as printed)"))

A_EQ_S = "every embedding (column of K) has the same norm a"
A_EQ_F = "every dimension (row of K) has the same norm a (dual statement)"
register(Theorem(
    id="garrido2023.lem3.4", paper=PAPER, number="Lemma 3.4", kind="lemma", title="norm constraints propagate",
    statement="If every embedding has norm a, the dimensions' fourth norms sum to between N²a⁴/M and N²a⁴ "
              "(dually with rows and columns swapped).",
    formula="(N²/M) a⁴ ≤ Σ_j ||K_j,·||⁴ ≤ N² a⁴", assumptions=(A_EQ_S, A_EQ_F),
    checks=(Check("symbolic", "power_mean", sym.power_mean_sos, "sum-of-squares certificates, M = 1..6"),
            Check("numeric", "bounds", cn.numeric_lemma34, "both statements on drawn normalised matrices"),
            Check("numeric", "equality_cases", cn.numeric_lemma34_equality, "constant and one-dimension matrices"),
            Check("necessity", "unequal_embedding_norms", cn.necessity_equal_sample_norms, "", assumption=A_EQ_S),
            Check("necessity", "unequal_dimension_norms", cn.necessity_equal_feature_norms, "", assumption=A_EQ_F)),
    provenance=MAIN_TEXT))

A_EQ_DIM = "the dimensions (rows of K) have equal norms"
register(Theorem(
    id="garrido2023.lem3.4/lower-bound-not-collapse", paper=PAPER, number="Lemma 3.4 (remark)", kind="remark",
    title="the lower bound does not certify collapse",
    statement="The paper builds Lemma 3.4's bounds from collapsed matrices, but the lower bound is attained by every K "
              "whose dimensions have equal norms, full-rank ones included; only the upper bound forces collapse "
              "(one non-zero dimension).",
    formula="Σ_j x_j² = (Σ_j x_j)²/M ⟺ x_j all equal;  Σ_j x_j² = (Σ_j x_j)² ⟺ one x_j ≠ 0",
    assumptions=(A_EQ_DIM,), related=("garrido2023.lem3.4",),
    checks=(Check("symbolic", "power_mean", sym.power_mean_sos, "equality cases of the sum-of-squares certificates"),
            Check("numeric", "full_rank_attains_lower", cn.numeric_lower_bound_full_rank, "doubly-normalised, full rank"),
            Check("numeric", "upper_forces_collapse", cn.numeric_upper_bound_collapse, "gap = 2Σ_{j<k} x_j x_k"),
            Check("necessity", "unequal_dimension_norms", cn.necessity_equal_dimension_norms, "", assumption=A_EQ_DIM)),
    provenance="remark of ours (not an erratum: the paper does not claim the converse in so many words)"))

A_UNIT_S = "embeddings (columns of K) have unit norm"
A_UNIT_F = "dimensions (rows of K) have unit norm (dual bound)"
register(Theorem(
    id="garrido2023.cor3.4.1", paper=PAPER, number="Corollary 3.4.1", kind="corollary", title="bounded duality gap",
    statement="With unit embeddings, L_c lies between L_nc − N + N²/M and L_nc − N + N² (dually for unit dimensions).",
    formula="L_nc − N + N²/M ≤ L_c ≤ L_nc − N + N²", assumptions=(A_UNIT_S, A_UNIT_F),
    related=("garrido2023.thm3.3", "garrido2023.lem3.4"),
    checks=(Check("symbolic", "gap", sym.gap_bounds, "Thm 3.3 + Lemma 3.4 substitution"),
            Check("numeric", "bounds", cn.numeric_cor341, "both statements on drawn normalised matrices"),
            Check("necessity", "unnormalised_embeddings", cn.necessity_unit_embeddings, "", assumption=A_UNIT_S),
            Check("necessity", "unnormalised_dimensions", cn.necessity_unit_dimensions, "", assumption=A_UNIT_F)),
    provenance=MAIN_TEXT))

A_SAMEM = "L_c, L_reg and VICReg's c are evaluated on the same centred, 1/sqrt(N−1)-scaled matrix"
register(Theorem(
    id="garrido2023.eq10", paper=PAPER, number="Equations 8-10", kind="equation", title="VICReg as sample-contrastive",
    statement="VICReg's covariance regulariser equals L_c plus L_reg (embedding minus dimension fourth norms), over M, "
              "on the centred and scaled embeddings: VICReg is a sample-contrastive method with a norm term.",
    formula="c(K) = (L_c(Y) + L_reg(Y))/M,  Y = K̃/sqrt(N−1),  L_reg = Σ_i ||Y_·,i||⁴ − Σ_j ||Y_j,·||⁴",
    assumptions=(A_SAMEM,), related=("garrido2023.thm3.3",),
    checks=(Check("symbolic", "reduction", sym.method_reductions, "VICReg c = (L_c + L_reg)/M on symbolic 3×2"),
            Check("numeric", "vicreg_cov", cn.numeric_vicreg_disguised, "registered VICReg covariance term"),
            Check("numeric", "registered_vicreg", rc.numeric_registered_vicreg,
                  "get_loss('vicreg') = eqs. 8-10 at drawn λ, μ, ν, ε (variance hinge, ½ over views, (L_c + L_reg)/M)"),
            Check("necessity", "uncentred", cn.necessity_same_centred_matrix, "", assumption=A_SAMEM)),
    provenance=MAIN_TEXT))

A_NODIAG = "each dimension's own variance (the diagonal) is excluded from the LogSumExp"
register(Theorem(
    id="garrido2023.eq13", paper=PAPER, number="Equations 11-13", kind="equation", title="VICReg-exp and VICReg-ctr",
    statement="VICReg-exp replaces the squared covariances by a LogSumExp (a soft maximum) of the signed off-diagonal "
              "covariances; VICReg-ctr applies VICReg-exp's regularisers to the transposed embeddings.",
    formula="c_exp(K) = (1/d) Σ_i log Σ_{j≠i} exp(C_ij/τ);  VICReg-ctr = VICReg-exp on Kᵀ",
    assumptions=(A_NODIAG,), related=("garrido2023.eq10",),
    checks=(Check("symbolic", "soft_max_limit", sym.logsumexp_max_limit, "τ log Σ exp(C/τ) → max C"),
            Check("numeric", "soft_max_bounds", cn.numeric_soft_max_bounds, "max ≤ c_exp ≤ max + log(d − 1)"),
            Check("numeric", "ctr_transposed", cn.numeric_ctr_is_transposed_exp, "registered VICReg-ctr composition"),
            Check("necessity", "diagonal_included", cn.necessity_exclude_diagonal, "", assumption=A_NODIAG)),
    provenance="definitions checked against the main text; τ, centring and scaling of VICReg-ctr pinned by us "
               "(the pseudocode of the appendix was not at hand)"))

A_SIGNED = "the covariances enter eq. 11's exponential with their sign (as printed), not as |C_ij| or C_ij²"
register(Theorem(
    id="garrido2023.eq13/unbounded", paper=PAPER, number="Equations 11-13 (remark)", kind="remark",
    title="VICReg-exp and VICReg-ctr have no minimum",
    statement="With the signed covariances of eq. 11, VICReg-exp and VICReg-ctr are unbounded below: along z = sT (T the "
              "stacked centring matrix, both views equal) the invariance and variance terms vanish and c_exp = "
              "log(d − 1) − s²m/(d(md − 1)τ) → −∞, so the loss has no minimiser and grows the embeddings without limit "
              "(ssl-props profile: 'infimum not attained' on its augmentation graphs with K ≥ 2). Corrected form: |C_ij| "
              "(or C_ij²) in the exponential gives c_exp ≥ log(d − 1).",
    formula="L(sT, sT) = μ·relu(1 − √(C_kk + ε)) + 2ν(log(d − 1) − s²m/(d(md − 1)τ)) → −∞",
    assumptions=(A_SIGNED,), related=("garrido2023.eq13",),
    checks=(Check("symbolic", "ray_limit", ub.unbounded_symbolic, "c_exp on a(I − 11ᵀ/d) → −∞; |C| form → +∞"),
            Check("numeric", "exp_ray", ub.numeric_exp_unbounded, "registered VICReg-exp = closed form along sT"),
            Check("numeric", "ctr_ray", ub.numeric_ctr_unbounded, "registered VICReg-ctr = closed form along sTᵀ"),
            Check("necessity", "absolute_covariances", ub.necessity_signed_covariances, "", assumption=A_SIGNED)),
    provenance="remark of ours on eqs. 11-13 as read (signed C; the appendix's pseudocode was not at hand: an "
               "implementation that normalises the embeddings or takes |C| is bounded)"))

A_BT_SAME = "Barlow Twins' cross-correlation is computed between a view and itself (K = K')"
register(Theorem(
    id="garrido2023.thm3.3/barlow-twins", paper=PAPER, number="Theorem 3.3 (consequence, ours)", kind="remark",
    title="Barlow Twins through the duality",
    statement="Applied to the standardised embeddings Ẑ (BatchNorm: biased variance + ε), Theorem 3.3 turns Barlow "
              "Twins' redundancy term into a sample-contrastive one: with K = K', L_BT = Σ_k (1 − C_kk)² + "
              "λ (L_c(Ẑ) + Σ_i ||Ẑ_i||⁴ − Σ_k ||Ẑ_·k||⁴)/N², the analogue of eq. 10 for VICReg; checked on the "
              "registered loss at drawn λ and ε.",
    formula="L_BT(K, K) = Σ_k (1 − ||Ẑ_·k||²/N)² + λ (L_c(Ẑ) + L_reg(Ẑ))/N²", assumptions=(A_BT_SAME,),
    related=("garrido2023.thm3.3", "garrido2023.eq10", "garrido2023.prop3.2"),
    checks=(Check("numeric", "registered_barlow", rc.numeric_registered_barlow,
                  "get_loss('barlow_twins')(z, z) = the Theorem 3.3 form, standardisation recomputed"),
            Check("necessity", "cross_view", rc.necessity_barlow_same_view, "two views: no single-matrix form",
                  assumption=A_BT_SAME)),
    provenance="remark of ours: Theorem 3.3 (main text) applied to Barlow Twins as the paper applies it to VICReg "
               "(eqs. 8-10); the standardisation is the registered loss's (lightly's BatchNorm convention)"))

A_RADIUS = "every embedding is projected to the radius √μ (the loss's μ is set)"
register(Theorem(
    id="garrido2023.lem3.4/spectral-contrastive", paper=PAPER, number="Lemma 3.4 (with the radius √μ)", kind="remark",
    title="the spectral contrastive loss at radius √μ",
    statement="The spectral contrastive loss with its normalisation μ projects the embeddings to norm √μ; on one view "
              "it equals −2μ + L_c/(N(N−1)), and Lemma 3.4 with a = √μ and Theorem 3.3 bound that L_c by "
              "L_nc − Nμ² + N²μ²/M ≤ L_c ≤ L_nc − Nμ² + N²μ² (Corollary 3.4.1 rescaled).",
    formula="SCL(K, K; μ) = −2μ + L_c(K)/(N(N−1)),  ||K_·,i|| = √μ", assumptions=(A_RADIUS,),
    related=("garrido2023.lem3.4", "garrido2023.cor3.4.1", "garrido2023.prop3.2"),
    checks=(Check("numeric", "registered_radius", rc.numeric_registered_scl_radius,
                  "get_loss('spectral_contrastive') at drawn μ ∉ [0.8, 1.25]: value and rescaled bounds"),
            Check("necessity", "unprojected", rc.necessity_scl_radius, "μ unset: unequal norms break the bound",
                  assumption=A_RADIUS)),
    provenance="remark of ours: Lemma 3.4 (main text, stated for norm a) applied at the radius √μ that Garrido et al. "
               "describe for the spectral contrastive loss; the μ convention is the registered loss's"))

A_MATRIX = "the loss reads the views only through its family's matrix (the Gram matrix, or the centred covariance)"
A_ROWS = "row i of z1 is paired with row i of z2 and the rows are otherwise exchangeable"
register(Theorem(
    id="garrido2023.remark-registry-families", paper=PAPER, number="remark (ours, Def. 3.2 on the registry)",
    kind="remark", title="Definition 3.2's fingerprint on every registered loss",
    statement="Every registered loss beyond Proposition 3.2's list shows the symmetry of the family it declares: "
              "sample-contrastive ones are invariant to centred rotations of embedding space and not to orthogonal "
              "sample mixing, dimension-contrastive ones the reverse, 'both' where a loss declares both (TCR-like, by "
              "Sylvester), 'other' (W-MSE; DINO and SwAV on logits / prototype scores; SIGReg and LeJEPA at fixed slices) "
              "neither; SimSiam and BYOL (no regulariser to classify) show the "
              "sample-contrastive symmetry of their per-sample cosine. Each is also finite and invariant to a joint batch "
              "permutation and, where declared, to the view swap. Boundary cases: MMCR at λ = 0 is −‖C‖_* (both "
              "symmetries); W-MSE at batch = dim + 1 is mixing-invariant (whitened rows of equal norm).",
    formula="L(z1 Q, z2 Q) = L  (Q 1 = 1, sample-contrastive);  L(U z1, U z2) = L  (U 1 = 1, dimension-contrastive)",
    assumptions=(A_MATRIX, A_ROWS), related=("garrido2023.def3.2", "garrido2023.prop3.2"),
    checks=(Check("numeric", "fingerprint", rf.numeric_registry_families,
                  "every registered loss not in Prop. 3.2, at drawn parameters: fingerprint = declared family's"),
            Check("numeric", "basics", rf.numeric_registry_basics, "finite, batch-permutation and view-swap invariant"),
            Check("necessity", "feature_standardised", rf.necessity_reads_its_matrix,
                  "SimCLR after per-feature standardisation is neither", assumption=A_MATRIX),
            Check("necessity", "rolled_positives", rf.necessity_rows_paired,
                  "DCL with rolled positives changes under a batch permutation", assumption=A_ROWS)),
    provenance="remark of ours: Definition 3.2 (main text) read as symmetries, applied to the registry's declarations"))
