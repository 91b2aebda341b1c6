"""Garrido et al. (2023, arXiv:2206.02574) Definition 3.2 read as symmetries, applied to EVERY registered loss that
Proposition 3.2 does not list (remark of ours). Orientation: ``z`` is ``(n, d)`` = (samples, dimensions) = ``Kᵀ``.

Definition 3.2: a sample-contrastive criterion is a function of the Gram matrix ``z zᵀ``, so
``L(z1 Q, z2 Q) = L(z1, z2)`` for orthogonal ``Q`` of embedding space (here ``Q 1 = 1``, which also admits losses
that centre over dimensions, e.g. VICReg-ctr); a dimension-contrastive one is a function of the centred covariance
``z̃ᵀ z̃``, so ``L(U z1, U z2) = L(z1, z2)`` for orthogonal ``U`` mixing the samples with ``U 1 = 1``. The
fingerprint (:func:`ssl_props.papers.garrido2023.duality.empirical_family`) measures both on drawn views.

The expected fingerprint is the one the loss's ``@register_loss`` declares (``classify`` of its declared
invariances), and it must fit its declared ``family``:

* ``sample-contrastive``: rotations yes, mixing no (``both`` if it also declares mixing, as TCR by Sylvester);
* ``dimension-contrastive``: the reverse (or ``both``);
* ``other`` (W-MSE: Cholesky whitening is equivariant to neither): ``neither``;
* ``non-contrastive-predictor`` (SimSiam, BYOL): Def. 3.2 has nothing to classify (no regulariser; collapse is
  prevented by the predictor and the stop-gradient, not by the loss), but the symmetry applies to their only term,
  a per-sample cosine ``cos(p_i, z_i)`` (the diagonal of the cross Gram matrix): the sample-contrastive fingerprint.

The losses of other shapes (issue 21) run in their registered *pair form* (``LossInfo.shape``); where the
definition applies and where it does not:

* KoLeo (per view), SupCon, MoCo / MoCo v3: functions of Gram matrices of normalised rows, sample-contrastive,
  checked. SupCon runs at ``labels=None`` (SimCLR) and again at drawn labels (fingerprint only: a batch
  permutation must permute the labels too); MoCo runs at ``queue=None`` (in-batch keys): a queue of past keys is
  state that does not rotate with the drawn views, so ``L(q Q, k Q; queue)`` is not a symmetry of the call.
* DINO and SwAV read logits / prototype scores through a softmax over coordinates (and Sinkhorn over the batch):
  Definition 3.2 is about embeddings and classifies neither; the check confirms the declared ``neither`` on the
  (student, teacher) / (s1, s2) arguments, at a zero DINO centre (the first step; a centre is state that would
  have to transform with the views).
* SIGReg and LeJEPA: for fixed random slices neither symmetry holds (rotation-invariant only in expectation over
  the slices; the statistic reads every moment of the projections, not only the covariance): ``neither``,
  checked. LeJEPA's λ is drawn in [0.01, 1]: at λ = 0 it is ``¼ mean (z1 − z2)²``, invariant to both groups.

Every keyword parameter of a formula is drawn where :data:`PARAMS` names it (ranges around the registered
``param_grid``), otherwise taken from the loss's ``param_grid`` or left at its default.
"""
from __future__ import annotations

import functools
import math
from typing import Callable

import torch
from hypothesis import given, strategies as st

from ssl_props.errors import InvalidArgument
from ssl_props.fingerprint import TRANSFORMS, classify, orthogonal_fixing_ones
from ssl_props.losses import LOSSES, get_loss
from ssl_props.losses._registry import LossInfo
from ssl_props.losses.barlow_twins import standardize
from ssl_props.papers.garrido2023.duality import PROP32_CLASSES, empirical_family
from ssl_props.profiles import budget
from ssl_props.properties import PropertyViolation, find_counterexample
from ssl_props.strategies import SEEDS, embeddings, view_pairs

#: the fingerprints each declared family admits
FAMILY_SYMMETRY = {"sample-contrastive": ("sample-contrastive", "both"),
                   "dimension-contrastive": ("dimension-contrastive", "both"),
                   "other": ("neither",), "non-contrastive-predictor": ("sample-contrastive",)}
_FINGERPRINTED = ("centred_embedding_rotation", "sample_mixing")

