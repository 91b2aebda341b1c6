"""Issue 22: every check of Balestriero & LeCun's spectral equivalences against scikit-learn / SciPy fails on a wrong
version — a dropped D^{-1/2}, an unwhitened Barlow Twins claimed to reach CCA's value, SimCLR at K < N' − 1, the
wrong end of a spectrum, a dropped centring — and the oracle wrappers refuse inputs whose angles mean nothing.

Each mutant is passed through the check's keyword overrides (the records run the correct implementation).
"""
from __future__ import annotations

import sys

import numpy as np
import pytest
import torch
from hypothesis import Phase

from ssl_props.errors import InvalidArgument
from ssl_props.graphs import laplacian, positive_pairs
from ssl_props.papers.balestriero2022 import oracle_cca as cca
from ssl_props.papers.balestriero2022 import oracle_existing as ex
from ssl_props.papers.balestriero2022 import oracle_global as glob
from ssl_props.papers.balestriero2022 import oracle_local as loc
from ssl_props.papers.balestriero2022 import oracles as o
from ssl_props.profiles import temporary_profile
from ssl_props.properties import PropertyViolation
from ssl_props.spectral import (barlow_twins_loss, centred_eigh, laplacian_eigenmaps, probe_residual, simclr_simplex,
                                vicreg_linear_closed_form)

if not o.required():  # SSL_PROPS_REQUIRE_SKLEARN=1 or CI=true: a missing oracle fails the checks instead
    pytest.importorskip("sklearn")
FAILS = (PropertyViolation, InvalidArgument)  # a refuted claim, or an oracle input refused as meaningless


@pytest.fixture(autouse=True)
def no_shrink():
    """Mutants fail on purpose: report the first failing example without shrinking it (shrinking an L-BFGS example
    costs minutes), derandomised so the demonstration never flakes."""
    with temporary_profile("_balestriero_oracle_no_shrink", phases=(Phase.explicit, Phase.reuse, Phase.generate),
                           print_blob=False, derandomize=True, database=None):
        yield


def refuted(run) -> BaseException:
    """The PropertyViolation / InvalidArgument a mutated check raised (also from inside an ExceptionGroup)."""
    try:
        run()
    except FAILS as e:
        return e
    except BaseExceptionGroup as g:  # noqa: F821  (Python >= 3.11)
        match, _ = g.split(FAILS)
        if match is None:
            raise
        while isinstance(match, BaseExceptionGroup):  # noqa: F821
            match = match.exceptions[0]
        return match
    raise AssertionError("the mutated check passed: it cannot tell the wrong version from the right one")


# ----------------------------------------------------------------------------------------- wrong versions
def normalised_as_ratio_cut(g, k, **kw):
    """Laplacian Eigenmaps (ZᵀDZ = I) where VICReg's ratio-cut optimum is expected."""
    return laplacian_eigenmaps(g, k)


def le_without_back_map(g, k):
    """Belkin–Niyogi LE with the D^{-1/2} back-map dropped (the eigenvectors of L_sym themselves)."""
    return g.sum(-1).sqrt()[:, None] * laplacian_eigenmaps(g, k)


def linear_uncentred(x, g, k, *, beta=1.0, gamma=1.0):
    """Linear VICReg's closed form computed with XᵀX/N in place of the centred covariance XᵀHX/N."""
    n = x.shape[0]
    ev, evec = torch.linalg.eigh(x.T @ x / n)
    isq = evec @ torch.diag(ev.rsqrt()) @ evec.T
    mu, e = torch.linalg.eigh(isq @ (x.T @ laplacian(g) @ x / n) @ isq)
    return isq @ e[:, :k] * (1 - gamma * mu[:k] / beta).clamp_min(0).sqrt()


def simplex_too_small(ns, nv, k, *, device=None):
    """SimCLR's simplex squeezed into N' − 2 dimensions (K < N' − 1), padded to k."""
    z = simclr_simplex(ns, nv, ns - 1, device=device)[:, : max(ns - 2, 1)]
    return torch.nn.functional.pad(torch.nn.functional.normalize(z, dim=-1), (0, k - z.shape[1]))


def indicators_broken(g, k):
    from ssl_props.spectral import barlow_twins_closed_form
    z = barlow_twins_closed_form(g, k).clone()
    z[:, 0] = torch.linspace(1.0, 2.0, z.shape[0], dtype=z.dtype, device=z.device)
    return z


def residual_with_labels(z, y):
    """The residual of a representation that also keeps the labels (what claim10 says null(L) cannot do)."""
    return probe_residual(torch.cat([z, y], 1), y)


def top_eigenvectors(g, k, *, beta=1.0, gamma=1.0):
    """The TOP eigenvectors of L (a maximiser of the invariance term) in place of the bottom ones."""
    lam, u = centred_eigh(laplacian(g))
    return g.shape[0] ** 0.5 * u.flip(1)[:, :k]


