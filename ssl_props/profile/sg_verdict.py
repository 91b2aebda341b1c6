r"""The stop-gradient verdict: what the target mode does to the collapse of the linear model, in one sentence.

Tian, Chen & Ganguli 2021 (arXiv:2102.06810) and Terver et al. 2025: without a stop-gradient (or an EMA target)
a non-contrastive predictor loss collapses; with it, directions survive. The profile trains the same seeds in
each target mode (:mod:`~ssl_props.profile.dynamics`) and this module contrasts the scale-free ranks
(:mod:`~ssl_props.profile.collapse_measures`): "without stop-gradient this loss collapses to rank r; with
stop-gradient it keeps k directions; with EMA k'", or that the modes do not differ. A mode that diverged, was
not run, could not reach the target's gradient, or whose spectrum did not settle is said so, never counted.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from statistics import median
from typing import Any

__all__ = ["StopGradientVerdict", "stop_gradient_verdict"]

_LABEL = {"no_stop_gradient": "without stop-gradient", "stop_gradient": "with stop-gradient", "ema": "with an EMA target"}


@dataclass(frozen=True)
class StopGradientVerdict:
    """``sentence`` (the headline), the rank and effective rank of each mode measured, and whether they differ."""

    sentence: str
    ranks: dict[str, int | None]  # None: diverged / not usable
    effective_ranks: dict[str, float | None]  # median over seeds
    differs: bool | None  # None when the no-stop-gradient mode or both target modes are missing or unusable
    dim: int
    notes: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {"sentence": self.sentence, "ranks": self.ranks, "effective_ranks": self.effective_ranks,
                "differs": self.differs, "dim": self.dim, "notes": self.notes}


def _usable(r) -> str | None:
    """Why a mode's result cannot be counted (None when it can)."""
    if r.diverged:
        return r.status
    if r.target_gradient.startswith("none"):
        return "the target got no gradient: " + r.target_gradient.split(": ", 1)[1].split(":")[0]
    if not r.spectrum_converged:
        return r.status if r.status.startswith("not converged") else "not converged: " + (r.status or "the spectrum did not settle")
    return None


def _phrase(mode: str, rank: int, d: int, erank: float) -> str:
    label = _LABEL[mode]
    if rank == 0:
        return f"{label} it collapses completely (‖W‖ → 0)"
    if rank < d:
        return f"{label} it collapses to rank {rank} of {d} (effective rank {erank:.2f})"
    return f"{label} it keeps all {d} directions (effective rank {erank:.2f})"


def stop_gradient_verdict(results: dict) -> StopGradientVerdict:
    """The headline from the per-mode :class:`~ssl_props.profile.dynamics.DynamicsResult` (keys: target modes)."""
    d = next((len(r.spectrum) for r in results.values() if r.spectrum), 0)
    ranks: dict[str, int | None] = {}
    eranks: dict[str, float | None] = {}
    notes: list[str] = []
    for mode in ("no_stop_gradient", "stop_gradient", "ema"):
        r = results.get(mode)
        if r is None:
            continue
        why = _usable(r)
        ranks[mode] = None if why else r.rank
        eranks[mode] = float(median(r.effective_rank)) if r.effective_rank and not r.diverged else None
        if why:
            notes.append(f"{_LABEL[mode]}: not counted, {why}")  # one clause per mode
    base = ranks.get("no_stop_gradient")
    others = {m: k for m, k in ranks.items() if m != "no_stop_gradient" and k is not None}
    if "no_stop_gradient" not in results:
        return StopGradientVerdict("the no-stop-gradient mode was not run: no stop-gradient verdict", ranks, eranks, None, d, notes)
    if base is None or not others:
        missing = "without stop-gradient" if base is None else "with stop-gradient or EMA"
        parts = [_phrase(m, k, d, eranks[m] or 0.0) for m, k in ranks.items() if k is not None]
        sentence = (f"no stop-gradient verdict: the run {missing} cannot be counted"
                    + (" (" + "; ".join(notes) + ")" if notes else "") + ("; " + "; ".join(parts) if parts else ""))
        return StopGradientVerdict(sentence, ranks, eranks, None, d, notes)
    differs = any(k != base for k in others.values())
    if not differs:
        kept = "collapses completely (‖W‖ → 0)" if base == 0 else (
            f"collapses to rank {base} of {d}" if base < d else f"keeps all {d} directions")
        er = ", ".join(f"{m.replace('_', '-')} {eranks[m]:.2f}" for m in ranks if ranks[m] is not None)
        sentence = (f"the target mode makes no difference: in every mode this loss {kept} (effective ranks {er}); "
                    "the stop-gradient does not change its collapse")
    else:
        head = "without stop-gradient this loss " + _phrase("no_stop_gradient", base, d, eranks["no_stop_gradient"] or 0.0).split(" it ", 1)[1]
        tail = []
        for m, k in others.items():
            what = ("also collapses completely (‖W‖ → 0)" if k == 0 else
                    (f"keeps {k} of {d} directions" if k < d else f"keeps all {d} directions") + f" (effective rank {eranks[m]:.2f})")
            tail.append(f"{_LABEL[m]} it {what}")
        sentence = head + "; " + "; ".join(tail)
    if notes:
        sentence += " (" + "; ".join(notes) + ")"
    return StopGradientVerdict(sentence, ranks, eranks, differs, d, notes)