_f = functools.partial(st.floats, allow_nan=False, allow_infinity=False)
#: drawn keyword parameters, by name (a parameter not named here: its ``param_grid`` values, else its default;
#: e.g. TiCo's running ``covariance`` stays None, the first step: a given C_prev would have to rotate with the views)
PARAMS: dict[str, st.SearchStrategy] = {
    "temperature": _f(0.05, 1.0), "tau": _f(0.1, 1.0), "sigma": _f(0.25, 2.0), "reg_weight": _f(0.1, 10.0),
    "lmda": _f(1e-3, 0.1),  # > 0: at λ = 0 MMCR is −‖C‖_*, a function of singular values only (both symmetries)
    "inv_coef": _f(1.0, 200.0), "tcr_eps": _f(0.1, 0.5), "t": _f(0.5, 2.0), "lam": _f(0.5, 2.0),
    "alpha": st.one_of(st.just(2.0), _f(1.0, 3.0)), "rho": _f(1.0, 16.0), "beta": _f(0.0, 1.0),
    "lambda_param": _f(0.1, 30.0), "mu_param": _f(0.1, 30.0), "nu_param": _f(0.01, 5.0), "symmetric": st.booleans(),
    # issue 21's shapes: DINO's temperatures, SwAV's Sinkhorn, LeJEPA's SIGReg weight (> 0: at 0 both symmetries)
    "teacher_temp": _f(0.02, 0.1), "student_temp": _f(0.05, 0.5), "epsilon": _f(0.03, 0.5),
    "sinkhorn_iterations": st.integers(1, 5), "lamb": _f(0.01, 1.0),
}
#: drawn class labels for losses whose ``state`` names ``labels`` (two or three classes, every one used twice or more)
_N_CLASSES = (2, 3)


def covered() -> dict[str, LossInfo]:
    """The registered losses beyond Prop. 3.2's list (read at call time, so a patched registry entry is used)."""
    return {name: info for name, info in LOSSES.items() if name not in PROP32_CLASSES and info.family in FAMILY_SYMMETRY}


def declared_symmetry(info: LossInfo) -> str:
    """The fingerprint the loss's declared invariances give."""
    return classify(set(info.invariances) & set(_FINGERPRINTED))


def _params(draw, info: LossInfo) -> dict:
    out = {}
    for k in info.defaults:
        if k in PARAMS:
            out[k] = draw(PARAMS[k])
        elif k in info.param_grid:
            out[k] = draw(st.sampled_from(info.param_grid[k]))
    return out


def _generic(pair) -> bool:
    """Two special cases excluded. Views with every z2_i ∝ z1_i (the noise repeats z1's own Gaussian when both
    seeds shrink to 0) make every per-sample cosine 1: SimSiam and BYOL are then mixing-invariant. At n = d + 1 the
    whitened views w have equal row norms (w/√(n−1) and 1/√n complete an orthogonal basis), so W-MSE's mean cosine
    is tr(w1ᵀ w2)/c², a function of the whitened cross-covariance: mixing-invariant (dimension-contrastive) there."""
    n, d = pair[0].shape
    return n != d + 1 and bool((torch.nn.functional.cosine_similarity(*pair, dim=-1) < 1 - 1e-9).any())


# the strategies of duality.numeric_fingerprint (n, d ≥ 3: in R² the only Q ≠ I with Q 1 = 1 is the swap); the tall
# pair (batch ≥ dim + 2) is for losses that reject the first
_PAIRS = view_pairs(embeddings(n=(3, 8), d=(3, 8), kinds=("gaussian",), scales=(1.0,)), transforms=("noise",)).filter(_generic)
_TALL = view_pairs(embeddings(n=(7, 10), d=(3, 5), kinds=("gaussian",), scales=(1.0,)), transforms=("noise",)).filter(_generic)


def _views(fn: Callable, info: LossInfo, pair, tall):
    """The views ``fn`` accepts (W-MSE rejects batch ≤ dim, its covariance being singular), and ``f(views)``."""
    for z1, z2 in (pair, tall):
        if z1.shape[0] < info.min_batch:
            continue
        try:
            with torch.no_grad():
                return (z1, z2), fn(z1, z2)
        except InvalidArgument:
            continue
    raise PropertyViolation(f"{info.name} rejected both drawn view pairs ({tuple(pair[0].shape)}, {tuple(tall[0].shape)})")


def _rel(v0: float) -> float:
    """Tolerance of a reordering: float64 sums of ≤ 2n·d terms of size ≤ 10³·max(1, |f|) err ≤ 2nd·2⁻⁵²·10³ ≪ 1e-9."""
    return 1e-9 * max(1.0, abs(v0))


