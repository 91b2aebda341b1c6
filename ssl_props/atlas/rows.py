"""A loss's results (:func:`ssl_props.atlas.worker.run_entry`) as one row of verdicts.

Every field but ``seconds`` and ``cached`` is deterministic (the checker runs Hypothesis derandomised, the
profile from seed 0): they are what ``tests/test_conformance_atlas.py`` compares with ``docs/atlas.md``.

Graph verdicts (Balestriero & LeCun 2022, arXiv:2205.11508, on the profile's relation graphs): whether
complete collapse is a global minimiser (then no rank is a property of the loss), the rank of the optimum on
the augmentation graphs with K < N' − 1 and K > N' − 1 output dimensions (N' samples, V views each), whether
the optimum lies in the graph Laplacian's bottom eigenspace, and whether the loss is invariant to Z → ZQ.
"""
from __future__ import annotations

import re
from typing import Any

from ssl_props.atlas.entries import AtlasEntry

__all__ = ["build_row", "DETERMINISTIC", "graph_side", "family_of", "status_of"]

#: the row fields that must not change between two runs on the same sources
DETERMINISTIC = ("key", "name", "source", "version", "target", "check_command", "profile_command", "family", "check",
                 "behaves_like", "graphs", "stop_gradient")
_GRAPH = re.compile(r"N'=(\d+).*?K=(\d+)")


def graph_side(name: str) -> str | None:
    """``"below"`` (K < N' − 1), ``"above"`` (K > N' − 1), ``"at"`` or None (not an augmentation graph)."""
    m = _GRAPH.search(name)
    if not name.startswith("augmentation") or not m:
        return None
    n, k = int(m.group(1)), int(m.group(2))
    return "below" if k < n - 1 else "above" if k > n - 1 else "at"


def _short(name: str) -> str:
    m = _GRAPH.search(name)
    return f"N'={m.group(1)}, K={m.group(2)}" if name.startswith("augmentation") and m else name.split(" K=")[0]


def _like(doc: dict) -> list[str]:
    out = []
    for m in doc.get("behaves_like", [])[:2]:
        params = ", ".join(f"{k}={v:.4g}" if isinstance(v, float) else f"{k}={v!r}" for k, v in m["params"].items())
        f = m.get("factor", 1.0)
        out.append((f"{f:.4g} × " if abs(f - 1) > 1e-9 else "") + f"{m['name']}({params})")
    return out


def _check(entry: AtlasEntry, r: dict | None) -> dict[str, Any]:
    if not r or r.get("outcome") != "ok":
        r = r or {"outcome": "not run", "line": "not run"}
        return {"outcome": r["outcome"], "summary": f"{r['outcome']}: {r['line']}" if r["outcome"] not in (
            "timed out", "not run") else r["line"], "counts": {}, "failures": [], "declared": []}
    doc = r["doc"]
    counts = {k: v for k, v in doc["counts"].items() if v}
    failures, declared = [], []
    for res in doc["results"]:
        if res["status"] == "xfailed":
            declared.append(res["check"])
        elif res["status"] in ("failed", "xpassed"):
            why = entry.explain(res["check"])
            label, text = why if why else ("unexplained", (res["message"] or "").splitlines()[0][:200] if res["message"]
                                           else res["status"])
            failures.append({"check": res["check"], "status": res["status"], "label": label, "why": text})
    head = "PASSED" if doc["passed"] else "FAILED"
    return {"outcome": head.lower(), "summary": f"{head} ({', '.join(f'{v} {k}' for k, v in counts.items())})",
            "counts": counts, "failures": failures, "declared": declared}


def _rank(g: dict) -> str:
    if g.get("status") != "optimum":
        return f"undetermined ({g.get('status')})"
    if g.get("collapse_admitted"):
        return "collapse admitted"
    ranks = sorted(int(k) for k in (g.get("rank_set") or {str(g.get("rank")): 1}))
    shown = str(ranks[0]) if len(ranks) == 1 else "{" + ", ".join(map(str, ranks)) + "}"
    return f"rank {shown} = spectral" if ranks == [g.get("full_rank")] else f"rank {shown}, spectral {g.get('full_rank')}"


