"""Verdicts: each measurement of the profile next to the theorem that predicts it.

A :class:`Verdict` names the registered result (``theorem``), says whether that result's assumptions hold
for the profiled loss (``assumptions_hold``) and what was measured and predicted. Where the assumptions
hold, ``status`` is ``"pass"`` or ``"fail"`` (a failed theory check: exit code 1); where they do not, the
theorem says nothing about this loss and ``status`` is ``"measured"`` (shown, never failed).

Assumptions are declared by the reference the loss is (:data:`ssl_props.profile.graph_losses.REFERENCES`,
per graph: K ≤ N − 1, K ≥ N' − 1, γ/β against the graph's spectrum) or detected (the unnormalised L2
predictor loss of the linear dynamics: ``fn(p, z) = c·mean‖p − z‖²`` on random inputs).
"""
from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import Any, Callable

import torch

from ssl_props import tolerances as tol
from ssl_props.graphs import component_labels, laplacian, one_hot
from ssl_props.profile.dynamics import DynamicsConfig, DynamicsResult, eqn16_fixed_point, wang_threshold
from ssl_props.profile.graph_losses import Reference
from ssl_props.profile.optimum import GraphOptimum, GraphSpec
from ssl_props.spectral import centred_eigh, simclr_loss, simclr_simplex, vicreg_closed_form_loss

__all__ = ["Verdict", "graph_verdicts", "dynamics_verdicts", "is_l2_predictor_loss"]


@dataclass
class Verdict:
    """One theory verdict (a JSON object of the ``ssl-props/profile/v2`` schema)."""

    theorem: str  # registry id, e.g. "balestriero2022.claim3"
    what: str  # the property, one line
    where: str  # graph name or target mode
    assumptions_hold: bool
    assumptions: str  # which assumptions, and why they hold or not
    status: str  # "pass", "fail" or "measured"
    measured: Any
    predicted: Any
    tolerance: float | None = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def _v(theorem: str, what: str, where: str, hold: bool, why: str, ok: bool | None, measured: Any, predicted: Any,
       tolerance: float | None = None) -> Verdict:
    status = "measured" if not hold or ok is None else "pass" if ok else "fail"
    return Verdict(theorem, what, where, hold, why, status, measured, predicted, tolerance)


_NO_PARAMS = "a black-box loss implies no parameters of the reference, so nothing is predicted (see the comparison)"


def _rank_measured(opt: GraphOptimum) -> Any:
    """The rank, or why there is none (the optimiser's status: not converged, infimum not attained)."""
    status = getattr(opt, "status", "optimum")
    if status != "optimum" or opt.rank is None:
        return f"undetermined ({status})"
    if getattr(opt, "collapse_admitted", False):
        return "none: complete collapse is a minimiser"
    return opt.rank