def _each_loss(check: Callable) -> None:
    """Run ``check(info, fn, z1, z2, value, seed, where)`` for every covered loss, at drawn views and parameters."""
    table = covered()
    if not table:
        raise PropertyViolation("Def. 3.2 on the registry: no registered loss beyond Prop. 3.2's list")

    @budget(0.1)
    @given(_PAIRS, _TALL, SEEDS, st.data())
    def run(pair, tall, seed, data):
        for info in table.values():
            params = _params(data.draw, info)
            fn = functools.partial(info.fn, **params)
            (z1, z2), v = _views(fn, info, pair, tall)
            where = f"{info.name}({', '.join(f'{k}={p!r}' for k, p in params.items())}) on views of shape {tuple(z1.shape)}"
            with torch.no_grad():
                check(info, fn, z1, z2, float(v), seed, where)

    run()


def _fingerprint(info, fn, z1, z2, v, seed, where) -> None:
    want = declared_symmetry(info)
    if want not in FAMILY_SYMMETRY[info.family]:
        raise PropertyViolation(f"Def. 3.2 on the registry: {info.name} declares family {info.family!r} but invariances "
                                f"giving {want!r} (a {info.family} loss has {' or '.join(FAMILY_SYMMETRY[info.family])})")
    got = empirical_family(fn, z1, z2, seed)
    if got != want:
        raise PropertyViolation(f"Def. 3.2 on the registry: {where} should show the {want} symmetry of its family "
                                f"{info.family!r} but its fingerprint says {got}")
    if "queue" in info.state:  # a queue of past keys: it rotates with the views (embedding space), never mixes with them
        _fingerprint_with_queue(info, fn, z1, z2, seed, where, want)
    if "labels" in info.state:  # the same symmetry with class labels held fixed (they index samples, not features)
        k = _N_CLASSES[seed % len(_N_CLASSES)]
        labels = torch.arange(z1.shape[0]) % k
        got = empirical_family(functools.partial(fn, labels=labels), z1, z2, seed)
        if got != want:
            raise PropertyViolation(f"Def. 3.2 on the registry: {where} with labels {labels.tolist()} should show the "
                                    f"{want} symmetry of its family {info.family!r} but its fingerprint says {got}")
    if "embedding_rotation" in info.invariances:  # declared for all of O(d), not only Q 1 = 1 (row means kept)
        w = float(fn(*TRANSFORMS["embedding_rotation"](z1, z2, torch.Generator().manual_seed(seed))))
        if not abs(w - v) <= _rel(v):
            raise PropertyViolation(f"Def. 3.2 on the registry: {where} declares invariance to every rotation of "
                                    f"embedding space but changes under one: {v:.12g} → {w:.12g}")


def _fingerprint_with_queue(info, fn, z1, z2, seed, where, want) -> None:
    """Definition 3.2 with a drawn queue of m = n + 3 past keys: ``L(z1 Q, z2 Q; queue Q)`` against ``L`` for a
    centred rotation Q of embedding space, and ``L(U z1, U z2; queue)`` for a mixing U of the batch (the queue holds
    other samples: it is not mixed)."""
    g = torch.Generator().manual_seed(seed)
    queue = torch.randn(z1.shape[0] + 3, z1.shape[1], generator=g, dtype=z1.dtype)
    v0 = float(fn(z1, z2, queue=queue))
    q = orthogonal_fixing_ones(z1.shape[1], torch.Generator().manual_seed(seed)).to(z1)
    u = orthogonal_fixing_ones(z1.shape[0], torch.Generator().manual_seed(seed)).to(z1)
    inv = set()
    if abs(float(fn(z1 @ q, z2 @ q, queue=queue @ q)) - v0) <= _rel(v0):
        inv.add("centred_embedding_rotation")
    if abs(float(fn(u @ z1, u @ z2, queue=queue)) - v0) <= _rel(v0):
        inv.add("sample_mixing")
    if classify(inv) != want:
        raise PropertyViolation(f"Def. 3.2 on the registry: {where} with a queue of {queue.shape[0]} keys should show "
                                f"the {want} symmetry of its family {info.family!r} but its fingerprint says {classify(inv)}")


