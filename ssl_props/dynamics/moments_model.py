r"""Stop-gradient (SG), EMA and plain gradient descent (GD) in the linear moments model of Terver, Ponce & Hebert (2025).

A mechanism: the fields, flows, Jacobians and loop integrals of the model. The paper's closed forms
and checks live in :mod:`ssl_props.papers.terver2025`.

References:
    [0] Terver, Ponce, Hebert (camera-ready adds Arbel), "Dual Perspectives on Non-Contrastive
        Self-Supervised Learning", 2025, arXiv:2507.01028 (ICLR 2026). Linear case, §4 (camera-ready).
    [1] Tian, Chen, Ganguli, ICML 2021, arXiv:2102.06810: the special case of exchangeable views.

Paper notation (legend: ``m`` input dim, ``n`` embedding dim, ``...`` batch of cases): encoder
``A`` (..., n, m), predictor ``B`` (..., n, n), teacher ``C`` (..., n, m); views ``x, y`` with second
moments ``[xxᵀ]``, ``[yxᵀ]``, ``[yyᵀ]`` (:class:`ViewMoments`, (..., m, m) each; ``[xyᵀ] = [yxᵀ]ᵀ``).
Residual ``R(A, B, C) = B A [xxᵀ] − C [yxᵀ]`` and ridge ``Ω = λ(‖A‖² + ‖B‖²)/2``::

    Ē(A, B)    = ½ E‖B A x − A y‖² + Ω                 (the original objective)
    F̄(A, B, C) = ½ E‖B A x − C y‖² + Ω                 (teacher C; SG: C = A, EMA: dC/dt = β (A − C))
    SG / EMA:  dA/dt = −(Bᵀ R + λ A),   dB/dt = −(R Aᵀ + λ B)      (gradients of F̄ at fixed C)
    GD:        dA/dt = −∇_A Ē = −(Bᵀ R − B A [xyᵀ] + A [yyᵀ] + λ A),   dB/dt = −(R Aᵀ + λ B)

The SG/EMA fields are those of the issue-6 simulator (:func:`ssl_props.dynamics.fields.byol_field`)
with ``X := [yxᵀ]``, ``X' := [xxᵀ] − [yxᵀ]``, ``W = A, W_p = B, W_a = C, η = λ, α_p = 1``; that API
assumes exchangeable views for its no-stop-gradient branch, so :func:`gd_field` is written here in the
paper's general form (any ``[yyᵀ]``, non-symmetric ``[yxᵀ]``). States are tuples ``(A, B)`` (SG, GD)
or ``(A, B, C)`` (EMA); every function is pure, batched and differentiable (``torch.func`` works).
"""
from __future__ import annotations

import math
from typing import Callable, NamedTuple, Sequence, Union

import torch

from ssl_props._validation import InvalidArgument
from ssl_props.dynamics.fields import LinearState, _m, _t, byol_field
from ssl_props.dynamics.simulate import SimConfig, integrate

Tensor = torch.Tensor
Scalar = Union[float, Tensor]
State = tuple
#: a procedure's vector field: ``field(state, moments, lam, beta) -> d state / dt`` (same tuple layout)
Field = Callable[[State, "ViewMoments", Scalar, Scalar], State]
PROCEDURES = ("sg", "ema", "gd")

__all__ = ["ViewMoments", "PROCEDURES", "exchangeable_moments", "make_moments", "residual", "objective",
           "sg_field", "ema_field", "gd_field", "FIELDS", "flatten", "unflatten", "jacobian", "loop_integral",
           "run_flow", "orbit_tangent", "transversal_spectrum", "sample_moments", "sample_loss", "procedure_step", "limit_point"]


class ViewMoments(NamedTuple):
    """Second moments of the two views: ``xx = [xxᵀ]``, ``yx = [yxᵀ]``, ``yy = [yyᵀ]`` (..., m, m)."""

    xx: Tensor
    yx: Tensor
    yy: Tensor

    def joint(self) -> Tensor:
        """``Σ = [[xx, xy], [yx, yy]]`` (..., 2m, 2m), the second moment of ``(x, y)``."""
        top = torch.cat([self.xx, self.yx.transpose(-2, -1)], -1)
        return torch.cat([top, torch.cat([self.yx, self.yy], -1)], -2)


def exchangeable_moments(X: Tensor, Xp: Tensor) -> ViewMoments:
    """Tian et al.'s data model [1]: ``x, y = x̄ + ε, x̄ + ε'`` gives ``[xxᵀ] = [yyᵀ] = X + X'``, ``[yxᵀ] = X``."""
    return ViewMoments(X + Xp, X, X + Xp)