def pencil_of_adjacency(x, g):
    """claim13's pencil with the adjacency G in place of the Laplacian L (τ for μ: the spectrum reversed)."""
    gb = (g > 0).to(g.dtype)
    a, b = x.T @ gb @ x, x.T @ torch.diag(gb.sum(-1)) @ x
    c = torch.linalg.cholesky(b)
    ci = torch.linalg.inv(c)
    mu, v = torch.linalg.eigh(ci @ a @ ci.T)
    return mu, ci.T @ v


def hinge_wrong_scales(g, k, *, alpha=1.0, gamma):
    """The hinge optimum's scales with 2γλ in place of 4γλ."""
    lam, u = centred_eigh(laplacian(g))
    return g.shape[0] ** 0.5 * u[:, :k] * (alpha / (2 * gamma * lam[:k])).clamp_max(1)


def lpp_wrong_end(x, g, k, *, beta=1.0, gamma=1.0):
    """The TOP of the pencil where LPP keeps the bottom."""
    return vicreg_linear_closed_form(x, g, x.shape[1], beta=beta, gamma=1e-9)[:, -k:]


def scl_without_back_map(g, k):
    """Kernel PCA of Ā without the D^{-1/2} back-map."""
    lam, u = torch.linalg.eigh(glob.normalised_adjacency(g))
    top = u[:, -k:].flip(-1) * lam[-k:].flip(-1).clamp_min(0).sqrt()
    return (g.sum() / g.shape[0]).sqrt() * top


def scl_wrong_end(g, k):
    return torch.linalg.eigh(glob.normalised_adjacency(g))[1][:, :k]


