"""State a loss keeps across training steps (a centre, a queue, a memory bank): it must be updated.

DINO (Caron et al. 2021, arXiv:2104.14294, Eq. (4)) subtracts a centre ``c ← m c + (1 − m) mean(teacher)``
updated every step; MoCo (He et al. 2020, arXiv:1911.05722) and SwAV's queue (Caron et al. 2020,
arXiv:2006.09882) enqueue every batch. A state tensor that never changes silently turns these into
other losses (no centring: DINO collapses to one dimension). The check calls a copy of the loss on
three different batches and compares its tensors before and after.
"""
from __future__ import annotations

import re
from typing import Any

import torch

from ssl_props.checker._target import Case, CheckFailed, LossTarget
from ssl_props.checker.checks import source
from ssl_props.checker.convention import _copy, _tensors_of, changed_state

#: tensor names that hold a state a training step updates (matched anywhere in the attribute's name)
STATE_WORDS = re.compile(r"cent(er|re)|queue|memory|bank|running")


def state_names(target: LossTarget) -> list[str]:
    """Declared state names plus tensors of the loss object whose names say they are updated state."""
    found = [k for k, v in _tensors_of(target.fn).items()  # a size-0 bank or a pointer is not a state to update
             if STATE_WORDS.search(k.split(".")[-1].lower()) and v is not None and v.numel() >= 2]
    return list(dict.fromkeys([*target.declared_state, *found]))


def _matches(declared: str, names: list[str]) -> list[str]:
    return [k for k in names if k == declared or k.endswith("." + declared)]


@source("training state: a centre (DINO, arXiv:2104.14294 Eq. 4), a queue or memory bank (MoCo, SwAV) changes "
        "every step")
def check_state_updates(target: LossTarget) -> str:
    obj: Any = _copy(target.fn)
    before = _tensors_of(obj)
    for seed in range(3):
        a, b = Case(6, 5, seed=seed, view="same_kind").build(target.device)
        with torch.no_grad():
            target.convention.call(obj, a.to(target.dtype), b.to(target.dtype))
    changed = changed_state(before, _tensors_of(obj))
    wanted = state_names(target)
    stuck = [w for w in wanted if not any(c in changed for c in _matches(w, list(before) + changed))]
    if stuck:
        raise CheckFailed(f"{', '.join(stuck)} did not change over 3 calls on different batches: a centre or queue that "
                          f"is never updated (the update missing, applied to a copy, or with momentum 1); the loss "
                          f"then differs from its paper's after the first step")
    return f"{', '.join(wanted)} change across calls" if wanted else "no state"