def make_moments(m: int, *, batch: Sequence[int] = (), seed: int = 0, signal: float = 1.0, noise: float = 0.3,
                 mix: float = 0.1, dtype: torch.dtype = torch.float64) -> ViewMoments:
    """Population moments of ``x = s + e₁``, ``y = M s + e₂`` (non-exchangeable views, [yxᵀ] not symmetric).

    Spectra are bounded so that tests can rely on margins: ``s ~ (0, S)``, ``S = signal·Q diag(1 + u) Qᵀ``;
    noises ``e_i ~ (0, noise·Q_i diag(½ + u_i) Q_iᵀ)``; ``M = (1 − mix) I + mix R`` (σ(M) ∈ [1 − 2 mix, 1]);
    ``u, u_i ∈ [0, 1]`` uniform, ``Q, Q_i, R`` Haar orthogonal, all seeded by ``seed``. ``Σ ≻ 0`` since ``N_i ≻ 0``.
    """
    if m < 1:
        raise InvalidArgument(f"m must be >= 1, got m={m}")
    if not 0 <= mix < 0.5:
        raise InvalidArgument(f"mix must lie in [0, 0.5) so that M is invertible, got mix={mix}")
    g = torch.Generator().manual_seed(int(seed))
    eye = torch.eye(m, dtype=torch.float64)

    def spd(lo: float) -> Tensor:
        Q = torch.linalg.qr(torch.randn((*batch, m, m), generator=g, dtype=torch.float64))[0]
        return (Q * (lo + torch.rand((*batch, 1, m), generator=g, dtype=torch.float64))) @ _t(Q)

    S, N1, N2 = signal * spd(1.0), noise * spd(0.5), noise * spd(0.5)
    R = torch.linalg.qr(torch.randn((*batch, m, m), generator=g, dtype=torch.float64))[0]
    M = (1 - mix) * eye + mix * R
    mom = ViewMoments(S + N1, M @ S, M @ S @ _t(M) + N2)
    return ViewMoments(*(v.to(dtype) for v in mom))


def residual(A: Tensor, B: Tensor, C: Tensor, mom: ViewMoments) -> Tensor:
    """``R = B A [xxᵀ] − C [yxᵀ]`` (..., n, m) ([0], Lemma 4.1)."""
    return B @ A @ mom.xx - C @ mom.yx


def _ridge(lam: Scalar, *ws: Tensor) -> Tensor:
    lam_ = lam if not isinstance(lam, Tensor) else lam.to(ws[0])
    return 0.5 * lam_ * sum(w.square().sum((-2, -1)) for w in ws)


def objective(A: Tensor, B: Tensor, mom: ViewMoments, lam: Scalar = 0.0, C: Tensor | None = None) -> Tensor:
    """``Ē(A, B)`` (``C=None``) or ``F̄(A, B, C)``: ``½ tr([BA, −C] Σ [BA, −C]ᵀ) + λ(‖A‖² + ‖B‖²)/2`` (...,)."""
    K = torch.cat([B @ A, -(A if C is None else C)], -1)
    return 0.5 * (K @ mom.joint() @ _t(K)).diagonal(dim1=-2, dim2=-1).sum(-1) + _ridge(lam, A, B)


def sg_field(state: State, mom: ViewMoments, lam: Scalar = 0.0, beta: Scalar = 0.0) -> State:
    """Stop-gradient field ``(dA, dB)`` = issue-6 ``byol_field`` with the target tied to ``A`` (``beta`` unused)."""
    A, B = state[0], state[1]
    d = byol_field(LinearState(A, B, A), mom.yx, mom.xx - mom.yx, eta=lam, beta=None)
    return (d.W, d.Wp)


def ema_field(state: State, mom: ViewMoments, lam: Scalar = 0.0, beta: Scalar = 1.0) -> State:
    """EMA field ``(dA, dB, dC)`` with ``dC/dt = β (A − C)`` (continuous limit of ``ξ ← αξ + (1−α)θ``)."""
    A, B, C = state
    d = byol_field(LinearState(A, B, C), mom.yx, mom.xx - mom.yx, eta=lam, beta=beta)
    return (d.W, d.Wp, d.Wa)


def gd_field(state: State, mom: ViewMoments, lam: Scalar = 0.0, beta: Scalar = 0.0) -> State:
    """``−∇Ē``: the gradient also flows through the target branch ``A y`` (no SG, no EMA)."""
    A, B = state[0], state[1]
    R = residual(A, B, A, mom)
    dA = -(_t(B) @ R - B @ A @ _t(mom.yx) + A @ mom.yy + _m(lam, A) * A)
    dB = -(R @ _t(A) + _m(lam, B) * B)
    return (dA, dB)