def simplex_in_view_major_order(g, k):
    """claim7's simplex (view-major order) on a graph whose nodes are permuted."""
    ns = int(glob.component_labels(g).max()) + 1
    return simclr_simplex(ns, g.shape[0] // ns, k, device=g.device)


def isomap_euclidean(x, n_neighbors, m):
    return glob.isomap_torch(x, n_neighbors, m, geodesic=False)


def bt_d_orthonormal(z, g, *, alpha=1.0):
    """Shared-W BT restricted to XᵀDX-orthonormal columns (whitened in the D metric): its minimum IS Σ(1 − τ_k)²."""
    rows, _ = positive_pairs(g)
    zl = z[..., rows, :]
    e, u = torch.linalg.eigh(zl.transpose(-2, -1) @ zl)
    return barlow_twins_loss(z @ (u * e.rsqrt()[..., None, :]) @ u.transpose(-2, -1), g, alpha=alpha)


# -------------------------------------------------------------------------------------------- the kills
MUTANTS = [
    ("claim3 ratio-cut LE", lambda: ex.check_sklearn_ratio_cut(closed_form=normalised_as_ratio_cut)),
    ("claim4 dropped D^{-1/2}", lambda: ex.check_sklearn_belkin_niyogi(le=le_without_back_map)),
    ("claim5 uncentred covariance", lambda: ex.check_scipy_pencil(closed_form=linear_uncentred)),
    ("claim7 SimCLR at K < N' − 1", lambda: ex.check_classical_mds(closed_form=simplex_too_small)),
    ("claim8 broken indicator", lambda: ex.check_sklearn_null_space(closed_form=indicators_broken)),
    ("claim9 top eigenvectors", lambda: ex.check_sklearn_label_span(closed_form=top_eigenvectors)),
    ("claim10 labels kept", lambda: ex.check_sklearn_misaligned_residual(residual=residual_with_labels)),
    ("claim13 adjacency for Laplacian", lambda: ex.check_scipy_pencil_bt(pencil_fn=pencil_of_adjacency)),
    ("claim14 hinge scales", lambda: loc.check_hinge_nested_le(closed_form=hinge_wrong_scales)),
    ("claim15 wrong end of the pencil", lambda: loc.check_lpp(closed_form=lpp_wrong_end)),
    ("claim16 adjacency for Laplacian", lambda: cca.check_cca_pencil(pencil_fn=pencil_of_adjacency)),
    ("claim17 unwhitened BT claimed = CCA", lambda: cca.check_whitened_bt(whiten_fn=None)),
    ("remark-bt-cca-basis: D-whitened BT has no gap", lambda: cca.check_shared_bt_span_not_basis(loss=bt_d_orthonormal)),
    ("claim18 dropped D^{-1/2}", lambda: glob.check_scl_mds(closed_form=scl_without_back_map)),
    ("claim18 wrong end (MDS)", lambda: glob.check_scl_classical_mds_regular(closed_form=scl_wrong_end)),
    ("claim19 SimCLR at K < N' − 1",
     lambda: glob.check_simclr_clique_mds(closed_form=lambda g, k: simplex_too_small(
         int(glob.component_labels(g).max()) + 1, 1, k, device=g.device)[glob.component_labels(g).to(g.device)])),
    ("claim19 node order ignored", lambda: glob.check_simclr_clique_mds(closed_form=simplex_in_view_major_order)),
    ("definition-isomap Euclidean distances", lambda: glob.check_isomap(isomap_fn=isomap_euclidean)),
    ("remark-simclr-isomap on the cycle", lambda: glob.check_simclr_not_isomap_on_grid(graph=glob.cycle_graph(12))),
]


@pytest.mark.parametrize("run", [m[1] for m in MUTANTS], ids=[m[0] for m in MUTANTS])
def test_oracle_check_fails_on_wrong_version(run) -> None:
    assert str(refuted(run))


# ----------------------------------------------------------------------------------------- the wrappers
def test_max_angle_refuses_meaningless_bases() -> None:
    good = np.eye(6)[:, :2]
    assert o.max_angle(good, good @ np.array([[2.0, 1.0], [0.0, 1.0]])) < 1e-14
    with pytest.raises(InvalidArgument, match="rank deficient"):
        o.max_angle(good, np.c_[good[:, :1], np.zeros(6)])  # a zero column: tiny, meaningless angles
    with pytest.raises(InvalidArgument, match="non-finite"):
        o.max_angle(good, np.full((6, 2), np.nan))


def test_residual_angle_refuses_a_non_invariant_basis() -> None:
    g = torch.ones(5, 5, dtype=torch.float64) - torch.eye(5, dtype=torch.float64)
    lap = laplacian(g)
    assert o.residual_angle(lap, np.ones((5, 1)), 5.0) < 1e-14  # 1 spans null(L)
    with pytest.raises(InvalidArgument, match="not an invariant subspace"):
        o.residual_angle(lap, np.arange(5.0)[:, None] + 1, 5.0)


def test_missing_sklearn_skips_in_one_line_unless_required(monkeypatch) -> None:
    monkeypatch.setitem(sys.modules, "sklearn", None)  # `import sklearn` now raises ImportError
    monkeypatch.delenv(o.REQUIRE_ENV, raising=False)
    monkeypatch.setenv("CI", "false")
    with pytest.raises(pytest.skip.Exception, match="scikit-learn not installed"):
        o.sklearn()
    for env, value in ((o.REQUIRE_ENV, "1"), ("CI", "true")):
        monkeypatch.setenv(env, value)
        with pytest.raises(InvalidArgument, match="scikit-learn >= 1.8 is required"):
            o.sklearn()
        monkeypatch.setenv(env, "0" if env == o.REQUIRE_ENV else "false")


# ------------------------------------------------------------------------------------- oracle in the report
NEW_RECORDS = ("claim14", "claim15", "claim16", "claim17", "claim18", "claim19", "definition-isomap",
               "remark-bt-cca-basis", "remark-simclr-isomap")


def test_every_new_record_names_its_external_oracle() -> None:
    from ssl_props.registry import get_theorem

    for rid in NEW_RECORDS:
        t = get_theorem(f"balestriero2022.{rid}")
        numeric = t.checks_of("numeric")
        assert numeric and all(c.oracle for c in numeric), f"{t.id}: a numeric check without an oracle"
        assert any(tag in t.provenance for tag in ("[P]", "[S]", "[F]", "[R]")), f"{t.id}: no provenance label"
        assert t.to_dict()["checks"][0]["oracle"] == t.checks[0].oracle


def test_report_lists_the_oracle_of_each_check() -> None:
    from ssl_props.registry import Check, Paper, Theorem
    from ssl_props.report import build_report, render_markdown, run_one

    paper = Paper("demo2000", ("A B",), "t", "v", 2000, "0000.00000")
    good = Check("numeric", "against_sklearn", lambda: None, "d", oracle="scikit-learn CCA")
    plain = Check("numeric", "plain", lambda: None, "d")
    thm = Theorem("demo2000.claim1", paper, "1", "claim", "t", "s", checks=(good, plain))
    records = [run_one(thm, c) for c in thm.checks]
    assert [r.oracle for r in records] == ["scikit-learn CCA", None]
    env = {"device": "cpu", "device_name": "cpu", "dtype": "float64", "packages": {},
           "hypothesis": {"profile": "ci", "max_examples": 1, "seed": None}, "git": {"revision": None, "dirty": False}}
    rep = build_report(records, [thm], env, [])
    assert [c["oracle"] for c in rep["theorems"][0]["checks"]] == ["scikit-learn CCA", None]
    md = render_markdown(rep)
    assert "| `demo2000.claim1::numeric:against_sklearn` | scikit-learn CCA | PASS |" in md
    assert "demo2000.claim1::numeric:plain` |" not in md.split("Oracles:")[1]
