"""Checks about how the loss runs: the pre-flight diagnosis and mixed precision (autocast).

Mixed precision is where real SSL bugs live: ``exp(sim/τ)`` overflows float16 (max 65504) as soon as
``sim/τ > 11``, and an eps below float16's resolution (``eps16 ≈ 9.8e-4`` relative, smallest normal
``6.1e-5``) vanishes. float16 autocast is the usual GPU setting. CPU autocast has other op lists than
CUDA's: on the CPU ``exp``, ``pow``, ``softmax`` … stay in float16, where CUDA runs them in float32, so a
NaN seen on the CPU need not happen in GPU training. On the CPU the check therefore emulates CUDA's
policy (:class:`CudaAutocastPolicy`: the ops of CUDA's "autocast to float32" list get float32 inputs);
on CUDA it runs the real thing.
"""
from __future__ import annotations

from dataclasses import replace
from typing import Any

import torch
from torch.overrides import TorchFunctionMode
from torch.utils._pytree import tree_map

from ssl_props.properties import PropertyViolation
from ssl_props.tolerances import EPS, value_tolerance
from ssl_props.checker._target import (CheckFailed, LossTarget, SkipCheck, cases, evaluate, loss_scale, run_property,
                                       value_and_grads, value_tol)
from ssl_props.checker.checks import _fixed, _n_range, source

AUTOCAST_DTYPE = torch.float16


@source("pre-flight: one call per shape and dtype before the battery (ssl_props.checker.calling)")
def check_preflight(target: LossTarget) -> str:
    if target.diagnosis:
        raise CheckFailed(target.diagnosis)
    return "the loss runs" + (f" ({'; '.join(target.notes)})" if target.notes else "")


#: CUDA autocast's "ops that can autocast to float32" (PyTorch AMP docs, CUDA op-specific behaviour), by the
#: name of the Python-level function or Tensor method that reaches them (``norm`` covers ``F.normalize``)
CUDA_FLOAT32_OPS = frozenset((
    "__pow__", "__rdiv__", "__rpow__", "__rtruediv__", "acos", "asin", "binary_cross_entropy_with_logits", "cosh",
    "cosine_embedding_loss", "cdist", "cosine_similarity", "cross_entropy", "cumprod", "cumsum", "dist", "erfinv",
    "exp", "expm1", "group_norm", "hinge_embedding_loss", "kl_div", "l1_loss", "layer_norm", "log", "log_softmax",
    "log10", "log1p", "log2", "margin_ranking_loss", "mse_loss", "multilabel_margin_loss", "multi_margin_loss",
    "nll_loss", "norm", "normalize", "pdist", "poisson_nll_loss", "pow", "prod", "reciprocal", "rsqrt", "sinh",
    "smooth_l1_loss", "soft_margin_loss", "softmax", "softmin", "softplus", "sum", "renorm", "tan",
    "triplet_margin_loss", "vector_norm", "matrix_norm", "logsumexp"))


class CudaAutocastPolicy(TorchFunctionMode):
    """Inside CPU autocast: the ops CUDA autocasts to float32 get their float16 tensor inputs cast to float32
    (CPU autocast would leave them in float16); everything else runs as CPU autocast says."""

    def __torch_function__(self, func: Any, types: Any, args: tuple = (), kwargs: dict | None = None) -> Any:
        kwargs = kwargs or {}
        if getattr(func, "__name__", "") in CUDA_FLOAT32_OPS:
            up = lambda t: t.float() if isinstance(t, torch.Tensor) and t.dtype == torch.float16 else t  # noqa: E731
            args, kwargs = tree_map(up, (args, kwargs))
            with torch.autocast("cpu", enabled=False):
                return func(*args, **kwargs)
        return func(*args, **kwargs)


def _autocast_call(target: LossTarget, a: torch.Tensor, b: torch.Tensor) -> tuple[torch.Tensor, list]:
    base = replace(target, dtype=torch.float32)
    a32 = a.detach().float().requires_grad_(True)
    b32 = b.detach().float().requires_grad_(True)
    cuda_policy = CudaAutocastPolicy() if target.device.type == "cpu" else None
    with torch.autocast(target.device.type, dtype=AUTOCAST_DTYPE):
        if cuda_policy is None:
            out = evaluate(base.raw, a32, b32, what="the loss under torch.autocast(float16)")
        else:
            with cuda_policy:
                out = evaluate(base.raw, a32, b32, what="the loss under torch.autocast(float16)")
    grads = list(torch.autograd.grad(out, (a32, b32), allow_unused=True)) if out.requires_grad else []
    return out, grads


@source("mixed precision: torch.autocast(float16) on float32 inputs, as SSL trains on GPUs (fp16 overflow, eps "
        "below fp16 resolution)")
def check_mixed_precision(target: LossTarget) -> str:
    ref_target = target if target.float64_ok else replace(target, dtype=torch.float32)
    ratio = torch.finfo(AUTOCAST_DTYPE).eps / EPS[torch.float64]  # float16 rounds this much coarser

    def prop(case) -> None:
        a, b = case.build(target.device)
        try:
            out, grads = _autocast_call(target, a, b)
        except PropertyViolation as e:
            if "not implemented for 'Half'" in str(e) and target.device.type == "cpu":
                raise SkipCheck(f"this CPU build has no float16 kernel for an op the loss uses ({e}); run on CUDA")
            raise
        if not bool(torch.isfinite(out)):
            raise PropertyViolation(
                f"the loss is {float(out.detach())} under torch.autocast(float16) on finite float32 inputs of shape "
                f"{tuple(a.shape)}" + (" (CUDA's autocast op policy emulated on the CPU: exp, log, pow, softmax, norms and "
                                       "sums in float32, matmuls in float16)" if target.device.type == "cpu" else "")
                + f": an overflow (exp(sim/τ) exceeds float16's 65504 once sim/τ > 11: use "
                f"logsumexp / F.cross_entropy) or an eps below float16's resolution (an eps < 6e-5 rounds to 0)")
        for name, g in zip(target.signature, grads):
            if g is not None and not bool(torch.isfinite(g).all()):
                raise PropertyViolation(f"non-finite entries in ∂L/∂{name} under torch.autocast(float16): the backward "
                                        f"overflows or divides by an eps that float16 rounds to 0")
        ref, ga, gb = value_and_grads(ref_target, a, b)
        # float64 value bound with float16's eps (every autocast matmul rounds to it), ref's own rounding added
        bound = value_tolerance(ref, a, b, ga, gb, loss_scale(ref_target, a, b))
        tol = bound * ratio + value_tol(ref_target, ref, a, b, ga, gb, loss_scale(ref_target, a, b))
        out = out.detach()
        if not abs(float(out) - float(ref)) <= tol:
            raise PropertyViolation(f"under torch.autocast(float16) the loss is {float(out):.6g} but {float(ref):.6g} in "
                                    f"{str(ref_target.dtype).replace('torch.', '')} (|difference| "
                                    f"{abs(float(out) - float(ref)):.3g} > tolerance {tol:.3g}): a term loses its "
                                    f"precision in float16 (a difference of large terms, exp before normalising?)")

    run_property(prop, cases(n=_n_range(target), kinds=("gaussian",), scales=(1.0,)),
                 max_examples=max(3, target.max_examples // 5), seed=target.seed, fixed=_fixed())
    how = " (CUDA's op policy emulated on the CPU)" if target.device.type == "cpu" else ""
    return f"finite value and gradients under torch.autocast(float16){how}, value within float16 rounding of float64's"
