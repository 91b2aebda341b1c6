"""Each Balestriero & LeCun (2022) property catches a wrong implementation, with a readable counterexample.

Mutants: a wrong closed form (top instead of bottom eigenvectors, no whitening), a missing centring (constant
eigenvector kept, uncentred covariance), and swapped terms (β ↔ γ, on- ↔ off-diagonal, self-similarity kept).
"""
from __future__ import annotations

import math

import pytest
import torch
from hypothesis import Phase

from ssl_props.papers.balestriero2022.relation_graph import check_augmentation_graph, check_invariance_identity
from ssl_props.papers.balestriero2022.optima import (check_barlow_optimum, check_gibbs_identity, check_linear_optimum,
                                                     check_simclr_optimum, check_vicreg_lower_bound,
                                                     check_vicreg_optimum, check_vicreg_recovers_le)
from ssl_props.papers.balestriero2022.label_alignment import check_aligned_closed_form, check_misaligned_rank_pinned
from ssl_props.papers.balestriero2022.rotation_invariance import check_right_singular_vectors_free
from ssl_props.papers.balestriero2022 import label_alignment, optima, relation_graph, rotation_invariance
from ssl_props.graphs import augmentation_graph, dirichlet_energy, laplacian
from ssl_props.profiles import temporary_profile
from ssl_props.properties import PropertyViolation
from ssl_props.spectral import (
    centred_eigh,
    laplacian_eigenmaps,
    simclr_loss,
    vicreg_closed_form,
    vicreg_linear_loss,
    vicreg_spectral_loss,
)

from .helpers import violation_of


def _named(name: str):
    """A check function of the paper by name, from whichever of its check modules defines it."""
    return next(getattr(m, name) for m in (relation_graph, optima, label_alignment, rotation_invariance)
                if hasattr(m, name))


@pytest.fixture(autouse=True)
def no_shrink():
    """Mutants fail on purpose: report the first failing example without shrinking it (shrinking a batched
    L-BFGS example costs minutes) and without the explain phase; the message still carries the input.
    Derandomised whatever the run's seed: a mutant can be invisible on some inputs (β ↔ γ swapped on a graph
    whose active eigenvalues are all 0), and a demonstration that the property catches it must not flake."""
    with temporary_profile("_balestriero_no_shrink", phases=(Phase.explicit, Phase.reuse, Phase.generate),
                           print_blob=False, derandomize=True, database=None):
        yield


def top_eigenvectors(g, k, *, beta=1.0, gamma=1.0):
    """Wrong closed form: the TOP eigenvectors of L (a maximiser of the invariance term)."""
    lam, u = centred_eigh(laplacian(g))
    lam, u = lam.flip(0), u.flip(1)
    return math.sqrt(g.shape[0]) * u[:, :k] * (1 - gamma * lam[:k] / beta).clamp_min(0).sqrt()


def uncentred_closed_form(g, k, *, beta=1.0, gamma=1.0):
    """Missing centring: bottom eigenvectors of L itself, so the constant vector (λ = 0) is kept as a feature."""
    lam, u = torch.linalg.eigh(laplacian(g))
    return math.sqrt(g.shape[0]) * u[:, :k] * (1 - gamma * lam[:k] / beta).clamp_min(0).sqrt()


def uncentred_loss(z, g, *, beta=1.0, gamma=1.0):
    """Missing centring in the covariance: Cov = ZᵀZ/N."""
    return vicreg_spectral_loss(z, g, beta=beta, gamma=gamma, cov=lambda x: x.transpose(-2, -1) @ x / x.shape[-2])


def swapped_loss(z, g, *, beta=1.0, gamma=1.0):
    """Swapped terms: β weighs the invariance and γ the whitening."""
    return vicreg_spectral_loss(z, g, beta=gamma, gamma=beta)


def test_lower_bound_catches_wrong_eigenvectors():
    e = violation_of(check_vicreg_lower_bound, closed_form=top_eigenvectors)
    assert "closed form attains" in str(e) and "tolerance" in str(e)