def _basics(info, fn, z1, z2, v, seed, where) -> None:
    if not math.isfinite(v):
        raise PropertyViolation(f"registry basics: {where} is not finite: {v}")
    for inv in ("batch_permutation", "view_swap"):
        if inv in info.invariances:
            w = float(fn(*TRANSFORMS[inv](z1, z2, torch.Generator().manual_seed(seed))))
            if not abs(w - v) <= _rel(v):
                raise PropertyViolation(f"registry basics: {where} declares {inv} but changes under it: {v:.12g} → {w:.12g}")


def numeric_registry_families() -> None:
    """Every registered loss beyond Prop. 3.2's list shows the fingerprint its declared family admits, on drawn
    views and parameters: ``L(z1 Q, z2 Q) = L`` (Q 1 = 1) for sample-contrastive, ``L(U z1, U z2) = L`` (U 1 = 1)
    for dimension-contrastive, neither for ``other``; and ``L(z1 Q, z2 Q) = L`` for every orthogonal Q where the
    loss declares ``embedding_rotation`` (the centred group keeps row means, e.g. z 1/d). Threshold: ``empirical_family``'s 1e-9·max(1, |f|)
    (rounding ≤ 1e-13 relative here; a broken symmetry is ≥ 1e-6 relative at the drawn parameters)."""
    _each_loss(_fingerprint)


def numeric_registry_basics() -> None:
    """Each covered loss at drawn parameters is finite and invariant to a joint batch permutation
    ``L(z1[π], z2[π]) = L`` and, where declared, to the view swap ``L(z2, z1) = L`` (every registered pairwise
    loss pairs row i of z1 with row i of z2); tolerance 1e-9·max(1, |f|) (a reordered float64 sum, ``_rel``)."""
    _each_loss(_basics)


# ---------------------------------------------------------------- necessity
def simclr_feature_standardised(z1: torch.Tensor, z2: torch.Tensor, *, temperature: float = 0.5) -> torch.Tensor:
    """A deliberately wrong-family variant: SimCLR after a per-feature standardisation (BatchNorm before the cosine):
    it reads the embeddings through the covariance's diagonal as well as the Gram matrix."""
    return get_loss("simclr").fn(standardize(z1), standardize(z2), temperature=temperature)


def necessity_reads_its_matrix() -> str:
    """Without the assumption (the loss reads the views through its family's matrix only), the symmetry breaks."""
    def refutes(arg):
        (z1, z2), seed = arg
        return empirical_family(simclr_feature_standardised, z1, z2, seed) != "sample-contrastive"

    (z1, z2), seed = find_counterexample(st.tuples(_PAIRS, SEEDS), refutes, what="a feature-standardised SimCLR "
                                         "with the sample-contrastive fingerprint")
    got = empirical_family(simclr_feature_standardised, z1, z2, seed)
    v0 = float(simclr_feature_standardised(z1, z2))
    v1 = float(simclr_feature_standardised(*TRANSFORMS["centred_embedding_rotation"](z1, z2, torch.Generator().manual_seed(seed))))
    return (f"views of shape {tuple(z1.shape)}, seed {seed}: SimCLR on per-feature standardised embeddings has "
            f"fingerprint {got!r}, not sample-contrastive: a centred rotation moves it {v0:.6g} → {v1:.6g}")


def dcl_rolled_positives(z1: torch.Tensor, z2: torch.Tensor, *, temperature: float = 0.1) -> torch.Tensor:
    """A variant that mixes sample order: DCL with the positive of z1_i taken as z2_{i+1} (rolled)."""
    return get_loss("dcl").fn(z1, torch.roll(z2, 1, dims=0), temperature=temperature)


def necessity_rows_paired() -> str:
    """Without row i of z1 paired with row i of z2, a joint batch permutation changes the loss."""
    def moved(arg):
        (z1, z2), seed = arg
        v0 = float(dcl_rolled_positives(z1, z2))
        v1 = float(dcl_rolled_positives(*TRANSFORMS["batch_permutation"](z1, z2, torch.Generator().manual_seed(seed))))
        return v0, v1

    def refutes(arg):
        v0, v1 = moved(arg)
        return abs(v0 - v1) > 1e6 * _rel(v0)  # far beyond rounding

    arg = find_counterexample(st.tuples(_PAIRS, SEEDS), refutes, what="DCL with rolled positives invariant to a "
                              "joint batch permutation")
    v0, v1 = moved(arg)
    return (f"views of shape {tuple(arg[0][0].shape)}, seed {arg[1]}: DCL pairing z1_i with z2_(i+1) moves "
            f"{v0:.6g} → {v1:.6g} under a joint batch permutation")