FIELDS: dict[str, Field] = {"sg": sg_field, "ema": ema_field, "gd": gd_field}


def sample_moments(x: Tensor, y: Tensor) -> ViewMoments:
    """Empirical moments of view samples ``x, y`` (..., N, m): ``[xxᵀ] = xᵀx/N`` etc."""
    N = x.shape[-2]
    return ViewMoments(_t(x) @ x / N, _t(y) @ x / N, _t(y) @ y / N)


def sample_loss(A: Tensor, B: Tensor, C: Tensor, x: Tensor, y: Tensor, lam: Scalar = 0.0) -> Tensor:
    """What an implementation computes: ``mean_i ½‖B A x_i − C y_i‖² + λ(‖A‖² + ‖B‖²)/2`` (...,)."""
    return 0.5 * (x @ _t(B @ A) - y @ _t(C)).square().sum(-1).mean(-1) + _ridge(lam, A, B)


def procedure_step(state: State, x: Tensor, y: Tensor, lam: Scalar, lr: float, *, momentum: float | None = None,
                   stop_gradient: bool = True) -> State:
    """One iteration as implemented (Lemma 4.1): SGD step on :func:`sample_loss` by autograd, target
    ``C = A.detach()`` (SG; ``stop_gradient=False`` lets the gradient through), then for EMA
    (``momentum = α``) the teacher update ``C ← α C + (1 − α) A_new`` under ``no_grad``."""
    A = state[0].detach().clone().requires_grad_(True)
    B = state[1].detach().clone().requires_grad_(True)
    C = (state[2] if momentum is not None else (A.detach() if stop_gradient else A))
    gA, gB = torch.autograd.grad(sample_loss(A, B, C, x, y, lam).sum(), (A, B))
    with torch.no_grad():
        A1, B1 = A - lr * gA, B - lr * gB
        if momentum is None:
            return (A1, B1)
        return (A1, B1, momentum * state[2] + (1 - momentum) * A1)


def limit_point(field: Field, state0: State, mom: ViewMoments, lam: Tensor, beta: Tensor, *, t_end: float,
                newton_steps: int = 10, rtol: float = 1e-4) -> tuple[State, Tensor]:
    """The flow's limit: integrate to ``t_end`` (:func:`run_flow`, ``rtol``: only the basin matters), then Newton-refine
    ``z ← z − J⁺ f(z)`` (pseudo-inverse: minimum-norm steps, orthogonal to the orbit where ``J`` is singular).

    Returns the refined state and the size of the total Newton correction ``‖z_∞ − z(t_end)‖`` (B,):
    a small correction next to a transversally attracting equilibrium means the flow converges to it.
    """
    n, m = state0[0].shape[-2:]
    zT = flatten(run_flow(field, state0, mom, lam, beta, t_end=t_end, rtol=rtol, atol=rtol * 1e-2))
    z, k = zT, len(state0)
    res = lambda z: flatten(field(unflatten(z, n, m, k), mom, lam, beta))  # noqa: E731
    for _ in range(newton_steps):
        f = res(z)
        if bool((f.abs().amax(-1) <= 1e-15 * (1 + z.abs().amax(-1)) ** 3).all()):
            break  # at rounding level for every case
        dz = (torch.linalg.pinv(jacobian(field, unflatten(z, n, m, k), mom, lam, beta), rtol=1e-10) @ f.unsqueeze(-1)).squeeze(-1)
        step = torch.ones_like(z[..., :1])
        for _ in range(6):  # backtracking per case: halve the step until the residual decreases
            worse = res(z - step * dz).norm(dim=-1, keepdim=True) > f.norm(dim=-1, keepdim=True)
            if not bool(worse.any()):
                break
            step = torch.where(worse, step / 2, step)
        z = z - step * dz
    return unflatten(z, n, m, len(state0)), (z - zT).norm(dim=-1)


def flatten(state: State) -> Tensor:
    """Concatenate the matrices of a state (row-major) into (..., N)."""
    return torch.cat([s.flatten(-2) for s in state], -1)


def unflatten(z: Tensor, n: int, m: int, parts: int) -> State:
    """Inverse of :func:`flatten` for ``(A, B)`` (``parts=2``) or ``(A, B, C)`` (``parts=3``)."""
    sizes = [n * m, n * n, n * m][:parts]
    if z.shape[-1] != sum(sizes):
        raise InvalidArgument(f"z has last dimension {z.shape[-1]}, expected {sum(sizes)} for n={n}, m={m}, parts={parts}")
    shapes = [(n, m), (n, n), (n, m)]
    return tuple(c.reshape(*z.shape[:-1], *s) for c, s in zip(torch.split(z, sizes, -1), shapes))