def graph_verdicts(spec: GraphSpec, opt: GraphOptimum, ref: Reference | None, params: dict[str, float]) -> list[Verdict]:
    """The claims of Balestriero & LeCun 2022 on one graph (pass/fail when ``ref`` is the loss profiled)."""
    g, k, n = spec.g, spec.k, spec.g.shape[0]
    lam = centred_eigh(laplacian(g))[0]
    name = ref.name if ref else None
    out: list[Verdict] = []
    where = spec.name
    # claim 3: VICReg (spectral) closed form: loss value and rank #{λ_k < β/γ}
    certified = getattr(opt, "status", "optimum") == "optimum"
    kk = min(k, n - 1)
    if name == "vicreg_spectral":  # the reference's own β, γ; a black-box loss implies none
        beta, gamma = params.get("beta", 1.0), params.get("gamma", 1.0)
        pred_rank: int | None = int((lam[:kk] < beta / gamma).sum())
        f_star: float | None = float(vicreg_closed_form_loss(g, kk, beta=beta, gamma=gamma))
    else:
        pred_rank, f_star = None, None
    hold = name == "vicreg_spectral" and k <= n - 1
    why = ("the loss is vicreg_spectral (quadratic variance penalty) and K ≤ N − 1" if hold else
           f"holds for vicreg_spectral with K ≤ N − 1 only; {_NO_PARAMS}" if name != "vicreg_spectral" else f"K = {k} > N − 1 = {n - 1}")
    out.append(_v("balestriero2022.claim3", "optimal loss = Σ β(c_k − 1)² + 2γλ_k c_k, c_k = (1 − γλ_k/β)_+", where, hold, why,
                  certified and f_star is not None and abs(opt.loss - f_star) <= opt.loss_tolerance, opt.loss, f_star,
                  opt.loss_tolerance))
    out.append(_v("balestriero2022.claim3", "rank of the optimum = #{k ≤ K: λ_k < β/γ}", where, hold, why,
                  certified and opt.rank == pred_rank, _rank_measured(opt), pred_rank, opt.rank_threshold))
    # claim 7: SimCLR on the augmentation graph, K ≥ N' − 1: simplex, rank N' − 1, positives coincide
    if spec.kind == "augmentation":
        ns, nv = spec.n_samples, spec.n_views
        hold = name == "simclr_graph" and k >= ns - 1 and ns >= 2
        why = "the loss is simclr_graph and K ≥ N' − 1" if hold else (
            "holds for simclr_graph only" if name != "simclr_graph" else f"K = {k} < N' − 1 = {ns - 1}")
        tau = params.get("tau", 0.5)
        simplex = (float(simclr_loss(simclr_simplex(ns, nv, max(k, ns - 1), device=g.device), g, tau=tau))
                   if k >= ns - 1 and name == "simclr_graph" else None)  # a black-box loss implies no τ, no feeding
        if name != "simclr_graph":
            why += f"; {_NO_PARAMS}"
        out.append(_v("balestriero2022.claim7", "optimal loss = the regular simplex's", where, hold, why,
                      certified and simplex is not None and abs(opt.loss - simplex) <= opt.loss_tolerance, opt.loss, simplex,
                      opt.loss_tolerance))
        out.append(_v("balestriero2022.claim7", "rank pinned by G: rank = N' − 1, positives coincide in direction", where, hold, why,
                      certified and opt.rank == ns - 1 and bool(opt.positives_coincide),
                      {"rank": _rank_measured(opt), "positives_coincide": opt.positives_coincide},
                      {"rank": ns - 1, "positives_coincide": True}, opt.rank_threshold))
    # claim 8: Barlow Twins: zero loss iff K ≤ #components; rank ≤ #components
    comps = int(component_labels(g).max()) + 1
    hold = name == "barlow_twins_graph" and k <= comps
    why = "the loss is barlow_twins_graph and K ≤ #components" if hold else (
        "holds for barlow_twins_graph only" if name != "barlow_twins_graph" else f"K = {k} > #components = {comps}")
    out.append(_v("balestriero2022.claim8", "zero loss, rank ≤ #components of G", where, hold, why,
                  certified and abs(opt.loss) <= opt.loss_tolerance and opt.rank is not None and opt.rank <= comps,
                  {"loss": opt.loss, "rank": _rank_measured(opt)},
                  {"loss": 0.0, "rank_at_most": comps}, opt.loss_tolerance))
    if spec.labels is not None and spec.kind != "augmentation":
        y = one_hot(spec.labels).to(g)
        c, m = y.shape[1], int(y.sum(0).min())
        if spec.kind == "aligned":  # claim 9
            hold = name == "vicreg_spectral" and gamma / beta > 1 / m and k >= c - 1
            why = ("vicreg_spectral with γ/β > 1/min n_c and K ≥ C − 1" if hold else
                   "holds for vicreg_spectral with γ/β > 1/min n_c and K ≥ C − 1 only")
            out.append(_v("balestriero2022.claim9", "aligned G: a linear probe on the optimum recovers the labels", where, hold,
                          why, opt.probe_recovers if certified else False, opt.probe_residual, 0.0, opt.probe_tolerance))
        else:  # claim 10
            hy = float((y - y.mean(0)).square().sum())
            small = name == "vicreg_spectral" and gamma / beta < 1 / float(lam[-1]) and k >= n - 1
            pinned = name == "simclr_graph" or (name == "barlow_twins_graph" and k <= comps) or (name == "vicreg_spectral" and gamma / beta > 1 / float(lam[1 if n > 2 else 0]))
            hold = small or pinned
            pred = 0.0 if small else (n / 2) / hy
            why = ("VICReg with γ/β < 1/λ_max(L) and K = N − 1 keeps the labels" if small else
                   "rank pinned by G (SimCLR, BarlowTwins with K ≤ #components, or large-γ VICReg) on a matching across classes"
                   if pinned else
                   "holds for the spectral references only")
            res = opt.probe_residual
            ok = certified and res is not None and (
                abs(res - pred) <= (opt.probe_tolerance or 0.0) + tol.sum_of_products(g.dtype, n * n, 1.0) if small else
                res >= pred - 2 * math.sqrt(opt.probe_tolerance or 0.0) - tol.sum_of_products(g.dtype, n * n, 1.0))
            out.append(_v("balestriero2022.claim10", "misaligned G: probe residual (relative) at the optimum", where, hold, why,
                          ok, opt.probe_residual, pred, opt.probe_tolerance))
    # claim 11: Z → ZQ
    hold = ref is not None
    pred = (ref.rotation_invariant or k == 1) if ref else None  # K = 1: Q = ±1 only, every loss of ZZᵀ-type or not
    out.append(_v("balestriero2022.claim11", "loss invariant to Z → ZQ (Q orthogonal)", where, hold,
                  "declared by the reference (a function of ZZᵀ, or BarlowTwins as printed: not)" if hold else
                  "proved for losses that depend on Z only through ZZᵀ; a black-box loss is measured",
                  opt.rotation_invariant == pred if hold and opt.rotation_invariant is not None else None, {"invariant": opt.rotation_invariant, "change": opt.rotation_change},
                  pred, opt.rotation_tolerance))
    if ref is not None:  # a reference is checked on its own claims; the others' predictions are not about it
        out = [v for v in out if v.theorem in ref.claims or v.theorem == "balestriero2022.claim11"]
    return out


