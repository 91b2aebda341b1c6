"""Wang et al. (2021): the abstracts' downstream claim ('reduces the sample complexity of downstream tasks'),
RECONSTRUCTED as a linear-probe statement on the synthetic data model (issue 14 item 12).

Model: x ~ N(0, I_D) in the basis Q of wang2021.thm1's data model, label y = βᵀx + ν, ν ~ N(0, σ²), with β in the
span of the kept (low augmentation-variance) directions. The SSL representation is thm1's limit
W* = Q diag(s*) Qᵀ (rank k = #kept); a least-squares probe on W*x fits k coefficients instead of D. For Gaussian
design, ordinary least squares with p features and n > p + 1 samples has expected excess risk exactly
σ² p/(n − p − 1) (E tr((XᵀX)⁻¹) = p/(n − p − 1), inverse Wishart): σ²k/(n − k − 1) < σ²D/(n − D − 1), so a target
risk ε needs n ≈ k(1 + σ²/ε) labels instead of D(1 + σ²/ε).

Checked by Monte Carlo over batched trials (torch.linalg.solve of the normal equations, CPU or CUDA); tolerance
6 standard errors of the trials' mean (n ≥ p + 8 keeps the excess risk's variance finite: it needs n > p + 3).
"""
from __future__ import annotations

import torch
from hypothesis import strategies as st

from ssl_props import tolerances as tol
from ssl_props.dynamics.testing import run_property
from ssl_props.papers.wang2021.thresholds import _draw, closed_form
from ssl_props.properties import PropertyViolation, assert_close, find_counterexample
from ssl_props.strategies import SEEDS

F64 = torch.float64
TRIALS = 4000


def kept_basis(w_star: torch.Tensor) -> torch.Tensor:
    """Orthonormal basis of the range of thm1's limit W* (eigenvalues above √eps·max: the dropped modes' zeros come
    back from eigh as ±n·eps·max, the kept ones are u₊ ≥ 1/(2c) far above)."""
    s, u = torch.linalg.eigh(w_star)
    return u[:, s > torch.finfo(s.dtype).eps ** 0.5 * s.abs().max()]


def probe_excess_risk(basis: torch.Tensor, beta: torch.Tensor, n: int, sigma: float, seed: int) -> torch.Tensor:
    """Excess risk ‖B β̂ − β‖² of least squares on the features Bᵀx (x ~ N(0, I)), for TRIALS batched draws."""
    dev = basis.device
    g = torch.Generator().manual_seed(seed)
    d = basis.shape[0]
    x = torch.randn(TRIALS, n, d, generator=g, dtype=F64).to(dev)
    y = x @ beta + sigma * torch.randn(TRIALS, n, generator=g, dtype=F64).to(dev)
    u = x @ basis  # (T, n, p)
    coef = torch.linalg.solve(u.mT @ u, (u.mT @ y.unsqueeze(-1))).squeeze(-1)
    return (coef @ basis.T - beta).square().sum(-1)


def _case(seed: int, n_extra: int, sigma: float, target: str = "kept"):
    dm, eta = _draw(seed, batch=1)
    s_star, keep, _ = closed_form(dm, eta, 1.0)
    q = dm.basis[0]
    w_star = (q * s_star[0]) @ q.T
    g = torch.Generator().manual_seed(seed + 1)
    coef = torch.randn(q.shape[0], generator=g, dtype=F64).to(q.device)
    mask = keep[0] if target == "kept" else ~keep[0]
    beta = q @ torch.where(mask, coef, torch.zeros_like(coef))
    return w_star, beta, q.shape[0], n_extra, sigma, int(keep[0].sum())


def numeric_probe_sample_complexity(*, basis_of=kept_basis) -> None:
    """Mean excess risk of the probe on W*x is σ²k/(n−k−1), on raw x σ²D/(n−D−1) (6 standard errors), and smaller."""
    def body(args):
        seed, extra, sigma = args
        w_star, beta, d, extra, sigma, k = _case(seed, extra, sigma)  # k: kept modes of thm1's closed form
        n = d + extra
        b = basis_of(w_star)
        raw = probe_excess_risk(torch.eye(d, dtype=F64, device=w_star.device), beta, n, sigma, seed)
        proj = probe_excess_risk(b, beta, n, sigma, seed)
        for name, r, p in (("raw x", raw, d), ("W*x", proj, k)):
            want = torch.tensor(sigma**2 * p / (n - p - 1), dtype=F64, device=r.device)
            assert_close(r.mean(), want, tol.monte_carlo(float(r.std()), TRIALS),
                         claim=f"probe on {name}: mean excess risk = σ²p/(n − p − 1), p = {p}", names=("Monte Carlo", "σ²p/(n−p−1)"))
        se = tol.monte_carlo(float((raw - proj).std()), TRIALS)
        if not float((raw - proj).mean()) > se:
            raise PropertyViolation(f"projecting on thm1's kept subspace (k = {k} of D = {d}) did not lower the probe's "
                                    f"risk: {float(proj.mean()):.4g} vs {float(raw.mean()):.4g} (n = {n})")
    run_property(st.tuples(SEEDS, st.integers(8, 16), st.sampled_from((0.5, 1.0))), body,
                 max_examples=2)


def necessity_label_in_kept_subspace() -> str:
    """Drop 'the label depends on the kept directions only': a label on a discarded direction makes the projected
    probe's risk at least ‖β_discarded‖², above the raw probe's σ²D/(n − D − 1)."""
    def refutes(seed: int) -> bool:
        w_star, beta, d, extra, sigma, _ = _case(seed, 16, 0.5, target="discarded")
        n = d + extra
        proj = probe_excess_risk(kept_basis(w_star), beta, n, sigma, seed)
        raw = probe_excess_risk(torch.eye(d, dtype=F64, device=w_star.device), beta, n, sigma, seed)
        return float(proj.mean()) > float(raw.mean()) + tol.monte_carlo(float((proj - raw).std()), TRIALS)
    seed = find_counterexample(st.integers(0, 3), refutes, what="a discarded-direction label helped by projection",
                               max_examples=4)
    return f"seed {seed}: β on a discarded (high augmentation-variance) direction: the projected probe is worse"