def test_lower_bound_catches_missing_centring():
    e = violation_of(check_vicreg_lower_bound, closed_form=uncentred_closed_form)
    assert "fails" in str(e) and "Tensor[shape=" in str(e)


def test_lbfgs_check_catches_wrong_closed_form():
    e = violation_of(check_vicreg_optimum, closed_form=top_eigenvectors)
    assert "VICReg" in str(e)


def test_lbfgs_check_catches_uncentred_covariance():
    e = violation_of(check_vicreg_optimum, loss=uncentred_loss)
    assert "VICReg (spectral)" in str(e)


def test_lbfgs_check_catches_swapped_terms():
    e = violation_of(check_vicreg_optimum, loss=swapped_loss)
    assert "optimised" in str(e) or "not a local minimum" in str(e)


def test_dirichlet_identity_catches_sign_error():
    e = violation_of(check_invariance_identity, lap=lambda g: torch.diag_embed(g.sum(-1)) + g)
    assert "twice the Laplacian quadratic form" in str(e)


def test_dirichlet_identity_catches_unordered_pairs():
    e = violation_of(check_invariance_identity, energy=lambda z, g: dirichlet_energy(z, g) / 2)
    assert "lhs =" in str(e) and "rhs =" in str(e)


def test_augmentation_graph_catches_interleaved_views():
    def interleaved(ns, nv, device=None):
        return torch.kron(torch.eye(ns), torch.ones(nv, nv) - torch.eye(nv)).double()
    e = violation_of(check_augmentation_graph, build=interleaved)
    assert "(11ᵀ − I_V) ⊗ I_N'" in str(e)


def test_le_check_catches_unscaled_embedding():
    e = violation_of(check_vicreg_recovers_le, le=lambda g, k: laplacian_eigenmaps(g, k + 1)[:, 1:])
    assert "Laplacian-Eigenmaps" in str(e)


def test_linear_check_catches_missing_whitening():
    def no_whitening(x, g, k, *, beta=1.0, gamma=1.0):
        n = x.shape[0]
        mu, e = torch.linalg.eigh(x.T @ laplacian(g) @ x / n)
        return e[:, :k] * (1 - gamma * mu[:k] / beta).clamp_min(0).sqrt()
    e = violation_of(check_linear_optimum, closed_form=no_whitening)
    assert "linear VICReg" in str(e)


def test_gibbs_check_catches_column_normalisation():
    e = violation_of(check_gibbs_identity, opt=lambda g: g / g.sum(-2, keepdim=True))
    assert "Gibbs" in str(e)


def test_simclr_check_catches_self_similarity_in_denominator():
    e = violation_of(check_simclr_optimum, loss=lambda z, g, tau: simclr_loss(z, g, tau=tau, exclude_self=False))
    assert "simplex loss equals" in str(e)


def test_barlow_check_catches_swapped_terms():
    e = violation_of(check_barlow_optimum, loss=lambda z, g, alpha=1.0: _swapped_bt(z, g, alpha))
    assert "BarlowTwins" in str(e) or "zero" in str(e)


def _swapped_bt(z, g, alpha):
    """Swapped terms: the diagonal of C pushed to 0 and the off-diagonal to 1."""
    from ssl_props.graphs import positive_pairs
    rows, cols = positive_pairs(g)
    zl, zr = z[..., rows, :], z[..., cols, :]
    c = zl.transpose(-2, -1) @ zr / (zl.norm(dim=-2)[..., :, None] * zr.norm(dim=-2)[..., None, :])
    d = c.diagonal(dim1=-2, dim2=-1)
    return d.square().sum(-1) + alpha * ((c - 1).square().sum((-2, -1)) - (d - 1).square().sum(-1))


def test_aligned_check_catches_wrong_eigenvectors():
    e = violation_of(check_aligned_closed_form, closed_form=top_eigenvectors)
    assert "span(HZ⋆) = span(HY)" in str(e)


def test_misaligned_check_catches_wrong_eigenvectors():
    e = violation_of(check_misaligned_rank_pinned, vicreg=top_eigenvectors)
    assert "probe residual" in str(e)


