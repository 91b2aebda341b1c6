"""``docs/atlas.md`` and ``docs/atlas.json`` (schema ``ssl-props/atlas/v1``, documented in docs/atlas-schema.md).

:func:`row_cells` is the single source of a row's markdown cells: the page is written with it and
``tests/test_conformance_atlas.py`` compares regenerated rows with the page through it (every cell but the
last, the time).
"""
from __future__ import annotations

import json
from typing import Any

from ssl_props.atlas import SCHEMA

__all__ = ["HEADER", "SOURCES", "row_cells", "render_markdown", "render_json", "parse_markdown_rows"]

HEADER = ("loss", "version", "command", "check", "behaves like", "collapse admitted", "rank, K < N'−1",
          "rank, K > N'−1", "Laplacian subspace", "Z → ZQ invariant", "stop-gradient", "time")
SOURCES = (("ssl-props", "Registered in ssl-props (`ssl_props.losses.LOSSES`)"), ("lightly", "lightly"),
           ("solo-learn", "solo-learn"))


def _esc(text: str) -> str:
    return str(text).replace("|", "∣").replace("\n", " ")


def _check_cell(c: dict) -> str:
    lines = [c["summary"]]
    lines += [f"`{f['check']}`: **{f['label']}**: {f['why']}" for f in c["failures"]]
    if c["declared"]:
        lines.append("declared design choices: " + ", ".join(f"`{d}`" for d in c["declared"]))
    return "<br>".join(_esc(x) for x in lines)


def _seconds(row: dict) -> str:
    s = row.get("seconds") or {}
    total = s.get("total")
    return "—" if total is None else f"{total:.0f} s" + (" (cached)" if row.get("cached") else "")


def row_cells(row: dict) -> list[str]:
    """The markdown cells of one row, in :data:`HEADER` order (escaped: no ``|`` or newline inside a cell)."""
    g, sg = row["graphs"], row["stop_gradient"]
    command = f"`{row['check_command']}`" + (f"<br>`{row['profile_command']}`" if row.get("profile_command") else "")
    if g["outcome"] == "ok":
        graph_cells = [g["collapse_admitted"], g["rank_below"], g["rank_above"], g["laplacian_subspace"],
                       g["rotation_invariant"]]
    else:
        graph_cells = [g["line"], "—", "—", "—", "—"]
    plain = [f"{row['source']} {row['version']}", _esc(command), _check_cell(row["check"]),
             "; ".join(row["behaves_like"]) or "—", *graph_cells, sg["cell"], _seconds(row)]
    return [_esc(f"`{row['name']}`"), plain[0], plain[1], plain[2], *(_esc(c) for c in plain[3:])]


def _table_line(cells: list[str]) -> str:
    return "| " + " | ".join(cells) + " |"


def parse_markdown_rows(text: str) -> dict[str, list[str]]:
    """``{key: cells}`` of every row of a page written by :func:`render_markdown` (the key is in a comment
    in the row's first cell's anchor: ``<a id="KEY"></a>``)."""
    out = {}
    for line in text.splitlines():
        if line.startswith("| <a id=\""):
            key = line.split('<a id="', 1)[1].split('"', 1)[0]
            cells = [c.strip() for c in line.strip().strip("|").split(" | ")]
            cells[0] = cells[0].split("</a>", 1)[1].strip()
            out[key] = cells
    return out


_PROFILE_OUTCOME = {"ok": "ran", "usage error": "stopped (the profile's one line is in the row)",
                    "not run": "not run (a flag of the check has no profile counterpart)"}