def is_l2_predictor_loss(fn: Callable, *, seed: int = 0) -> bool:
    """Whether ``fn(p, z) = ½ mean_i ‖p_i − z_i‖²``, the loss ``J`` of Tian/Wang/Terver's theorems (another
    constant rescales the gradient but not the weight decay, so Eqn 16's fixed points would not apply)."""
    gen = torch.Generator().manual_seed(seed)
    ratios = []
    for n, d in ((5, 3), (7, 4), (4, 2)):
        p, z = (torch.randn(n, d, generator=gen, dtype=torch.float64) for _ in range(2))
        p = p * (1 + 3 * len(ratios))
        ref = (p - z).square().sum(-1).mean()
        try:
            v = fn(p, z)
            ratios.append(float(v) / float(ref))
        except Exception:  # noqa: BLE001 - not even evaluable on these: not the L2 loss
            return False
    return all(abs(r - 0.5) <= tol.sum_of_products(torch.float64, 64, 1.0) for r in ratios)


def dynamics_verdicts(results: dict[str, DynamicsResult], cfg: DynamicsConfig, l2: bool, loop: tuple[float, float]) -> list[Verdict]:
    """Tian 2021 Thm 2/3 and Eqn 16, Wang 2021's threshold, Terver 2025 Lemma 4.3 and Prop. 3.2."""
    why = ("the loss is the unnormalised L2 predictor loss ½ mean‖p − z‖²" if l2 else
           "proved for the unnormalised L2 loss; this loss is measured next to the prediction")
    out: list[Verdict] = []
    if "no_stop_gradient" in results:
        r = results["no_stop_gradient"]
        ran, how = _no_sg_ran(r)
        for th in ("tian2021.thm2", "terver2025.lem4.3"):
            out.append(_v(th, "without stop-gradient, ‖W‖ → 0 (collapse)", "no_stop_gradient", l2 and ran,
                          why if ran else f"the no-stop-gradient mode could not be run for this loss: {how}",
                          r.collapsed and not _diverged(r), {"collapsed": r.collapsed, "norm_ratio_max": max(r.norm_ratio)}, True,
                          getattr(r, "norm_bound", None)))
    sg = results.get("stop_gradient")
    if sg is not None and not _diverged(sg):
        out.append(_v("tian2021.thm3", "W_p and F = W X Wᵀ align: the relative commutator decays", "stop_gradient", l2, why,
                      sg.commutator < sg.commutator_start, {"start": sg.commutator_start, "end": sg.commutator},
                      "end < start"))
        s2 = torch.tensor(cfg.sigma2, dtype=torch.float64)
        pplus = eqn16_fixed_point(s2, cfg.eta)
        amp = torch.tensor(sg.amplitudes)
        err = float((amp - pplus).abs().max())
        out.append(_v("tian2021.eq16", "each direction settles at Eqn 16's stable point p₊(σ_j²) (0 past the threshold)",
                      "stop_gradient", l2, why, err <= sg.convergence_tol, [round(float(a), 6) for a in amp.median(0).values],
                      [round(float(p), 6) for p in pplus], sg.convergence_tol))
        thr = wang_threshold(cfg.eta)
        meas = sg.measured_threshold
        ok = meas is not None and meas[0] < thr < meas[1]
        out.append(_v("wang2021.thm1", "directions with σ² < 1/(4η) − 1 survive weight decay (measured threshold interval)",
                      "stop_gradient", l2, why, ok, {"survivors": sg.survivors, "interval": meas}, thr))
        full_ran, full_how = _no_sg_ran(results["no_stop_gradient"]) if "no_stop_gradient" in results else (True, "")
        out.append(_v("terver2025.prop3.2", "the stop-gradient update field is not a gradient field (non-zero loop integral)",
                      "stop_gradient", l2 and full_ran,
                      why if full_ran else f"the loop of the full gradient needs the target's gradient: {full_how}", loop[0] > tol.SAFETY * (loop[1] + tol.sum_of_products(torch.float64, 64, 1.0)),
                      {"sg_loop": loop[0], "gradient_loop": loop[1]}, "sg_loop > SAFETY·(gradient_loop + rounding)"))
    for mode, r in results.items():
        theorem, what = _MODE_RESULT[mode]
        measured = ({"diverged": True, "at": getattr(r, "status", "diverged")} if _diverged(r) else
                    {"collapse": getattr(r, "collapse", None), "rank": getattr(r, "rank", None), "survivors": r.survivors})
        out.append(_v(theorem, what, mode, False, "a measurement in every mode (scale-free: the spectrum of W/‖W‖)",
                      None, measured, None))
    return out


#: the result each target mode's collapse measurement is about
_MODE_RESULT = {
    "stop_gradient": ("tian2021.eq16", "collapse with a stop-gradient target (Eqn 16: directions past the threshold die)"),
    "ema": ("tian2021.eq11", "collapse with an EMA target (Eqns 11-13)"),
    "no_stop_gradient": ("tian2021.thm2", "collapse without stop-gradient (Thm 2: ‖W‖ → 0 for the L2 loss)"),
}


def _diverged(r: DynamicsResult) -> bool:
    return bool(getattr(r, "diverged", False))


def _no_sg_ran(r: DynamicsResult) -> tuple[bool, str]:
    """Whether the no-stop-gradient mode differentiated through the target (``target_gradient`` says how or why not)."""
    how = str(getattr(r, "target_gradient", "") or "")
    return (not how.startswith(("none", "not", "cannot", "no "))), how