def _share(graphs: list[dict], field: str) -> str:
    known = [g for g in graphs if g.get(field) is not None]
    if not known:
        return "undetermined"
    no = [_short(g["graph"]) for g in known if not g[field]]
    text = f"{len(known) - len(no)}/{len(known)}"
    return ("yes " if not no else "no " if len(no) == len(known) else "partly ") + f"({text})" + (
        "" if not no or len(no) == len(known) else ": not on " + "; ".join(no))


def _graphs(r: dict | None) -> dict[str, Any]:
    if not r or r.get("outcome") != "ok":
        r = r or {"outcome": "not run", "line": "not run"}
        line = r["line"] if r["outcome"] in ("not run", "timed out") else (
            f"stopped: {r['line']}" if r["outcome"] == "usage error" else f"{r['outcome']}: {r['line']}")
        return {"outcome": r["outcome"], "line": "profile " + line if not line.startswith("profile") else line}
    graphs = r["doc"]["graphs"]
    admitted = [_short(g["graph"]) for g in graphs if g.get("collapse_admitted")]
    determined = [g for g in graphs if g.get("status") == "optimum"]
    collapse = ("undetermined (no certified optimum)" if not determined else
                f"yes, every graph ({len(admitted)}/{len(graphs)})" if len(admitted) == len(graphs) else
                f"on {len(admitted)}/{len(graphs)}: " + "; ".join(admitted) if admitted else f"no (0/{len(graphs)})")
    sides = {}
    for side in ("below", "above"):
        on = [g for g in graphs if graph_side(g["graph"]) == side]
        ranks = [_rank(g) for g in on]
        sides[side] = ([f"{ranks[0]} on every graph"] if len(on) > 1 and len(set(ranks)) == 1 and not
                       ranks[0].startswith("rank") else [f"{r} ({_short(g['graph'])})" for r, g in zip(ranks, on)])
    return {"outcome": "ok", "form": r["doc"].get("form"), "collapse_admitted": collapse,
            "rank_below": "; ".join(sides["below"]) or "—", "rank_above": "; ".join(sides["above"]) or "—",
            "laplacian_subspace": _share(graphs, "laplacian_subspace"),
            "rotation_invariant": _share(graphs, "rotation_invariant"),
            "headline": r["doc"].get("headline", [])}


def _stop_gradient(r: dict | None) -> dict[str, Any]:
    if not r or r.get("outcome") != "ok":
        return {"category": "not run", "cell": "—", "verdict": None}
    sg = r["doc"].get("stop_gradient_verdict")
    if not sg:
        why = "; ".join(r["doc"].get("dynamics_notes") or []) or "no dynamics (a one-argument loss or a graph form)"
        return {"category": "not measured", "cell": "—", "verdict": None, "why": why}
    ranks, dim = sg.get("ranks") or {}, sg.get("dim")
    names = {"no_stop_gradient": "no-SG", "stop_gradient": "SG", "ema": "EMA"}
    uncounted = [names.get(m, m) for m, k in ranks.items() if k is None]
    if uncounted:  # the profile counted no rank in some mode (not converged, no gradient to the target)
        known = ", ".join(f"{names.get(m, m)} rank {k}" for m, k in ranks.items() if k is not None)
        cell = f"undetermined: {', '.join(uncounted)} not counted" + (f"; {known} of {dim}" if known else "")
        return {"category": "undetermined", "cell": cell, "verdict": sg.get("sentence"), "ranks": ranks, "dim": dim}
    if not sg.get("differs"):
        rank = next(iter(ranks.values()), None)
        cell = f"no difference (rank {rank} of {dim} in every mode)"
        cat = "no difference"
    else:
        sg_matters = ranks.get("no_stop_gradient") != ranks.get("stop_gradient")
        cat = "stop-gradient matters" if sg_matters else "EMA differs"
        cell = f"{cat}: " + ", ".join(f"{names.get(m, m)} rank {k}" for m, k in ranks.items()) + f" of {dim}"
    return {"category": cat, "cell": cell, "verdict": sg.get("sentence"), "ranks": ranks, "dim": dim}