def _summary(rows: list[dict]) -> list[str]:
    n = len(rows)
    by_source = {s: sum(r["source"] == s for r in rows) for s, _ in SOURCES}
    outcomes: dict[str, int] = {}
    for r in rows:
        c = r["check"]
        kind = c["outcome"] if c["outcome"] != "failed" else "failed (" + (
            "defect" if any(f["label"] == "defect" for f in c["failures"]) else
            "unexplained" if any(f["label"] == "unexplained" for f in c["failures"]) else "design") + ")"
        outcomes[kind] = outcomes.get(kind, 0) + 1
    prof: dict[str, int] = {}
    for r in rows:
        prof[r["graphs"]["outcome"]] = prof.get(r["graphs"]["outcome"], 0) + 1
    admitted = sum(r["graphs"].get("collapse_admitted", "").startswith("yes") for r in rows)
    sg = sum(r["stop_gradient"]["category"] == "stop-gradient matters" for r in rows)
    return [f"**{n} losses**: " + ", ".join(f"{v} {s}" for s, v in by_source.items() if v) + ".",
            "Check: " + ", ".join(f"{v} {k}" for k, v in sorted(outcomes.items())) + ". "
            "Profile: " + ", ".join(f"{v} {_PROFILE_OUTCOME.get(k, k)}" for k, v in sorted(prof.items())) + ". "
            f"Complete collapse is a global minimiser on every graph for {admitted} losses; the stop-gradient "
            f"(no-SG against SG) changes the rank the linear dynamics reach for {sg}."]


def _reproduce(rows: list[dict]) -> list[str]:
    """The commands of the page, in the convention of docs/contributing.md (run by tests/test_doc_commands.py)."""
    counts = {"total": len(rows), **{s: sum(r["source"] == s for r in rows) for s, _ in SOURCES}}
    return ["## Reproduce", "",
            "`make atlas` (the conformance environment, `--jobs 2`) regenerates the page; a loss's row alone, printed:",
            "", "```bash", "$ make atlas  # long", "$ ssl-props atlas --only ssl-props:simclr  # long: ~1 min per loss",
            "```", "", "The rows are in `docs/atlas.json`; `--only` takes a substring or a glob of the keys:", "",
            "```console",
            "$ python -c \"import json; d = json.load(open('docs/atlas.json')); print(d['schema'], d['count'])\"",
            f"ssl-props/atlas/v1 {counts}",
            "$ ssl-props atlas --only no-such-loss  # exit 2",
            "ssl-props: error: no loss matches --only 'no-such-loss'; keys look like ...", "```", ""]


def _coverage(uncovered: dict[str, list[str] | None] | None) -> list[str]:
    if not uncovered:
        return []
    where = {"lightly": "`lightly.loss`'s exports", "solo-learn": "solo-learn's `solo/losses/*.py`"}
    parts = []
    for src, names in uncovered.items():
        if names is None:
            parts.append(f"{src} is not installed where this page was generated")
        elif names:
            parts.append(f"{where.get(src, src)} without a row: {', '.join(f'`{n}`' for n in names)}")
        else:
            parts.append(f"every name of {where.get(src, src)} has a row")
    return ["Coverage (read from the installed sources): " + "; ".join(parts) + ". A name without a row has no "
            "entry in `scripts/real_losses.py`: it is not a loss of embeddings (a layer, a utility, a container of "
            "terms) or it is still to be added.", ""]


