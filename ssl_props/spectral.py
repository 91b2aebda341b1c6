"""SSL losses written with the relation matrix G, their closed-form optima (eigen-problems), comparisons
invariant to the symmetries of the optima, and a batched L-BFGS used to check the closed forms.

Source: Balestriero & LeCun, "Contrastive and Non-Contrastive Self-Supervised Learning Recover Global
and Local Spectral Embedding Methods", NeurIPS 2022, arXiv:2205.11508 (Sec. 2 for the losses in terms of
G). The closed forms below are DERIVED here (see ``ssl_props/papers/balestriero2022/`` for what is
reconstructed); the paper's numbering could not be checked against its text.

Layout: ``Z`` is ``(..., N, K)`` (samples × features), ``G`` is ``(N, N)``; ``H = I − 11ᵀ/N``;
``Cov(Z) = Zᵀ H Z / N``. Everything is batched over the leading dimensions of ``Z`` and runs on the
device of its inputs.
"""
from __future__ import annotations

import math
from typing import Callable

import torch

from ssl_props import tolerances
from ssl_props._validation import InvalidArgument, check_embeddings, check_positive, describe
from ssl_props.graphs import check_relation_matrix, component_labels, dirichlet_energy, laplacian, laplacian_quadratic, positive_pairs

__all__ = ["covariance", "vicreg_spectral_loss", "vicreg_hinge_loss", "centred_eigh", "vicreg_closed_form",
           "vicreg_closed_form_loss", "laplacian_eigenmaps", "vicreg_linear_loss", "vicreg_linear_closed_form",
           "simclr_loss", "infonce_loss", "simclr_simplex", "cross_entropy", "gibbs", "barlow_twins_loss", "barlow_twins_closed_form",
           "centred_gram", "projector", "projector_distance", "principal_angles", "lbfgs", "curvature",
           "convergence_tolerances", "probe_residual"]


# ----------------------------------------------------------------------------------------------- losses
def covariance(z: torch.Tensor) -> torch.Tensor:
    """``Cov(Z) = Zᵀ H Z / N`` (biased, centred), shape ``(..., K, K)``."""
    zc = z - z.mean(-2, keepdim=True)
    return zc.transpose(-2, -1) @ zc / z.shape[-2]


def vicreg_spectral_loss(z: torch.Tensor, g: torch.Tensor, *, beta: float = 1.0, gamma: float = 1.0,
                         cov: Callable[[torch.Tensor], torch.Tensor] = covariance) -> torch.Tensor:
    r"""VICReg with a quadratic variance penalty (the spectral variant), batched over ``z``'s leading dims.

    .. math:: L(Z) = \beta\,\|\mathrm{Cov}(Z) - I_K\|_F^2 + \frac{\gamma}{N}\sum_{ij} G_{ij}\|Z_i - Z_j\|^2

    ``β‖C − I‖²_F = β Σ_{k≠j} C_kj² + β Σ_k (1 − C_kk)²``: the paper's covariance term (ordered pairs)
    plus a squared variance penalty in place of its hinge ``α Σ_k max(0, 1 − √C_kk)``.
    """
    n, k = z.shape[-2:]
    eye = torch.eye(k, dtype=z.dtype, device=z.device)
    # invariance via Σ G_ij‖Z_i − Z_j‖² = 2 tr(ZᵀLZ) (claim2, checked against the pairwise sum): one GEMM per call
    return beta * (cov(z) - eye).square().sum((-2, -1)) + 2 * gamma / n * laplacian_quadratic(z, laplacian(g))


def vicreg_hinge_loss(z: torch.Tensor, g: torch.Tensor, *, alpha: float = 1.0, beta: float = 1.0,
                      gamma: float = 1.0) -> torch.Tensor:
    r"""The paper's VICReg in terms of G (Sec. 2), with the biased covariance:
    :math:`\alpha\sum_k \max(0, 1-\sqrt{C_{kk}}) + \beta\sum_{k\neq j} C_{kj}^2 + \frac{\gamma}{N}\sum_{ij}G_{ij}\|Z_i-Z_j\|^2`."""
    c = covariance(z)
    d = c.diagonal(dim1=-2, dim2=-1)
    off = c - torch.diag_embed(d)
    var = torch.relu(1 - d.clamp_min(0).sqrt()).sum(-1)
    return alpha * var + beta * off.square().sum((-2, -1)) + gamma / z.shape[-2] * dirichlet_energy(z, g)


