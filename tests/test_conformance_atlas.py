"""docs/atlas.md is current: three losses are checked and profiled again (through the atlas's own worker, in this
process, no cache) and every cell of their rows but the time must equal the page's (issue 23). A verdict that
changes in a loss, the checker or the profile shows here the day it changes.

The three (~25 s together): the registered BYOL and lightly's NegativeCosineSimilarity (``--teacher x1
--teacher-detached``, profiled as ``--predictor``), two-argument losses whose profile runs the linear dynamics and
the stop-gradient verdict, and lightly's CO2Regularizer, a row with two **defect** labels whose profile stops
(no gradient reaches Z). Run by ``make conformance``; the page is written by ``make atlas``
(``SSL_PROPS_ATLAS_PAGE=PATH`` compares another page).
"""
from __future__ import annotations

import os
from pathlib import Path

import pytest

if os.environ.get("SSL_PROPS_REQUIRE_LIGHTLY") == "1":  # make conformance: never skip for a missing lightly
    import lightly.loss  # noqa: F401
else:
    pytest.importorskip("lightly.loss")

from ssl_props.atlas.entries import all_entries  # noqa: E402
from ssl_props.atlas.render import HEADER, parse_markdown_rows, row_cells  # noqa: E402

PAGE = Path(os.environ.get("SSL_PROPS_ATLAS_PAGE") or Path(__file__).resolve().parents[1] / "docs" / "atlas.md")
KEYS = ("ssl-props:byol", "lightly:lightly.loss:NegativeCosineSimilarity",
        "lightly:lightly.loss.regularizer.co2:CO2Regularizer")


def disagreements(page: dict[str, list[str]], fresh: dict[str, list[str]]) -> list[str]:
    """One line per cell (the time excluded) where the page and a fresh row differ, or a row the page lacks."""
    out = []
    for key, cells in fresh.items():
        if key not in page:
            out.append(f"{key}: no row on the page")
            continue
        for head, was, now in zip(HEADER[:-1], page[key][:-1], cells[:-1]):
            if was != now:
                out.append(f"{key} [{head}]: page says {was!r}, a fresh run says {now!r}")
    return out


@pytest.fixture(scope="module")
def fresh(tmp_path_factory):
    import torch

    from ssl_props.atlas.command import build_atlas

    entries = [e for e in all_entries() if e.key in KEYS]
    assert sorted(e.key for e in entries) == sorted(KEYS), "an atlas entry of this test is gone: update KEYS"
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # as the atlas's workers run (ssl_props.atlas.worker.init_worker)
    try:
        rows, _ = build_atlas(entries, jobs=0, timeout=600.0, cache_dir=tmp_path_factory.mktemp("atlas-cache"),
                              refresh=True, progress=False)
    finally:
        torch.set_num_threads(threads)
    return {r["key"]: row_cells(r) for r in rows}


def test_the_comparison_catches_a_changed_cell():
    page = {"k": ["`x`", "lightly 1.6.0", "cmd", "PASSED (1 passed)", *["—"] * 8]}
    changed = {"k": ["`x`", "lightly 1.6.0", "cmd", "FAILED (1 failed)", *["—"] * 7, "99 s"]}
    assert disagreements(page, changed) == ["k [check]: page says 'PASSED (1 passed)', a fresh run says "
                                            "'FAILED (1 failed)'"]
    assert disagreements({}, changed) == ["k: no row on the page"]


def test_atlas_page_agrees_with_a_fresh_run(request):
    if not PAGE.exists():
        pytest.skip(f"{PAGE} does not exist yet: `make atlas` writes it (the lead generates it last)")
    rows = request.getfixturevalue("fresh")
    assert all(not cells[3].startswith(("raised", "timed out", "usage error")) for cells in rows.values()), rows
    diff = disagreements(parse_markdown_rows(PAGE.read_text()), rows)
    assert not diff, "docs/atlas.md is stale (rerun `make atlas`):\n" + "\n".join(diff)
