r"""The no-stop-gradient mode through a loss that detaches its target inside.

A predictor loss is usually written with its stop-gradient inside (``-cos(p, z.detach())``). The profile's
``no_stop_gradient`` mode must differentiate through the target anyway (Tian et al. 2021, arXiv:2102.06810,
Thm 2: without stop-gradient the linear model collapses), so while the loss is evaluated in that mode
:class:`KeepTargetGraph` — a ``torch.overrides.TorchFunctionMode`` — turns ``Tensor.detach`` / ``torch.detach`` /
``Tensor.detach_`` into ``x.view_as(x)``: the same values, with the graph kept. It composes with ``torch.func.vmap``
and ``torch.func.grad`` (a Python-level mode, above the functorch transforms). Every detach inside the loss is
removed, also one on ``p`` (e.g. a detached normaliser): the mode measures the loss with no stop-gradient at all.

What it cannot remove: ``torch.no_grad()`` blocks, ``.data`` and custom ``autograd.Function`` backward passes that
return no gradient. :func:`target_gradient` probes which case a loss is in and says so in one line.
"""
from __future__ import annotations

from typing import Callable

import torch
from torch.overrides import TorchFunctionMode

__all__ = ["KeepTargetGraph", "target_gradient", "TARGET_GRAPH", "TARGET_DETACH_OVERRIDDEN"]

TARGET_GRAPH = "differentiated through the target (the loss does not detach it)"
TARGET_DETACH_OVERRIDDEN = ("differentiated through the target: the loss detaches it inside, the profile turned "
                            "detach() into an identity that keeps the graph while evaluating the loss")
_DETACHES = (torch.Tensor.detach, torch.detach, torch.Tensor.detach_)


class KeepTargetGraph(TorchFunctionMode):
    """``detach`` → ``view_as`` (same values, graph kept) for every call made while the mode is active."""

    def __torch_function__(self, func, types, args=(), kwargs=None):  # noqa: ANN001 - torch's protocol
        if func in _DETACHES:
            return args[0].view_as(args[0])  # the mode is off inside its own handler: no recursion
        return func(*args, **(kwargs or {}))


def _target_grad_norm(fn: Callable, p: torch.Tensor, z: torch.Tensor, override: bool) -> float:
    z = z.detach().requires_grad_(True)
    with torch.enable_grad():
        if override:
            with KeepTargetGraph():
                f = fn(p, z)
        else:
            f = fn(p, z)
        if not isinstance(f, torch.Tensor) or not f.requires_grad:
            return 0.0
        (gz,) = torch.autograd.grad(f.reshape(()), z, allow_unused=True)
    return 0.0 if gz is None else float(gz.abs().max())


def target_gradient(fn: Callable, p: torch.Tensor, z: torch.Tensor) -> str:
    """How the ``no_stop_gradient`` mode reaches the target of ``fn(p, z)`` on the inputs ``(p, z)``:
    :data:`TARGET_GRAPH`, :data:`TARGET_DETACH_OVERRIDDEN`, or ``"none: …"`` (one line, why it cannot be done)."""
    if _target_grad_norm(fn, p, z, False) > 0:
        return TARGET_GRAPH
    if _target_grad_norm(fn, p, z, True) > 0:
        return TARGET_DETACH_OVERRIDDEN
    return ("none: the target receives no gradient even with detach() disabled (the loss blocks it with "
            "torch.no_grad(), .data or a custom autograd.Function, or does not depend on it): the no_stop_gradient "
            "mode cannot be run for this loss and measures the stop-gradient dynamics")
