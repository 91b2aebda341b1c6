"""A loss's signature read as a loss: which parameters are tensor slots for the views, which are constants.

Parameters with a number, a bool or a string as default or annotation, or a hyperparameter's name
(``eps``, ``temperature``, ``epoch``, ``num_slices``, ``*_weight``, …), are constants and never get a
view; parameters defaulting to ``None`` are optional (not fed); the remaining required parameters are
the tensor slots, in order. A Module is read through its ``forward``.
"""
from __future__ import annotations

import inspect
import typing
from dataclasses import dataclass, field
from typing import Any, Callable

import torch

__all__ = ["Slots", "read_slots", "CONSTANT_NAMES"]

#: parameter names that hold hyperparameters, never a view (with no default they need --arg NAME=VALUE)
CONSTANT_NAMES = {"eps", "epsilon", "temperature", "tau", "temp", "epoch", "epochs", "step", "steps", "iterations",
                  "iters", "momentum", "margin", "alpha", "beta", "gamma", "lamb", "lambd", "lmbda", "mu", "nu",
                  "sigma", "rho", "knots", "t_max", "simplified", "normalize", "reduction", "world_size", "rank"}
_CONSTANT_PREFIX = ("num_", "n_")
_CONSTANT_SUFFIX = ("_temp", "_temperature", "_weight", "_eps", "_param", "_momentum", "_iterations")


@dataclass
class Slots:
    """The signature read as a loss: required tensor arguments, required constants, what it accepts."""

    tensors: list[str] = field(default_factory=list)  # required, not constants, in order
    positional: list[str] = field(default_factory=list)  # every positional parameter name, in order
    constants: list[str] = field(default_factory=list)  # required constants (no default)
    var_positional: bool = False
    var_keyword: bool = False
    names: set[str] = field(default_factory=set)
    known: bool = True


def _is_constant(p: inspect.Parameter, hints: dict[str, Any]) -> bool:
    if p.default is not p.empty:
        return p.default is not None and isinstance(p.default, (int, float, bool, str))
    ann = hints.get(p.name, p.annotation)
    text = ann if isinstance(ann, str) else repr(ann)
    if ann is not p.empty and "Tensor" in text:  # annotated as a tensor: a slot, whatever its name
        return False
    if ann is not p.empty and any(t in text for t in ("int", "float", "bool", "str")):
        return True
    name = p.name.lower()
    return name in CONSTANT_NAMES or name.startswith(_CONSTANT_PREFIX) or name.endswith(_CONSTANT_SUFFIX)


def read_slots(fn: Callable) -> Slots:
    """:class:`Slots` of ``fn`` (a Module: of its ``forward``)."""
    target = fn.forward if isinstance(fn, torch.nn.Module) else fn
    try:
        ps = list(inspect.signature(target).parameters.values())
    except (TypeError, ValueError):
        return Slots(known=False, var_positional=True)
    try:
        hints = typing.get_type_hints(target)
    except Exception:  # noqa: BLE001 - unresolvable annotations: read them as written
        hints = {}
    s = Slots(names={p.name for p in ps})
    for p in ps:
        if p.kind is p.VAR_POSITIONAL:
            s.var_positional = True
        elif p.kind is p.VAR_KEYWORD:
            s.var_keyword = True
        else:
            if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD):
                s.positional.append(p.name)
            if _is_constant(p, hints):
                if p.default is p.empty:
                    s.constants.append(p.name)
            elif p.default is p.empty:
                s.tensors.append(p.name)
    return s
