"""Rendering of a :class:`~ssl_props.profile.run.Profile`: text, markdown and the ``ssl-props/profile/v2`` JSON.

The JSON schema is documented in ``docs/profile-schema.md``; fields are only ever added within a version.
"""
from __future__ import annotations

import json
import math
from typing import Any

__all__ = ["SCHEMA", "to_dict", "render"]

SCHEMA = "ssl-props/profile/v2"


def _clean(x: Any) -> Any:
    if isinstance(x, float):
        return None if not math.isfinite(x) else x
    if isinstance(x, dict):
        return {str(k): _clean(v) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return [_clean(v) for v in x]
    return x


def to_dict(p) -> dict[str, Any]:
    counts = {s: sum(v.status == s for v in p.verdicts) for s in ("pass", "fail", "measured")}
    return _clean({
        "schema": SCHEMA, "loss": p.loss, "form": p.form, "params": p.params, "reference": p.reference,
        "device": p.device, "passed": p.passed, "counts": counts,
        "theory": {
            "graphs": [g.to_dict() for g in p.graphs],
            "dynamics": {m: r.to_dict() for m, r in p.dynamics.items()},
            "dynamics_notes": p.dynamics_notes,
            "loop_integral": None if p.loop is None else {"stop_gradient": p.loop[0], "gradient": p.loop[1]},
            "verdicts": [v.to_dict() for v in p.verdicts],
            "headline": headline_sentences(p),
            "stop_gradient_verdict": None if getattr(p, "sg", None) is None else p.sg.to_dict(),
            "shares_profile_with": p.shares,
            "differs_from": p.differs,
        },
        "seconds": p.seconds,
    })


def _fmt(x: Any) -> str:
    if isinstance(x, float):
        return f"{x:.6g}"
    if isinstance(x, dict):
        return "{" + ", ".join(f"{k}: {_fmt(v)}" for k, v in x.items()) + "}"
    if isinstance(x, (list, tuple)):
        return "[" + ", ".join(_fmt(v) for v in x) + "]"
    return str(x)


def _rank_cell(g) -> str:
    status = getattr(g, "status", "optimum")
    if status != "optimum":
        return f"undetermined ({status})"
    if getattr(g, "collapse_admitted", False):
        return "none as a property of the loss (complete collapse is a minimiser)"
    rs = getattr(g, "rank_set", None)
    seen = "" if not rs or len(rs) < 2 else " — ranks at the optimal starts: " + ", ".join(f"{r} ({c})" for r, c in sorted(rs.items()))
    return f"{g.rank}/{g.full_rank} ({g.collapse}){seen}"


def _optima_cell(g) -> str:
    at = f"{g.starts_at_optimum}/{g.starts} starts at f*"
    if getattr(g, "continuum", False):
        return f"a continuum of minimisers ({at})"
    return f"{g.distinct_optima} distinct up to relabelling, {at}"


def _graph_rows(p) -> list[list[str]]:
    rows = []
    for g in p.graphs:
        sv = ", ".join(f"{s:.3g}" for s in g.singular_values)
        cert = getattr(g, "certificate", "")
        rows.append([g.graph, f"{g.loss:.6g} ± {g.loss_spread:.2g}", _optima_cell(g),
                     _rank_cell(g), f"[{sv}]" + ("" if g.rank_threshold is None else f" > {g.rank_threshold:.2g}"),
                     str(g.positives_coincide), str(g.laplacian_subspace), str(g.probe_recovers), str(g.rotation_invariant),
                     g.batching.split(" (")[0], cert])
    return rows


def _dynamics_line(r) -> str:
    if getattr(r, "diverged", False):
        return f"diverged ({getattr(r, 'status', '')}); no collapse verdict"
    amps = [round(sum(a[j] for a in r.amplitudes) / len(r.amplitudes), 4) for j in range(len(r.amplitudes[0]))]
    scale_free = ""
    if getattr(r, "collapse", None) is not None:
        er = getattr(r, "effective_rank", None) or []
        spec = ", ".join(f"{x:.2g}" for x in (getattr(r, "spectrum", None) or []))
        scale_free = (f"collapse {r.collapse} (rank {r.rank} of {len(amps)}, effective rank "
                      f"{sum(er) / max(len(er), 1):.3g}, σ_i(W)/σ_1(W) [{spec}]), ")
    return (scale_free + f"‖W_T‖/‖W_0‖ max {max(r.norm_ratio):.3g} (‖W‖ → 0: {r.collapsed}), mean ‖W e_j‖ {amps}, "
            f"survivors {r.survivors}, threshold interval {r.measured_threshold}, commutator {r.commutator_start:.2g} → "
            f"{r.commutator:.2g}, batching {r.batching.split(' (')[0]}")


def headline_sentences(p) -> list[str]:
    """What the theory says about this loss, in sentences: collapse admitted, optima not attained or not
    certified (graphs named), and the stop-gradient verdict of the dynamics."""
    out = []
    graphs = list(p.graphs)
    admitted = [g.graph for g in graphs if getattr(g, "collapse_admitted", False)]
    if graphs and len(admitted) == len(graphs):
        out.append("the loss alone admits collapse: complete collapse is a global minimiser on every graph, so no rank is a "
                   "property of the loss; only its training dynamics can prevent collapse")
    elif admitted:
        out.append("complete collapse is a global minimiser on " + "; ".join(admitted) + " (no rank reported there)")
    for status in ("infimum not attained", "not converged", "not evaluable"):
        hit = [g.graph for g in graphs if getattr(g, "status", "optimum") == status]
        if hit:
            out.append(f"{status} on " + "; ".join(hit) + ": rank and the other verdicts are undetermined there")
    if getattr(p, "sg_verdict", None):
        out.append(p.sg_verdict)
        as_written = _as_written(p)
        if as_written:
            out.append(as_written)
    return out


def _as_written(p) -> str | None:
    """Which mode the loss is in when trained as written: whether it detaches its own target (measured by the
    no-stop-gradient run's probe, :func:`ssl_props.profile.target_gradient.target_gradient`)."""
    from ssl_props.profile.target_gradient import TARGET_DETACH_OVERRIDDEN, TARGET_GRAPH

    r = p.dynamics.get("no_stop_gradient")
    sg = getattr(p, "sg", None)
    if r is None or sg is None:
        return None
    how = getattr(r, "target_gradient", "")
    if how == TARGET_GRAPH:
        mode, said = "no_stop_gradient", "does not detach its target"
    elif how == TARGET_DETACH_OVERRIDDEN:
        mode, said = "stop_gradient", "detaches its target"
    else:
        return None
    k = sg.ranks.get(mode)
    what = ("is not counted" if k is None else "collapses completely" if k == 0 else
            "collapses to one direction" if k == 1 < sg.dim else
            f"keeps {k} of {sg.dim} directions" if k < sg.dim else f"keeps all {sg.dim} directions")
    where = "the stop-gradient mode" if mode == "stop_gradient" else "the no-stop-gradient mode unless the training loop detaches it"
    return f"as written, the loss {said}: trained as is it is in {where}, where it {what}"


_HEAD = ["graph", "loss ± spread", "optima", "rank (collapse)", "singular values > threshold",
         "positives coincide", "Laplacian subspace", "probe recovers", "Z→ZQ invariant", "batching", "certificate"]


def render(p, fmt: str = "text") -> str:
    if fmt == "json":
        return json.dumps(to_dict(p), indent=2)
    if fmt not in ("text", "markdown"):
        raise ValueError(f"format must be text, markdown or json, got {fmt!r}")
    c = to_dict(p)["counts"]
    if c["pass"] + c["fail"] == 0:
        status = f"MEASURED: {c['measured']}, no theorem applies (no theorem's assumptions hold for this loss: nothing was checked)"
    else:
        status = f"{'PASSED' if p.passed else 'FAILED'} ({c['pass']} pass, {c['fail']} fail, {c['measured']} measured)"
    head = (f"ssl-props profile: {p.loss}{'(' + ', '.join(f'{k}={v}' for k, v in p.params.items()) + ')' if p.params else ''} "
            f"[{p.form}] on {p.device}: {status}")
    loops = sorted({g.batching for g in p.graphs if g.batching != "vmap"})
    md = fmt == "markdown"
    out = [f"# {head}" if md else head]
    out += [f"{'- ' if md else '  '}{line}" for line in headline_sentences(p)]
    out.append("")
    out.append("## theory: optimum on relation graphs" if md else "theory: optimum on relation graphs (Balestriero & LeCun 2022)")
    if md:
        out += ["| " + " | ".join(_HEAD) + " |", "|" + "---|" * len(_HEAD)]
        out += ["| " + " | ".join(r) + " |" for r in _graph_rows(p)]
    else:
        for r in _graph_rows(p):
            out.append("  " + r[0])
            out.append("    " + "; ".join(f"{h}: {v}" for h, v in zip(_HEAD[1:], r[1:])))
    for b in loops:
        out.append(f"  note: the loss was batched over starts by a {b}")
    if p.dynamics:
        out += ["", "## theory: linear dynamics" if md else "theory: linear dynamics (Tian 2021, Wang 2021, Terver 2025)"]
        for m, r in p.dynamics.items():
            out.append(f"{'- ' if md else '  '}{m}: " + _dynamics_line(r))
        for n in p.dynamics_notes:
            out.append(f"{'- ' if md else '  '}note: {n}")
    out += ["", "## verdicts" if md else "verdicts"]
    if md:
        out += ["| status | theorem | where | property | measured | predicted | tolerance | assumptions |", "|---|---|---|---|---|---|---|---|"]
    silent = [v for v in p.verdicts if v.status == "measured" and v.predicted is None and not md]
    for v in p.verdicts:
        if v in silent:
            continue
        tol = "" if v.tolerance is None else f"{v.tolerance:.2g}"
        if md:
            out.append(f"| {v.status} | `{v.theorem}` | {v.where} | {v.what} | {_fmt(v.measured)} | {_fmt(v.predicted)} | {tol} | "
                       f"{'hold' if v.assumptions_hold else 'do not hold'}: {v.assumptions} |")
        else:
            out.append(f"  [{v.status.upper():8s}] {v.theorem} on {v.where}: {v.what}: measured {_fmt(v.measured)}, "
                       f"predicted {_fmt(v.predicted)}" + (f" (tol {tol})" if tol else "") +
                       ("" if v.assumptions_hold else f"  [assumptions do not hold: {v.assumptions}]"))
    if silent:
        out.append(f"  ({len(silent)} measurements without a prediction are in the tables above and in --format json: "
                   "a black-box loss implies no parameters of the references, compare it with them instead)")
    if p.shares or p.differs:
        out += ["", "## shares its profile with" if md else "shares its graph profile with"]
        out.append(("- " if md else "  ") + (", ".join(p.shares) or "none of the references"))
        for r, diffs in p.differs.items():
            out.append(f"{'- ' if md else '  '}differs from {r}: " + "; ".join(diffs[:2]) + (f" (+{len(diffs) - 2} more graphs)" if len(diffs) > 2 else ""))
    return "\n".join(out)