def render_markdown(rows: list[dict], run: dict[str, Any], figures: list[str],
                    uncovered: dict[str, list[str] | None] | None = None) -> str:
    """The page: what it is, the summary, the figures, the columns, one table per source."""
    out = ["# The SSL loss atlas", "",
           "Every SSL loss registered in ssl-props, every loss of lightly 1.6.0 that takes embeddings and every "
           "loss function of solo-learn 1.0.2, through the project's two instruments: `ssl-props check` (the "
           "documented command of [real-losses.md](real-losses.md), `--max-examples 5`; a registered loss "
           "against itself with `--like`) and `ssl-props profile --no-compare` (the theory applied to the loss: "
           "its optimum on relation graphs, Balestriero & LeCun 2022, arXiv:2205.11508; its linear dynamics under "
           "the three target modes, Tian et al. 2021, arXiv:2102.06810). Generated by `ssl-props atlas` "
           "(`make atlas`, in the conformance environment); do not edit by hand. The same rows, with every "
           "graph's ranks and singular values, are in [atlas.json](atlas.json) "
           "([schema](atlas-schema.md)); `tests/test_conformance_atlas.py` fails when this page disagrees with "
           "a fresh run.", ""]
    out += _summary(rows) + [""] + _coverage(uncovered)
    out.append(f"Run: {run.get('wall_seconds', 0):.0f} s wall with `--jobs {run.get('jobs')}` (the losses' own times "
               f"add up to {sum((r.get('seconds') or {}).get('total', 0) or 0 for r in rows):.0f} s; "
               f"{sum(bool(r.get('cached')) for r in rows)} of {len(rows)} results from the cache, keyed by the "
               f"loss's source, the package versions and the project's sources); time limit "
               f"{run.get('timeout'):g} s per loss.")
    out.append("")
    out += [f"![{f.rsplit('/', 1)[-1]}]({f})" for f in figures] + [""]
    out += ["## Columns", "",
            "- **check**: the checker's verdict; each check still failing is a **defect** of the loss or a "
            "**design** choice (as docs/real-losses.md explains it); *declared design choices* are checks "
            "declared to fail by a flag (`--xfail`, `--collapse-elsewhere`) or by the registry, reported xfailed.",
            "- **behaves like**: the registered loss (with fitted parameters and factor) the checker identifies.",
            "- **collapse admitted**: on how many relation graphs complete collapse is a global minimiser of the "
            "loss alone (then no rank is a property of the loss; only the training dynamics can prevent collapse).",
            "- **rank, K < N'−1 / K > N'−1**: the rank of the certified optimum on the augmentation graphs of N' "
            "samples (V views each) with K output dimensions below and above N' − 1 (a set when the optimal "
            "starts reach several ranks), next to *spectral* = min(K, N' − 1), the rank of the graph's spectral "
            "embedding that the spectral references reach; *undetermined* when no optimum is certified (not "
            "converged, or an infimum not attained).",
            "- **Laplacian subspace**: on how many graphs the optimum lies in the bottom eigenspace of the graph "
            "Laplacian; **Z → ZQ invariant**: on how many graphs the loss is unchanged by a rotation of the "
            "embedding.",
            "- **stop-gradient**: the profile's stop-gradient verdict: the rank the linear dynamics reach without a "
            "stop-gradient (no-SG), with one (SG) and with an EMA target, of the embedding's dimension; *stop-gradient "
            "matters* when no-SG and SG differ, *EMA differs* when only the EMA target does.",
            "- **time**: seconds of check + profile for this loss (not compared by the conformance test).", ""]
    out += _reproduce(rows)
    for source, title in SOURCES:
        part = [r for r in rows if r["source"] == source]
        if not part:
            continue
        out += [f"## {title}", "", "| " + " | ".join(HEADER) + " |", "|" + "---|" * len(HEADER)]
        for r in part:
            cells = row_cells(r)
            cells[0] = f'<a id="{r["key"]}"></a>{cells[0]}'
            out.append(_table_line(cells))
        out.append("")
    return "\n".join(out)


def render_json(rows: list[dict], run: dict[str, Any], versions: dict[str, Any], sources: str,
                uncovered: dict[str, list[str] | None] | None = None) -> str:
    """``docs/atlas.json``: the rows with everything they hold (docs/atlas-schema.md)."""
    doc = {"schema": SCHEMA, "generated_by": "ssl-props atlas", "versions": versions, "sources_hash": sources,
           "uncovered": uncovered or {},
           "run": run, "count": {"total": len(rows), **{s: sum(r["source"] == s for r in rows) for s, _ in SOURCES}},
           "columns": list(HEADER), "rows": rows}
    return json.dumps(doc, indent=1, ensure_ascii=False)
