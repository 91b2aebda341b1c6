r"""Batched, deterministic ODE integrators for the linear SSL dynamics (fixed-step and adaptive).

The state is a tuple of tensors (e.g. :class:`~ssl_props.dynamics.fields.LinearState`) whose first axis
is the case axis ``B``: many initialisations and data models are integrated at once. The field is
``field(t, y) -> dy/dt`` with ``t`` a (B,) tensor (autonomous fields ignore it).

* ``"euler"``: ``y ← y + h f(y)``. With ``h`` = learning rate this *is* the discrete update of the
  papers: gradient step, weight decay and EMA ``W_a ← γ_a W_a + (1 − γ_a) W`` with ``αβ = 1 − γ_a``
  (Tian et al. 2021, Lemma 1 remark). Global error O(h).
* ``"rk4"``: classical Runge-Kutta, global error O(h⁴).
* ``"dopri5"``: Dormand-Prince 5(4) with *per-case* adaptive step sizes (Hairer, Nørsett & Wanner,
  Solving ODEs I, §II.4-5; the method of ``scipy.integrate.solve_ivp(method="RK45")``), error norm
  ``rms(err / (atol + rtol max(|y|, |y_new|)))`` per case, the same as scipy's; steps are clipped to land
  on the save times. Cases whose step falls below ``min_step`` or turn non-finite are frozen and
  marked ``ok = False``.

>>> cfg = SimConfig(t_end=1.0, method="rk4", dt=1e-2)
>>> traj = integrate(lambda t, y: (-y[0],), (torch.ones(5, dtype=torch.float64),), cfg)
>>> traj.y[0].shape      # (n_save + 1, B)
torch.Size([2, 5])
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Callable, NamedTuple, Sequence

import torch

from ssl_props._validation import InvalidArgument
from ssl_props.device import resolve_device

__all__ = ["METHODS", "SimConfig", "Trajectory", "integrate", "simulate"]

Tensor = torch.Tensor
Field = Callable[[Tensor, Sequence[Tensor]], Sequence[Tensor]]
METHODS = ("euler", "rk4", "dopri5")


@dataclass(frozen=True)
class SimConfig:
    """Validated integrator settings.

    Attributes:
        t_end: final time (> 0); saves at ``t_end · k / n_save``, ``k = 0..n_save``.
        method: one of :data:`METHODS`.
        dt: step of the fixed-step methods (the step actually used is ``≤ dt`` so that saves are hit).
        rtol, atol: tolerances of ``dopri5``.
        n_save: number of save intervals (≥ 1).
        max_steps: bound on the number of (batched) steps; ``dopri5`` marks the cases unfinished by then
            as failed (``ok = False``, NaN) instead of running on.
        min_step: ``dopri5`` gives up on a case when its step falls below ``min_step · t_end``.
        blowup: a case whose state exceeds ``blowup`` in absolute value is declared diverged: frozen,
            NaN from then on, ``ok = False`` (a finite-time blow-up would otherwise shrink the steps forever).
        dtype: floating dtype of the integration (float64 for theorem checks).
        device: ``None`` → :func:`ssl_props.device.resolve_device`.
    """

    t_end: float
    method: str = "rk4"
    dt: float = 1e-2
    rtol: float = 1e-8
    atol: float = 1e-10
    n_save: int = 1
    max_steps: int = 10_000_000
    min_step: float = 1e-14
    blowup: float = 1e12
    dtype: torch.dtype = torch.float64
    device: Any = None

    def __post_init__(self) -> None:
        for name in ("t_end", "dt", "rtol", "atol", "min_step", "blowup"):
            v = getattr(self, name)
            if isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v) or v <= 0:
                raise InvalidArgument(f"SimConfig.{name} must be a finite number > 0, got {name}={v!r}")
        if self.method not in METHODS:
            raise InvalidArgument(f"SimConfig.method={self.method!r} is unknown; use one of {METHODS}")
        for name in ("n_save", "max_steps"):
            v = getattr(self, name)
            if isinstance(v, bool) or not isinstance(v, int) or v < 1:
                raise InvalidArgument(f"SimConfig.{name} must be an integer >= 1, got {name}={v!r}")
        if not (isinstance(self.dtype, torch.dtype) and self.dtype.is_floating_point):
            raise InvalidArgument(f"SimConfig.dtype must be a floating torch dtype, got dtype={self.dtype!r}")
        if self.method != "dopri5" and self.steps > self.max_steps:
            raise InvalidArgument(f"SimConfig: t_end/dt needs {self.steps} steps > max_steps={self.max_steps}; "
                                  f"raise dt or max_steps")

    @property
    def steps(self) -> int:
        """Number of fixed steps: the smallest multiple of ``n_save`` with ``t_end / steps ≤ dt``."""
        return self.n_save * max(1, math.ceil(self.t_end / (self.dt * self.n_save) - 1e-12))

    @property
    def torch_device(self) -> torch.device:
        return resolve_device(self.device)


class Trajectory(NamedTuple):
    """Saved states: ``t`` (n_save + 1,), ``y`` a tuple like ``y0`` with tensors (n_save + 1, B, ...),
    ``ok`` (B,) bool (``False``: the case diverged or its step underflowed), ``steps`` (B,) accepted
    steps per case, ``nfev`` batched field evaluations."""

    t: Tensor
    y: tuple
    ok: Tensor
    steps: Tensor
    nfev: int

    @property
    def final(self) -> tuple:
        return type(self.y)(*(v[-1] for v in self.y)) if hasattr(self.y, "_fields") else tuple(v[-1] for v in self.y)


def _rebuild(proto: Sequence[Tensor], parts: Sequence[Tensor]) -> tuple:
    return type(proto)(*parts) if hasattr(proto, "_fields") else tuple(parts)


class _Flat:
    """Packs a tuple state (each tensor (B, ...)) into one (B, N) tensor, so a step costs a few big ops."""

    def __init__(self, y: Sequence[Tensor]):
        self.proto = y
        self.shapes = [v.shape[1:] for v in y]
        self.sizes = [int(v[0].numel()) if v.ndim > 1 else 1 for v in y]

    def pack(self, parts: Sequence[Tensor]) -> Tensor:
        B = parts[0].shape[0]
        return torch.cat([p.reshape(B, -1) for p in parts], dim=1)

    def unpack(self, z: Tensor) -> tuple:
        out, i = [], 0
        for shp, k in zip(self.shapes, self.sizes):
            out.append(z[:, i:i + k].reshape(z.shape[0], *shp))
            i += k
        return _rebuild(self.proto, out)

    def field(self, f: Field) -> Callable[[Tensor, Tensor], Tensor]:
        return lambda t, z: self.pack(f(t, self.unpack(z)))


def _check_y0(y0: Sequence[Tensor], cfg: SimConfig) -> tuple[tuple, int]:
    if not isinstance(y0, (tuple, list)) or not y0 or not all(isinstance(v, Tensor) for v in y0):
        raise InvalidArgument("y0 must be a non-empty tuple of tensors with the case axis first")
    B = y0[0].shape[0] if y0[0].ndim else -1
    if B < 1 or any(v.ndim < 1 or v.shape[0] != B for v in y0):
        raise InvalidArgument(f"every tensor of y0 needs the same leading case axis; got shapes {[tuple(v.shape) for v in y0]}")
    dev = cfg.torch_device
    y = _rebuild(y0, [v.to(dtype=cfg.dtype, device=dev) for v in y0])
    if not all(bool(torch.isfinite(v).all()) for v in y):
        raise InvalidArgument("y0 contains NaN or inf")
    return y, B


def integrate(field: Field, y0: Sequence[Tensor], config: SimConfig) -> Trajectory:
    """Integrate ``dy/dt = field(t, y)`` from ``t = 0`` to ``config.t_end`` for all cases at once (see module doc)."""
    if not isinstance(config, SimConfig):
        raise InvalidArgument(f"config must be a SimConfig, got {type(config).__name__}")
    y, B = _check_y0(y0, config)
    fl = _Flat(y)
    z0, f = fl.pack(y), fl.field(field)
    run = _dopri5 if config.method == "dopri5" else _fixed
    t, zs, ok, steps, nfev = run(f, z0, B, config)
    ys = _rebuild(y, [zs[:, :, i:i + k].reshape(zs.shape[0], B, *shp) for i, k, shp in
                      zip(torch.cumsum(torch.tensor([0] + fl.sizes[:-1]), 0).tolist(), fl.sizes, fl.shapes)])
    return Trajectory(t, ys, ok, steps, nfev)


def _fixed(f, z: Tensor, B: int, cfg: SimConfig):
    n = cfg.steps
    hf = cfg.t_end / n
    every = n // cfg.n_save
    saves = [z]
    t = torch.zeros(B, dtype=cfg.dtype, device=z.device)
    nfev = 0
    for i in range(n):
        if cfg.method == "euler":
            z = z + hf * f(t, z)
            nfev += 1
        else:  # classical RK4
            k1 = f(t, z)
            k2 = f(t + hf / 2, z + (hf / 2) * k1)
            k3 = f(t + hf / 2, z + (hf / 2) * k2)
            k4 = f(t + hf, z + hf * k3)
            z = z + (hf / 6) * (k1 + 2 * k2 + 2 * k3 + k4)
            nfev += 4
        t = t + hf
        if (i + 1) % every == 0:
            z = torch.where((z.abs() <= cfg.blowup).all(-1, keepdim=True), z, torch.full_like(z, float("nan")))
            saves.append(z)
    ok = torch.isfinite(z).all(-1)
    ts = torch.linspace(0, cfg.t_end, cfg.n_save + 1, dtype=cfg.dtype, device=z.device)
    return ts, torch.stack(saves), ok, torch.full((B,), n, device=z.device), nfev


# Dormand-Prince 5(4) tableau (Hairer et al. Table II.5.2); _E = b5 - b4 (error estimate weights)
_DP_C = (0.0, 1 / 5, 3 / 10, 4 / 5, 8 / 9, 1.0, 1.0)
_DP_A = ((), (1 / 5,), (3 / 40, 9 / 40), (44 / 45, -56 / 15, 32 / 9),
         (19372 / 6561, -25360 / 2187, 64448 / 6561, -212 / 729),
         (9017 / 3168, -355 / 33, 46732 / 5247, 49 / 176, -5103 / 18656),
         (35 / 384, 0.0, 500 / 1113, 125 / 192, -2187 / 6784, 11 / 84))
_DP_E = (71 / 57600, 0.0, -71 / 16695, 71 / 1920, -17253 / 339200, 22 / 525, -1 / 40)


def _rms(x: Tensor) -> Tensor:
    return x.square().mean(1).sqrt()


def _dopri5(f, y: Tensor, B: int, cfg: SimConfig):
    dev, dt_ = y.device, cfg.dtype
    t_save = torch.linspace(0, cfg.t_end, cfg.n_save + 1, dtype=dt_, device=dev)
    out = torch.empty((cfg.n_save + 1, *y.shape), dtype=dt_, device=dev)
    out[0] = y
    t = torch.zeros(B, dtype=dt_, device=dev)
    nxt = torch.ones(B, dtype=torch.long, device=dev)  # index of the next save time per case
    done = torch.zeros(B, dtype=torch.bool, device=dev)
    ok = torch.ones(B, dtype=torch.bool, device=dev)
    steps = torch.zeros(B, dtype=torch.long, device=dev)
    k1 = f(t, y)
    K = torch.empty((7, *y.shape), dtype=dt_, device=dev)
    _A = torch.zeros(7, 7, dtype=dt_, device=dev)
    for i, row in enumerate(_DP_A):
        _A[i, :len(row)] = torch.tensor(row, dtype=dt_)
    _E = torch.tensor(_DP_E, dtype=dt_, device=dev)
    # initial step (Hairer et al. §II.4 heuristic, as in scipy): h0 = 0.01 ||y|| / ||f||
    scale = cfg.atol + cfg.rtol * y.abs()
    d0, d1 = _rms(y / scale), _rms(k1 / scale)
    h = torch.where((d0 < 1e-5) | (d1 < 1e-5), torch.full_like(d0, 1e-6), 0.01 * d0 / d1)
    h = h.clamp(max=cfg.t_end / cfg.n_save)
    nfev, it = 1, 0
    hmin = cfg.min_step * cfg.t_end
    while not bool(done.all()):
        it += 1
        if it > cfg.max_steps:  # give up on the unfinished cases (they are marked ok = False)
            for i in (~done).nonzero().squeeze(1).tolist():
                out[int(nxt[i]):, i] = float("nan")
            ok &= done
            break
        target = t_save[nxt.clamp(max=cfg.n_save)]
        hs = torch.where(done, torch.zeros_like(h), torch.minimum(h, target - t))
        K[0] = k1
        hb = hs.unsqueeze(1)
        for i in range(1, 7):  # stages 2..7; stage 7 is f(y5) (FSAL)
            yi = y + hb * torch.tensordot(_A[i, :i], K[:i], dims=1)
            K[i] = f(t + _DP_C[i] * hs, yi)
        nfev += 6
        y5 = yi  # the 7th stage is evaluated at the 5th-order solution
        err = hb * torch.tensordot(_E, K, dims=1)
        en = _rms(err / (cfg.atol + cfg.rtol * torch.maximum(y.abs(), y5.abs())))
        en = torch.nan_to_num(en, nan=float("inf"))
        acc = (en <= 1.0) & ~done
        # step-size update (order 5 → exponent 1/5), safety 0.9, factor in [0.2, 10] as in scipy
        fac = torch.where(en == 0, torch.full_like(en, 10.0), (0.9 * en.pow(-0.2)).clamp(0.2, 10.0))
        fac = torch.where(acc, fac, fac.clamp(max=1.0))
        landed = acc & (hs >= target - t)
        a1 = acc.unsqueeze(1)
        y = torch.where(a1, y5, y)
        k1 = torch.where(a1, K[6], k1)
        t = torch.where(landed, target, torch.where(acc, t + hs, t))
        steps += acc.long()
        h = torch.where(done, h, torch.where(landed & (hs < h), h, hs) * fac)
        if bool(landed.any()):
            idx = landed.nonzero().squeeze(1)
            out[nxt[idx], idx] = y[idx]
            nxt = nxt + landed.long()
            done = done | (nxt > cfg.n_save)
        bad = ~done & ((h < hmin) | ~torch.isfinite(h) | (y.abs() > cfg.blowup).any(-1))
        if bool(bad.any()):  # give up on these cases: NaN the unsaved part
            for i in bad.nonzero().squeeze(1).tolist():
                out[int(nxt[i]):, i] = float("nan")
            ok &= ~bad
            done |= bad
    return t_save, out, ok, steps, nfev


def simulate(state0: Sequence[Tensor], X: Tensor, Xp: Tensor, config: SimConfig, *,
             field: Callable[..., Any] | None = None, **field_kw: Any) -> Trajectory:
    """Integrate the linear BYOL/SimSiam field (default :func:`~ssl_props.dynamics.fields.byol_field`,
    Lemma 1 of Tian et al. 2021) from ``state0`` with data model ``(X, X')``, batched over the case axis.

    ``field`` replaces the vector field (same signature as ``byol_field``): this is how tests inject a
    simulator without stop-gradient or with a wrong EMA update. ``field_kw`` go to the field (η, α_p, β, …).
    """
    from ssl_props.dynamics.fields import LinearState, byol_field

    f = byol_field if field is None else field
    if not isinstance(X, Tensor) or not isinstance(Xp, Tensor) or X.shape[-2:] != Xp.shape[-2:] or X.shape[-1] != X.shape[-2]:
        raise InvalidArgument("X and Xp must be square tensors (B, n1, n1) of the same size")
    if len(state0) != 3 or state0[0].shape[-1] != X.shape[-1]:
        raise InvalidArgument(f"state0 must be (W, Wp, Wa) with W of shape (B, n2, n1={X.shape[-1]}); got "
                              f"{[tuple(v.shape) for v in state0]}")
    Xc = X.to(dtype=config.dtype, device=config.torch_device)
    Xpc = Xp.to(dtype=config.dtype, device=config.torch_device)
    kw = {k: (v.to(dtype=config.dtype, device=config.torch_device) if isinstance(v, Tensor) else v)
          for k, v in field_kw.items()}
    return integrate(lambda t, y: f(LinearState(*y), Xc, Xpc, **kw), LinearState(*state0), config)