def test_rotation_check_catches_per_feature_penalty():
    def diag_only(z, g, *, beta=1.0, gamma=1.0):  # covariance term dropped: penalises features one by one
        c = z.transpose(-2, -1) @ z / z.shape[-2]
        return (c.diagonal(dim1=-2, dim2=-1) - 1).square().sum(-1) + c[..., 0, 0] + gamma * dirichlet_energy(z, g)
    e = violation_of(check_right_singular_vectors_free, losses=(diag_only,))
    assert "invariant to Z → ZQ" in str(e)


@pytest.mark.parametrize("name", ["necessity_symmetric", "necessity_eigengap", "necessity_regular", "necessity_full_rank",
                                  "necessity_stochastic", "necessity_simplex_dim", "necessity_aligned",
                                  "necessity_high_invariance", "necessity_enough_dims", "necessity_small_invariance"])
def test_necessity_checks_return_a_counterexample(name):
    out = _named(name)()
    assert isinstance(out, str) and len(out) > 20


def test_vicreg_linear_loss_is_vicreg_of_xw():
    g = augmentation_graph(3, 2)
    x, w = torch.randn(6, 2, dtype=torch.float64), torch.randn(2, 2, dtype=torch.float64)
    assert torch.equal(vicreg_linear_loss(w, x, g), vicreg_spectral_loss(x @ w, g))
    assert vicreg_closed_form(g, 2).shape == (6, 2)


@pytest.mark.parametrize("name", ["necessity_equal_views", "necessity_orthogonal_map"])
def test_new_necessity_checks_return_a_counterexample(name):
    """claim1 (unequal views per image) and claim11 (non-orthogonal Q / BarlowTwins) necessity checks."""
    out = _named(name)()
    assert isinstance(out, str) and out


# ----------------------------------------------------------------- issue 14: errata, remarks and claim12
from ssl_props.papers.balestriero2022 import printed_statements as ps, registered_losses as rl  # noqa: E402
from ssl_props.spectral import barlow_twins_loss  # noqa: E402


def _graph_with_self_loops(ns, nv, **kw):
    """Slip: positives include the anchor itself (G + I), whose rank is N', not N."""
    g = augmentation_graph(ns, nv, **kw)
    return g + torch.eye(g.shape[0], dtype=g.dtype, device=g.device)


def _cyclic_graph(ns, nv, **kw):
    """Slip: each row's V − 1 positives are its next rows (a shift), not the other views of its image."""
    n = ns * nv
    g = sum(torch.roll(torch.eye(n, dtype=torch.float64), s, 1) for s in range(1, nv))
    return ((g + g.T) > 0).to(torch.float64).to(augmentation_graph(ns, nv, **kw).device)


def test_rank_erratum_catches_self_loops():
    assert "spec(G)" in str(violation_of(ps.check_rank_of_g, build=_graph_with_self_loops))


def test_singular_vector_remark_catches_wrong_graph():
    assert "E2" in str(violation_of(ps.check_singular_vectors, build=_cyclic_graph))


def test_barlow_rotation_remark_catches_dropped_off_diagonal():
    def no_off_diagonal(z, g, *, alpha=1.0):
        return barlow_twins_loss(z, g, alpha=0.0)  # the α term ignored: rotation invariant on this Z
    assert "closed form" in str(violation_of(ps.check_barlow_right_rotation, loss=no_off_diagonal))


def test_abstracts_remark_catches_high_invariance_vicreg():
    assert "VICReg" in str(violation_of(ps.check_misaligned_barlow,
                                        vicreg=lambda g, k, gamma: vicreg_closed_form(g, k, gamma=4 * gamma * 4)))


def test_abstracts_remark_catches_label_leaking_barlow():
    def leaking(z, g, *, alpha=1.0):  # a "loss" that is zero everywhere would accept any representation
        return barlow_twins_loss(z, g, alpha=alpha) + 1.0
    assert "zero Barlow Twins loss" in str(violation_of(ps.check_misaligned_barlow, loss=leaking))