def family_of(entry: AtlasEntry, behaves_like: list[dict]) -> str:
    """The registered loss's family (Garrido et al. 2023, arXiv:2206.02574), or that of what it behaves like."""
    from ssl_props.losses import LOSSES

    name = entry.registered or next((m["name"] for m in behaves_like if m["name"] in LOSSES), None)
    return LOSSES[name].family if name in LOSSES else "unidentified"


def _rank_status(g: dict, side: str) -> str:
    """``good:spectral`` when every optimal rank on the side's graphs is min(K, N' − 1), else lower / higher."""
    pairs = [(int(r), d["full_rank"]) for d in g.get("_details", []) if graph_side(d["graph"]) == side
             for r in (d.get("rank_set") or {str(d.get("rank")): 1})]
    if any(r < f for r, f in pairs):
        return "partial:lower"
    return "good:spectral" if all(r == f for r, f in pairs) else "partial:higher"


def status_of(row: dict) -> dict[str, str]:
    """Per property a category of the heat map: ``good``, ``partial``, ``bad``, ``design``, ``none`` (not
    determined / not applicable) and a short label."""
    c, g, sg = row["check"], {**row["graphs"], "_details": row.get("graph_details", [])}, row["stop_gradient"]
    out: dict[str, str] = {}
    if c["outcome"] == "passed":
        out["check"] = "good:pass" if not c["declared"] else "design:pass*"
    elif c["outcome"] == "failed":
        labels = {f["label"] for f in c["failures"]}
        out["check"] = "bad:defect" if "defect" in labels else "bad:unexpl." if "unexplained" in labels else "design:design"
    else:
        out["check"] = "none:" + ("timeout" if c["outcome"] == "timed out" else "error")
    out["identified"] = "good:yes" if row["behaves_like"] else "none:no"
    if g["outcome"] != "ok":
        for k in ("collapse", "below", "above", "laplacian", "rotation"):
            out[k] = "none:" + {"timed out": "timeout", "not run": "n/a", "usage error": "stopped"}.get(g["outcome"], "error")
    else:
        col = g["collapse_admitted"]
        out["collapse"] = ("none:?" if col.startswith("undetermined") else "good:no" if col.startswith("no")
                           else "bad:yes" if col.startswith("yes") else "partial:" + col.split(":")[0].removeprefix("on "))
        for k, f in (("below", "rank_below"), ("above", "rank_above")):
            cells = g[f].split("; ") if g[f] != "—" else []
            if not cells:
                out[k] = "none:—"
            elif all(x.startswith("collapse admitted") for x in cells):
                out[k] = "bad:collapse"
            elif any(x.startswith("undetermined") for x in cells):
                out[k] = "none:?"
            else:
                out[k] = _rank_status(g, k)
        for k, f in (("laplacian", "laplacian_subspace"), ("rotation", "rotation_invariant")):
            v = g[f]
            out[k] = ("good:yes" if v.startswith("yes") else "partial:no" if v.startswith("no") else
                      "partial:" + v.split("(")[1].split(")")[0] if v.startswith("partly") else "none:?")
    out["stop-gradient"] = {"no difference": "good:same", "stop-gradient matters": "partial:matters",
                            "EMA differs": "partial:EMA differs", "undetermined": "none:?"}.get(
        sg["category"], "none:—")
    return out


def build_row(entry: AtlasEntry, result: dict, version: str | None) -> dict[str, Any]:
    """The atlas row of ``entry`` from its worker ``result``."""
    check_doc = (result.get("check") or {}).get("doc") or {}
    row = {"key": entry.key, "name": entry.name, "source": entry.source, "version": version or "not installed",
           "target": entry.target, "check_command": entry.check_command(),
           "profile_command": result.get("profile_command"), "family": family_of(entry, check_doc.get("behaves_like", [])),
           "check": _check(entry, result.get("check")), "behaves_like": _like(check_doc),
           "graphs": _graphs(result.get("profile")), "stop_gradient": _stop_gradient(result.get("profile")),
           "note": entry.note, "seconds": result.get("seconds", {}), "cached": bool(result.get("cached"))}
    prof = result.get("profile") or {}
    row["graph_details"] = prof["doc"]["graphs"] if prof.get("outcome") == "ok" else []
    row["status"] = status_of(row)
    return row