def centred_eigh(lap: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Eigenpairs of ``L`` restricted to ``1⊥`` (ascending): ``L`` in an orthonormal basis ``B`` of ``1⊥``.

    Removing the constant vector exactly (not "drop the first eigenvector") is what centring does; it
    matters for disconnected graphs, whose null space has one dimension per component.
    """
    n = lap.shape[-1]
    ones = torch.ones(n, 1, dtype=lap.dtype, device=lap.device)
    q, _ = torch.linalg.qr(torch.cat([ones, torch.eye(n, dtype=lap.dtype, device=lap.device)[:, : n - 1]], 1))
    b = q[:, 1:]  # (N, N−1), orthonormal, ⟂ 1
    lam, v = torch.linalg.eigh(b.T @ lap @ b)
    return lam, b @ v


def vicreg_closed_form(g: torch.Tensor, k: int, *, beta: float = 1.0, gamma: float = 1.0) -> torch.Tensor:
    r"""Optimal representation of :func:`vicreg_spectral_loss` (derived; Q ∈ O(K) and translations free).

    .. math:: Z^\star = \sqrt{N}\,[u_1,\dots,u_K]\,\mathrm{diag}\big(\sqrt{\max(0,\,1-\gamma\lambda_k/\beta)}\big)

    with ``(λ_k, u_k)`` the bottom eigenpairs of ``L`` on ``1⊥``. Needs ``K ≤ N − 1``.
    """
    g = check_relation_matrix(g)
    check_positive(beta, "beta"), check_positive(gamma, "gamma")
    n = g.shape[-1]
    if not isinstance(k, int) or not 1 <= k <= n - 1:
        raise InvalidArgument(f"k must be an int in [1, N − 1] = [1, {n - 1}], got k={k!r}")
    lam, u = centred_eigh(laplacian(g))
    t = (1 - gamma * lam[:k] / beta).clamp_min(0)
    return math.sqrt(n) * u[:, :k] * t.sqrt()


def vicreg_closed_form_loss(g: torch.Tensor, k: int, *, beta: float = 1.0, gamma: float = 1.0) -> torch.Tensor:
    """Minimum of :func:`vicreg_spectral_loss`: ``Σ_k β(c_k − 1)² + 2γλ_k c_k``, ``c_k = (1 − γλ_k/β)_+``."""
    lam = centred_eigh(laplacian(check_relation_matrix(g)))[0][:k]
    c = (1 - gamma * lam / beta).clamp_min(0)
    return (beta * (c - 1).square() + 2 * gamma * lam * c).sum()


def laplacian_eigenmaps(g: torch.Tensor, k: int) -> torch.Tensor:
    """Laplacian Eigenmaps: ``min tr(Zᵀ L Z)`` s.t. ``Zᵀ D Z = I``, ``Zᵀ D 1 = 0`` (generalised ``L u = λ D u``)."""
    g = check_relation_matrix(g)
    d = g.sum(-1)
    if bool((d <= 0).any()):
        raise InvalidArgument("laplacian_eigenmaps needs every node to have a positive degree (no isolated nodes)")
    n = g.shape[-1]
    s = d.rsqrt()
    norm_lap = s[:, None] * laplacian(g) * s[None, :]
    root = d.sqrt()[:, None] / d.sum().sqrt()  # trivial eigenvector of the normalised Laplacian
    q, _ = torch.linalg.qr(torch.cat([root, torch.eye(n, dtype=g.dtype, device=g.device)[:, : n - 1]], 1))
    b = q[:, 1:]
    _, v = torch.linalg.eigh(b.T @ norm_lap @ b)
    return s[:, None] * (b @ v[:, :k])


def vicreg_linear_loss(w: torch.Tensor, x: torch.Tensor, g: torch.Tensor, *, beta: float = 1.0,
                       gamma: float = 1.0) -> torch.Tensor:
    """:func:`vicreg_spectral_loss` of the linear network ``Z = X W`` (``W`` is ``(..., D, K)``)."""
    return vicreg_spectral_loss(x @ w, g, beta=beta, gamma=gamma)


def vicreg_linear_closed_form(x: torch.Tensor, g: torch.Tensor, k: int, *, beta: float = 1.0,
                              gamma: float = 1.0) -> torch.Tensor:
    r"""Optimal ``W`` of :func:`vicreg_linear_loss` (derived; Locality Preserving Projections).

    .. math:: W^\star = \Sigma^{-1/2} E_K\,\mathrm{diag}\big(\sqrt{(1-\gamma\mu_k/\beta)_+}\big),\quad
              \Sigma = X^T H X/N,\ M = X^T L X/N,\ \Sigma^{-1/2} M \Sigma^{-1/2} = E\,\mathrm{diag}(\mu)\,E^T.

    Needs ``H X`` of full column rank (``N > D``), else ``Σ`` is singular and ``W`` is not identified.
    """
    x = check_embeddings(x, "X", min_rows=2)
    g = check_relation_matrix(g)
    n, dim = x.shape
    sigma = covariance(x)
    ev, evec = torch.linalg.eigh(sigma)
    if float(ev[0]) <= tolerances.sum_of_products(x.dtype, n, float(ev[-1])):
        raise InvalidArgument(f"X must have full column rank after centring (N > D); Cov(X) has eigenvalue "
                              f"{float(ev[0]):.3g} in {describe(x)}")
    if not 1 <= k <= dim:
        raise InvalidArgument(f"k must be in [1, D] = [1, {dim}], got k={k!r}")
    isq = evec @ torch.diag(ev.rsqrt()) @ evec.T
    mu, e = torch.linalg.eigh(isq @ (x.T @ laplacian(g) @ x / n) @ isq)
    return isq @ e[:, :k] * (1 - gamma * mu[:k] / beta).clamp_min(0).sqrt()


def cross_entropy(g: torch.Tensor, p: torch.Tensor) -> torch.Tensor:
    """``−Σ_ij G_ij log P_ij`` over the entries with ``G_ij > 0`` (batched over ``p``)."""
    mask = g > 0
    return -(g * torch.where(mask, p, torch.ones_like(p)).log()).sum((-2, -1))


def gibbs(g: torch.Tensor) -> torch.Tensor:
    """Row-normalised ``G``: the right-stochastic minimiser of :func:`cross_entropy` (rows of G must be non-zero)."""
    d = g.sum(-1, keepdim=True)
    if bool((d <= 0).any()):
        raise InvalidArgument("gibbs needs every row of G to have a positive sum")
    return g / d


def simclr_loss(z: torch.Tensor, g: torch.Tensor, *, tau: float = 0.5, exclude_self: bool = True) -> torch.Tensor:
    r"""SimCLR in terms of G (paper Sec. 2): :math:`-\sum_{ij} G_{ij}\log\hat G(Z)_{ij}`,
    :math:`\hat G_{ij} = e^{\cos(z_i,z_j)/\tau} / \sum_{k\neq i} e^{\cos(z_i,z_k)/\tau}` (``i ≠ j``)."""
    zn = torch.nn.functional.normalize(z, dim=-1)
    s = zn @ zn.transpose(-2, -1) / tau
    eye = torch.eye(z.shape[-2], dtype=torch.bool, device=z.device)
    logits = s.masked_fill(eye, float("-inf")) if exclude_self else s
    logp = (s - torch.logsumexp(logits, -1, keepdim=True)).masked_fill(eye, 0.0)
    return -(g * logp).sum((-2, -1))


def infonce_loss(z: torch.Tensor, g: torch.Tensor, *, tau: float = 0.5, candidates: torch.Tensor | None = None,
                 anchors: torch.Tensor | None = None) -> torch.Tensor:
    r"""The InfoNCE family in terms of G: a cross-entropy between G and a row-stochastic :math:`\hat G` whose
    rows are normalised over a candidate set :math:`C_i` (batched over ``z``'s leading dims).

    .. math:: L(Z) = -\sum_{i \in A}\sum_j G_{ij}\Big[s_{ij} - \log\sum_{k \in C_i} e^{s_{ik}}\Big],
              \qquad s_{ij} = \cos(z_i, z_j)/\tau

    ``candidates`` (bool ``(N, N)``, default ``k ≠ i``: SimCLR, :func:`simclr_loss`) is each anchor's
    denominator: ``k ∉ {i} ∪ positives(i)`` gives DCL, the other view's rows give cross-view InfoNCE;
    ``anchors`` (bool ``(N,)``, default all) are the rows summed. Source: Balestriero & LeCun 2022, Sec. 2
    (SimCLR/NNCLR differ only in G); the candidate sets of DCL/InfoNCE are our reading of those methods.
    """
    n = z.shape[-2]
    for name, mask, shape in (("candidates", candidates, (n, n)), ("anchors", anchors, (n,))):
        if mask is not None and tuple(mask.shape) != shape:
            raise InvalidArgument(f"{name} must be a bool mask of shape {shape} for N = {n} rows of z, got {tuple(mask.shape)}")
    eye = torch.eye(n, dtype=torch.bool, device=z.device)
    cand = ~eye if candidates is None else candidates.to(device=z.device, dtype=torch.bool)
    rows = torch.ones(n, dtype=torch.bool, device=z.device) if anchors is None else anchors.to(z.device)
    zn = torch.nn.functional.normalize(z, dim=-1)
    s = zn @ zn.transpose(-2, -1) / tau
    lse = torch.logsumexp(s.masked_fill(~cand, float("-inf")), -1, keepdim=True)
    w = torch.where(rows[:, None] & (g > 0), g, torch.zeros_like(g))
    return -(w * (s - lse).masked_fill(w == 0, 0.0)).sum((-2, -1))


def simclr_simplex(n_samples: int, n_views: int, k: int, *, dtype: torch.dtype = torch.float64,
                   device: torch.device | None = None) -> torch.Tensor:
    """Closed form for the augmentation G: all views of image ``n`` on one unit vector, the ``n_samples``
    vectors on a regular simplex (pairwise cosine ``−1/(N'−1)``); needs ``k ≥ n_samples − 1``."""
    if k < n_samples - 1:
        raise InvalidArgument(f"a regular simplex of {n_samples} points needs k >= {n_samples - 1}, got k={k}")
    c = torch.eye(n_samples, dtype=torch.float64) - 1.0 / n_samples
    _, v = torch.linalg.eigh(c)
    pts = v[:, 1:] if n_samples > 1 else torch.ones(1, 1, dtype=torch.float64)
    pts = torch.nn.functional.normalize(torch.nn.functional.pad(pts, (0, k - pts.shape[1])), dim=-1)
    return pts.repeat(n_views, 1).to(dtype=dtype, device=device)


def barlow_twins_loss(z: torch.Tensor, g: torch.Tensor, *, alpha: float = 1.0) -> torch.Tensor:
    r"""BarlowTwins in terms of G (paper Sec. 2): ``Z_left = Z[rows of nnz(G)]``, ``Z_right = Z[cols]``,
    :math:`C_{kl} = \langle Z^{left}_{\cdot k}, Z^{right}_{\cdot l}\rangle/(\|Z^{left}_{\cdot k}\|\|Z^{right}_{\cdot l}\|)`,
    :math:`L = \sum_k (C_{kk}-1)^2 + \alpha\sum_{k\neq l} C_{kl}^2` (uncentred, as printed)."""
    rows, cols = positive_pairs(g)
    zl, zr = z[..., rows, :], z[..., cols, :]
    c = zl.transpose(-2, -1) @ zr / (zl.norm(dim=-2)[..., :, None] * zr.norm(dim=-2)[..., None, :])
    d = c.diagonal(dim1=-2, dim2=-1)
    return (d - 1).square().sum(-1) + alpha * (c.square().sum((-2, -1)) - d.square().sum(-1))


def barlow_twins_closed_form(g: torch.Tensor, k: int) -> torch.Tensor:
    """A zero-loss ``Z`` of :func:`barlow_twins_loss`: column ``k`` = indicator of the ``k``-th connected
    component that has an edge. Needs ``k ≤`` that number of components: rank(Z⋆) is pinned by G."""
    g = check_relation_matrix(g)
    labels, has_edge = component_labels(g), (g.sum(-1) > 0).cpu()
    comps = [labels == c for c in labels[has_edge].unique(sorted=False).tolist()]
    comps.sort(key=lambda m: int(m.nonzero()[0]))
    if not 1 <= k <= len(comps):
        raise InvalidArgument(f"a zero BarlowTwins loss needs k <= {len(comps)} (components of G with an edge), got k={k}")
    return torch.stack(comps[:k], -1).to(dtype=g.dtype, device=g.device)


# ---------------------------------------------------------------------------------------- comparisons
def centred_gram(z: torch.Tensor) -> torch.Tensor:
    """``H Z Zᵀ H``: invariant to ``Z → Z Q`` (Q orthogonal) and to translations ``Z → Z + 1 aᵀ``."""
    zc = z - z.mean(-2, keepdim=True)
    return zc @ zc.transpose(-2, -1)


def projector(z: torch.Tensor, rank: int | None = None) -> torch.Tensor:
    """Orthogonal projector onto the span of the top ``rank`` left singular vectors of ``z`` (batched)."""
    u, s, _ = torch.linalg.svd(z, full_matrices=False)
    if rank is None:
        rank = int((s > s.amax(-1, keepdim=True) * s.shape[-1] * tolerances.eps(z.dtype) * max(z.shape[-2:])).sum(-1).max())
    u = u[..., :rank]
    return u @ u.transpose(-2, -1)


def projector_distance(a: torch.Tensor, b: torch.Tensor, rank: int | None = None) -> torch.Tensor:
    """``‖P_a − P_b‖_F = √2 ‖sin Θ‖_F`` (Θ principal angles), free of signs, rotations and ties."""
    return (projector(a, rank) - projector(b, rank)).norm(dim=(-2, -1))


def principal_angles(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """Principal angles (radians) between the column spans of ``a`` and ``b`` (batched)."""
    qa, _ = torch.linalg.qr(a)
    qb, _ = torch.linalg.qr(b)
    return torch.arccos(torch.linalg.svdvals(qa.transpose(-2, -1) @ qb).clamp(-1, 1))


# ----------------------------------------------------------------------------------------- optimiser
def _value_grad(fun: Callable[[torch.Tensor], torch.Tensor], x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    with torch.enable_grad():
        xg = x.detach().requires_grad_(True)
        f = fun(xg)
        (g,) = torch.autograd.grad(f.sum(), xg)
    return f.detach(), g


def lbfgs(fun: Callable[[torch.Tensor], torch.Tensor], x0: torch.Tensor, *, gtol: float = 1e-9,
          max_iter: int = 500, history: int = 10, c1: float = 1e-4) -> tuple[torch.Tensor, torch.Tensor, int]:
    """Minimise ``B`` independent problems at once: ``fun`` maps ``(B, *shape)`` to ``(B,)`` losses.

    Each start keeps its own L-BFGS history and its own backtracking (Armijo) step; a start stops when
    ``‖∇f‖ ≤ gtol``, or when no step decreases ``f`` beyond its rounding (stalled: the reported ``‖∇f‖`` is then
    larger than ``gtol``, and tolerances derived from it stay valid). The Armijo test allows a rounding slack
    ``4·eps·(|f| + |f(x0)|)`` (the loss's terms are bounded by its starting scale), so float64 runs reach
    gradients far below ``√eps``. Returns ``(x, ‖∇f‖ per start, iterations)``.
    """
    x = x0.detach().clone()
    b = x.shape[0]
    flat = lambda t: t.reshape(b, -1)  # noqa: E731
    f, g = _value_grad(fun, x)
    hist: list[tuple[torch.Tensor, torch.Tensor, torch.Tensor]] = []
    slack = 4 * tolerances.eps(x.dtype)
    scale = f.abs()
    stalled = torch.zeros(b, dtype=torch.bool, device=x.device)
    it = 0
    for it in range(1, max_iter + 1):
        gf = flat(g)
        active = (gf.norm(dim=1) > gtol) & ~stalled
        if not bool(active.any()):
            break
        q, alphas = gf.clone(), []
        for s, y, rho in reversed(hist):
            a = rho * (s * q).sum(1)
            q = q - a[:, None] * y
            alphas.append(a)
        if hist:
            s, y, rho = hist[-1]
            h0 = torch.where(rho > 0, (s * y).sum(1) / (y * y).sum(1).clamp_min(torch.finfo(x.dtype).tiny), 1.0)
        else:
            h0 = 1.0 / gf.norm(dim=1).clamp_min(1.0)
        r = h0[:, None] * q
        for (s, y, rho), a in zip(hist, reversed(alphas)):
            r = r + s * (a - rho * (y * r).sum(1))[:, None]
        d = -r
        slope = (gf * d).sum(1)
        bad = slope >= 0
        d = torch.where(bad[:, None], -gf, d)
        slope = torch.where(bad, -(gf * gf).sum(1), slope)
        t = torch.where(active, 1.0, 0.0).to(x.dtype)
        for _ in range(50):
            with torch.no_grad():
                fn = fun(x + (t[:, None] * d).reshape(x.shape))
            ok = (fn <= f + c1 * t * slope + slack * (f.abs() + scale)) | (t == 0)
            if bool(ok.all()):
                break
            t = torch.where(ok, t, t / 2)
        stalled |= active & ~ok
        t = torch.where(ok, t, 0.0)
        xn = x + (t[:, None] * d).reshape(x.shape)
        fn, gn = _value_grad(fun, xn)
        s, y = flat(xn - x), flat(gn - g)
        sy = (s * y).sum(1)
        rho = torch.where(sy > tolerances.eps(x.dtype) * s.norm(dim=1) * y.norm(dim=1), 1.0 / sy.clamp_min(torch.finfo(x.dtype).tiny), 0.0)
        hist.append((s, y, rho))
        if len(hist) > history:
            hist.pop(0)
        x, f, g = xn, fn, gn
    return x, flat(g).norm(dim=1), it


def curvature(fun: Callable[[torch.Tensor], torch.Tensor], x: torch.Tensor) -> tuple[float, int]:
    """Smallest Hessian eigenvalue of ``fun`` at ``x`` (one point) outside its flat (symmetry) directions.

    Directions with ``|μ| ≤ √eps·max|μ|`` are the orbit of the solution's symmetries (rotations,
    translations, scalings); returns ``(μ_min, number of flat directions)``.
    """
    with torch.enable_grad():
        h = torch.autograd.functional.hessian(lambda v: fun(v.reshape(x.shape)).sum(), x.detach().reshape(-1))
    mu = torch.linalg.eigvalsh((h + h.T) / 2)
    flat = mu.abs() <= math.sqrt(tolerances.eps(x.dtype)) * float(mu.abs().max())
    return float(mu[~flat].min()) if bool((~flat).any()) else float("inf"), int(flat.sum())


def convergence_tolerances(gnorm: torch.Tensor, mu: float, scale: float, *, dtype: torch.dtype = torch.float64,
                           n_terms: int = 1, magnitude: float = 1.0) -> tuple[torch.Tensor, torch.Tensor]:
    """Tolerances on the loss and on ``‖Z Zᵀ − Z⋆Z⋆ᵀ‖`` implied by stopping at gradient norm ``gnorm``.

    Near a minimum with curvature ``μ`` (outside symmetry directions), ``f − f⋆ ≤ ‖∇f‖²/(2μ)`` and the
    distance to the solution set is ``δ ≤ ‖∇f‖/μ``; then ``‖ZZᵀ − Z⋆Z⋆ᵀ‖_F ≤ (2‖Z⋆‖₂ + δ) δ``. Both get the
    :data:`tolerances.SAFETY` factor (second-order terms) plus the rounding of the loss's ``n_terms`` sums.
    """
    delta = tolerances.SAFETY * gnorm / mu
    rounding = tolerances.sum_of_products(dtype, n_terms, magnitude)
    return tolerances.SAFETY * gnorm.square() / (2 * mu) + rounding, (2 * scale + delta) * delta + rounding


def probe_residual(z: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """Squared residual ``min_{W,b} ‖[Z, 1] [W; b] − Y‖²_F`` of the least-squares linear probe (batched over z).

    Computed as ``‖(I − P) H Y‖²_F`` with ``P`` the projector onto the span of ``H Z`` (exact rank via SVD).
    """
    hy = y - y.mean(-2, keepdim=True)
    p = projector(z - z.mean(-2, keepdim=True))
    return (hy - p @ hy).square().sum((-2, -1))