def test_identical_optima_catches_low_invariance_vicreg():
    def spans(ns, nv, k, gamma):
        g, zs = ps._spans(ns, nv, k, gamma)
        z = vicreg_closed_form(g, min(k + 1, g.shape[0] - 1), gamma=0.01)
        return g, {**zs, "VICReg": z - z.mean(0)}
    assert "claim12" in str(violation_of(ps.check_identical_optima, spans=spans))


def test_unbiased_normaliser_catches_unrescaled_closed_form():
    from ssl_props import spectral
    assert "1/(N−1)" in str(violation_of(rl.check_unbiased_normaliser,
                                         closed_form=lambda g, k, beta, gamma: spectral.vicreg_closed_form(
                                             g, k, beta=beta, gamma=gamma * g.shape[0] / (g.shape[0] - 1)) * 1.1))


def test_linear_closed_forms_catch_top_pencil_vectors():
    from ssl_props.papers.balestriero2022 import linear_regime as lin
    err = violation_of(lin.check_linear_closed_forms, closed_form=lambda x, g, k: lin.pencil(x, g)[1][:, -k:])
    assert "zero loss" in str(err)


def test_linear_closed_forms_catch_centred_barlow():
    """Slip: a BarlowTwins loss on centred columns (the registered convention) in place of the paper's uncentred one."""
    from ssl_props.papers.balestriero2022 import linear_regime as lin

    def centred(z, g, *, alpha=1.0):
        return barlow_twins_loss(z - z.mean(-2, keepdim=True), g, alpha=alpha)
    assert "claim13" in str(violation_of(lin.check_linear_closed_forms, loss=centred))


def test_linear_optimum_catches_the_shrinkage_sign():
    """Slip (issue 15): c_k = (1 + γμ_k/β)_+ instead of (1 − γμ_k/β)_+ in the LPP closed form."""
    from ssl_props.papers.balestriero2022.optima import check_linear_optimum
    from ssl_props.spectral import vicreg_linear_closed_form

    def wrong(x, g, k, *, beta, gamma):
        return vicreg_linear_closed_form(x, g, k, beta=beta, gamma=-gamma)
    assert "linear VICReg" in str(violation_of(check_linear_optimum, closed_form=wrong))


def _hinge_mutant(var_sign: float = -1.0, energy_scale=lambda n: 1.0 / n):
    """``vicreg_hinge_loss`` with its variance hinge ``relu(1 + var_sign·√C_kk)`` and its energy weight γ·scale(N)."""
    from ssl_props.graphs import dirichlet_energy as energy
    from ssl_props.spectral import covariance  # noqa: PLC0415

    def loss(z, g, *, alpha=1.0, beta=1.0, gamma=1.0):
        c = covariance(z)
        d = c.diagonal(dim1=-2, dim2=-1)
        var = torch.relu(1 + var_sign * d.clamp_min(0).sqrt()).sum(-1)
        off = c - torch.diag_embed(d)
        return alpha * var + beta * off.square().sum((-2, -1)) + gamma * energy_scale(z.shape[-2]) * energy(z, g)
    return loss


def test_hinge_reference_is_the_library_loss():
    """The test's loss with the paper's signs is the library's (so the mutants below differ by one slip only)."""
    from ssl_props.spectral import vicreg_hinge_loss
    g = torch.rand(6, 6, dtype=torch.float64, generator=torch.Generator().manual_seed(0))
    g = g + g.T
    z = torch.randn(3, 6, 2, dtype=torch.float64, generator=torch.Generator().manual_seed(1))
    torch.testing.assert_close(_hinge_mutant()(z, g, gamma=0.2), vicreg_hinge_loss(z, g, gamma=0.2))


@pytest.mark.parametrize("mutant", [_hinge_mutant(var_sign=+1.0), _hinge_mutant(energy_scale=lambda n: n)],
                         ids=["relu(1+sqrt)", "gamma*N"])
def test_quadratic_variance_necessity_catches_a_wrong_hinge_loss(monkeypatch, mutant):
    """The counterexample is only one if its candidate is the best axis-aligned solution of the hinge loss."""
    monkeypatch.setattr(optima, "vicreg_hinge_loss", mutant)
    with pytest.raises(PropertyViolation, match="axis-aligned hinge optimum"):
        optima.necessity_quadratic_variance()
