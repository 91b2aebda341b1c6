"""``check_loss(..., theory=True)`` / ``ssl-props check --theory``: the profile's verdicts as check results.

Each verdict becomes one ``CheckResult``-shaped dict (``check`` = ``theory:<theorem>@<where>``): status
``passed`` / ``failed`` where the theorem's assumptions hold for the loss, ``skipped`` for a measurement
(assumptions do not hold), its message the measurement next to the prediction. Defaults are kept small
(three graphs, the stop-gradient and no-stop-gradient modes) so the check report stays quick.
"""
from __future__ import annotations

import time
from typing import Any, Callable

__all__ = ["theory_results"]

_STATUS = {"pass": "passed", "fail": "failed", "measured": "skipped"}


def theory_results(fn: Callable[..., Any], *, predictor: bool = False, device: Any = None) -> list[dict[str, Any]]:
    """Profile ``fn`` (a pair loss, or ``fn(p, z)`` when ``predictor``) and return its verdicts as check-result dicts."""
    from ssl_props.profile.graph_losses import ProfileFailure
    from ssl_props.profile.report import _fmt
    from ssl_props.profile.run import profile_loss

    t0 = time.perf_counter()
    try:
        prof = profile_loss(fn, form="predictor" if predictor else "pair", sizes="small", starts=8,
                            modes=("stop_gradient", "no_stop_gradient"), compare=False, device=device, progress=False)
    except ProfileFailure as e:  # the loss could not be profiled: one failed check saying where
        return [{"check": "theory:profile", "status": "failed", "message": str(e), "counterexample": None,
                 "source": "ssl_props.profile", "duration_s": time.perf_counter() - t0}]
    dt = (time.perf_counter() - t0) / max(len(prof.verdicts), 1)
    out = []
    for v in prof.verdicts:
        msg = f"{v.what}: measured {_fmt(v.measured)}, predicted {_fmt(v.predicted)}"
        if not v.assumptions_hold:
            msg = f"measurement (the theorem's assumptions do not hold: {v.assumptions}): {msg}"
        out.append({"check": f"theory:{v.theorem}@{v.where}", "status": _STATUS[v.status], "message": msg,
                    "counterexample": None, "source": v.theorem, "duration_s": dt})
    return out