def _flat_field(field: Field, n: int, m: int, parts: int) -> Callable[..., Tensor]:
    return lambda z, mom, lam, beta: flatten(field(unflatten(z, n, m, parts), mom, lam, beta))


def jacobian(field: Field, state: State, mom: ViewMoments, lam: Tensor, beta: Tensor) -> Tensor:
    """Jacobian ``∂ field / ∂ state`` (B, N, N) of a batched state by reverse-mode autograd.

    The cases are independent, so the Jacobian of the batch-summed field ``Σ_b f(z_b)`` with respect to
    ``z`` (B, N) is ``J_b`` in block ``[:, b, :]`` (``torch.autograd.functional.jacobian(vectorize=True)``:
    no per-call compilation, unlike ``torch.func.vmap``). ``lam``, ``beta``: floats or (B,) tensors.
    """
    n, m = state[0].shape[-2:]
    f = _flat_field(field, n, m, len(state))
    J = torch.autograd.functional.jacobian(lambda z: f(z, mom, lam, beta).sum(0), flatten(state).detach(), vectorize=True)
    return J.permute(1, 0, 2)


def loop_integral(field: Field, state: State, mom: ViewMoments, lam: Tensor, beta: Tensor, u: Tensor, v: Tensor,
                  radius: float, points: int = 64) -> Tensor:
    """Circulation ``∮ P · dz`` of the field around the circle ``z₀ + r(cos θ u + sin θ v)`` (B,).

    Trapezoid rule in θ (exponentially accurate for periodic analytic integrands). For a gradient field
    it is 0; by Stokes it equals ``π r² vᵀ(J − Jᵀ)u + O(r⁴)`` (the quadratic Taylor terms integrate to 0).
    """
    n, m = state[0].shape[-2:]
    f = _flat_field(field, n, m, len(state))
    z0 = flatten(state)
    th = torch.arange(points, dtype=z0.dtype, device=z0.device) * (2 * math.pi / points)
    c, s = th.cos().reshape(-1, 1, 1), th.sin().reshape(-1, 1, 1)
    z = z0 + radius * (c * u + s * v)  # (points, B, N)
    dz = radius * (-s * u + c * v)
    P = torch.stack([f(z[k], mom, lam, beta) for k in range(points)])
    return (P * dz).sum(-1).sum(0) * (2 * math.pi / points)


def run_flow(field: Field, state0: State, mom: ViewMoments, lam: Tensor, beta: Tensor, *, t_end: float,
             rtol: float = 1e-10, atol: float = 1e-12) -> State:
    """Integrate ``d state/dt = field`` to ``t_end`` with the issue-6 batched Dormand-Prince integrator."""
    cfg = SimConfig(t_end=t_end, method="dopri5", rtol=rtol, atol=atol)
    traj = integrate(lambda t, y: field(tuple(y), mom, lam, beta), tuple(state0), cfg)
    return tuple(traj.final)


def orbit_tangent(state: State) -> Tensor:
    """Tangent vectors (B, N, n(n−1)/2) of the O(n)-orbit ``(QA, QBQᵀ[, QC])`` through ``state``.

    The fields are O(n)-equivariant, so at an equilibrium these vectors lie in the Jacobian's kernel
    (Cor. 4.6: the equilibria are the varieties ``{U √S_k : UᵀU = I}``).
    """
    n = state[0].shape[-2]
    cols = []
    for i in range(n):
        for j in range(i + 1, n):
            W = torch.zeros(n, n, dtype=state[0].dtype, device=state[0].device)
            W[i, j], W[j, i] = 1.0, -1.0
            parts = [W @ state[0], W @ state[1] - state[1] @ W] + ([W @ state[2]] if len(state) == 3 else [])
            cols.append(flatten(tuple(parts)))
    return torch.stack(cols, -1)


def transversal_spectrum(J: Tensor, tangent: Tensor, rank: int) -> tuple[Tensor, Tensor]:
    """Eigenvalues of ``J`` on the quotient by the orbit's tangent space, and ``‖J Q_T‖`` (B, ...).

    With ``Q = [Q_T, Q_N]`` orthonormal and ``J Q_T = 0``, ``QᵀJQ`` is block upper-triangular, so
    ``spec J = {0}^rank ∪ spec(Q_Nᵀ J Q_N)``. ``rank`` is the orbit dimension ``mn − m(m+1)/2``.
    """
    U, _, _ = torch.linalg.svd(tangent, full_matrices=True)
    QT, QN = U[..., :rank], U[..., rank:]
    return torch.linalg.eigvals(_t(QN) @ J @ QN), torch.linalg.matrix_norm(J @ QT, ord=2)
