"""The atlas's own code (issue 23) on fake check/profile results: rows, the page, the cache, the time limit, the
flag translation and the figures. Fast (no loss is checked or profiled here; tests/test_conformance_atlas.py runs
real ones). Expected cells are written out by hand from the fake inputs, never produced by the helper under test.
"""
from __future__ import annotations

import json
import time

import pytest

from ssl_props.atlas import worker
from ssl_props.atlas.cache import ResultCache, entry_key
from ssl_props.atlas.entries import AtlasEntry, real_entries, registered_entries, select
from ssl_props.atlas.pool import run_entries
from ssl_props.atlas.render import parse_markdown_rows, render_json, render_markdown, row_cells
from ssl_props.atlas.rows import build_row, graph_side

ENTRY = AtlasEntry("lightly:lightly.loss:FakeLoss", "FakeLoss", "lightly", "lightly", "lightly.loss:FakeLoss",
                   ("lightly.loss:FakeLoss", "--xfail", "check_a=by design"),
                   {"check_spread*": ("defect", "adds +R(Z)")}, "a fake")


def _graph(name, rank, full, *, admitted=False, status="optimum", lap=True, rot=True, sv=(2.0, 1.0)):
    return {"graph": name, "status": status, "rank": rank, "full_rank": full, "collapse_admitted": admitted,
            "rank_set": {str(rank): 16}, "laplacian_subspace": lap, "rotation_invariant": rot,
            "singular_values": list(sv), "collapse": "none"}


def _result(*, sg_differs=False, check_ok=True):
    check = {"outcome": "ok", "exit": 1, "doc": {
        "passed": False, "counts": {"passed": 12, "failed": 2, "xfailed": 1, "skipped": 0},
        "behaves_like": [{"name": "simclr", "params": {"temperature": 0.1}, "factor": 2.0}],
        "results": [{"check": "check_spread(collapse=complete)", "status": "failed", "message": "m1"},
                    {"check": "check_other", "status": "failed", "message": "collapse scores lower\nmore"},
                    {"check": "check_a", "status": "xfailed", "message": "by design"}]}} if check_ok else {
        "outcome": "usage error", "exit": 2, "line": "cannot construct FakeLoss(): TypeError: x"}
    graphs = [_graph("augmentation N'=3 V=2 K=1 (K < N'-1)", 1, 1, admitted=True),
              _graph("augmentation N'=3 V=2 K=4 (K > N'-1)", 1, 2, lap=False),
              _graph("augmentation N'=4 V=2 K=2 (K < N'-1)", 2, 2),
              _graph("label-aligned C=3 n_c=3 K=3", 2, 2, status="not converged", lap=None)]
    sg = {"sentence": "s", "ranks": {"no_stop_gradient": 1, "stop_gradient": 3, "ema": 3}, "differs": sg_differs,
          "dim": 4} if sg_differs else {"sentence": "s", "ranks": {"no_stop_gradient": 3, "stop_gradient": 3},
                                        "differs": False, "dim": 4}
    profile = {"outcome": "ok", "exit": 0, "doc": {"form": "pair", "graphs": graphs, "headline": [],
                                                  "stop_gradient_verdict": sg, "dynamics_notes": []}}
    return {"key": ENTRY.key, "check": check, "profile": profile, "profile_command": "ssl-props profile x",
            "seconds": {"total": 3.0}}


def test_row_cells_from_fake_results():
    row = build_row(ENTRY, _result(sg_differs=True), "1.6.0")
    cells = dict(zip(["loss", "version", "command", "check", "like", "collapse", "below", "above", "lap", "rot",
                      "sg", "time"], row_cells(row)))
    assert cells["version"] == "lightly 1.6.0"
    assert cells["check"] == ("FAILED (12 passed, 2 failed, 1 xfailed)<br>`check_spread(collapse=complete)`: **defect**:"
                              " adds +R(Z)<br>`check_other`: **unexplained**: collapse scores lower<br>declared design "
                              "choices: `check_a`")
    assert cells["like"] == "2 × simclr(temperature=0.1)"
    assert cells["collapse"] == "on 1/4: N'=3, K=1"
    assert cells["below"] == "collapse admitted (N'=3, K=1); rank 2 = spectral (N'=4, K=2)"
    assert cells["above"] == "rank 1, spectral 2 (N'=3, K=4)"
    assert cells["lap"] == "partly (2/3): not on N'=3, K=4"
    assert cells["rot"] == "yes (4/4)"
    assert cells["sg"] == "stop-gradient matters: no-SG rank 1, SG rank 3, EMA rank 3 of 4"
    assert cells["time"] == "3 s"
    assert row["status"]["check"] == "bad:defect" and row["status"]["above"] == "partial:lower"
    same = build_row(ENTRY, _result(), "1.6.0")
    assert row_cells(same)[10] == "no difference (rank 3 of 4 in every mode)"
    res = _result()
    res["profile"]["doc"]["stop_gradient_verdict"] = {"sentence": "no verdict", "differs": False, "dim": 4,
                                                      "ranks": {"no_stop_gradient": None, "stop_gradient": 4, "ema": 4}}
    row = build_row(ENTRY, res, "1.6.0")
    assert row_cells(row)[10] == "undetermined: no-SG not counted; SG rank 4, EMA rank 4 of 4"
    assert row["status"]["stop-gradient"] == "none:?"


def test_failed_steps_say_what_failed():
    res = _result(check_ok=False)
    res["profile"] = {"outcome": "timed out", "line": "timed out after 120 s"}
    row = build_row(ENTRY, res, None)
    cells = row_cells(row)
    assert cells[1] == "lightly not installed"
    assert cells[3] == "usage error: cannot construct FakeLoss(): TypeError: x"
    assert cells[5] == "profile timed out after 120 s" and cells[6:10] == ["—"] * 4
    assert not any("crash" in c.lower() for c in cells)
    assert row["status"]["check"] == "none:error" and row["status"]["collapse"] == "none:timeout"


def test_page_roundtrip_and_a_changed_verdict_shows():
    rows = [build_row(ENTRY, _result(), "1.6.0")]
    text = render_markdown(rows, {"wall_seconds": 1.0, "jobs": 1, "timeout": 120.0}, ["atlas/heatmap.png"])
    parsed = parse_markdown_rows(text)
    assert parsed == {ENTRY.key: row_cells(rows[0])}
    changed = build_row(ENTRY, _result(sg_differs=True), "1.6.0")
    assert parsed[ENTRY.key][:-1] != row_cells(changed)[:-1]
    doc = json.loads(render_json(rows, {"jobs": 1}, {"torch": "x"}, "h"))
    assert doc["schema"] == "ssl-props/atlas/v1" and doc["count"] == {"total": 1, "ssl-props": 0, "lightly": 1,
                                                                      "solo-learn": 0}


def test_graph_side_from_names():
    assert [graph_side(n) for n in ("augmentation N'=3 V=2 K=1 (K < N'-1)", "augmentation N'=2 V=3 K=3 (K > N'-1)",
                                    "augmentation N'=3 V=2 K=2", "label-aligned C=3 n_c=3 K=3")] == \
        ["below", "above", "at", None]


def test_entries_cover_registry_and_script():
    from ssl_props.losses import LOSSES

    reg = registered_entries()
    assert [e.registered for e in reg] == list(LOSSES)
    assert reg[0].check_args == (f"ssl_props.losses:{reg[0].name}", "--like", reg[0].name)
    real = real_entries()
    assert {e.source for e in real} == {"lightly", "solo-learn"} and len({e.key for e in reg + real}) == len(reg + real)
    assert [e.key for e in select(reg + real, "ntxent")] == ["lightly:lightly.loss:NTXentLoss"]
    assert [e.key for e in select(reg + real, "ssl-props:simclr_sq, lightly:*:NTXent*")] == [
        "ssl-props:simclr_sq", "lightly:lightly.loss:NTXentLoss"]


def test_cache_key_follows_entry_sources_and_limit(monkeypatch):
    k = entry_key(ENTRY, 120.0)
    assert entry_key(ENTRY, 120.0) == k
    assert entry_key(ENTRY, 60.0) != k
    other = AtlasEntry(**{**ENTRY.__dict__, "check_args": ENTRY.check_args + ("--dim", "8")})
    assert entry_key(other, 120.0) != k
    import ssl_props.atlas.cache as cache_mod

    monkeypatch.setattr(cache_mod, "sources_hash", lambda: "edited")
    assert entry_key(ENTRY, 120.0) != k


def test_rerun_reads_the_cache_and_a_dead_worker_is_not_cached(tmp_path, monkeypatch):
    import ssl_props.atlas.pool as pool

    calls = []

    def fake(spec, timeout):
        calls.append(spec["key"])
        return _result() if spec["key"] == ENTRY.key else pool._died(AtlasEntry.from_spec(spec), "died")

    dead = AtlasEntry(**{**ENTRY.__dict__, "key": "lightly:dead", "name": "dead"})
    monkeypatch.setattr(pool, "run_entry", fake)
    cache = ResultCache(tmp_path)
    first, _ = run_entries([ENTRY, dead], jobs=0, cache=cache, progress=False)
    assert calls == [ENTRY.key, "lightly:dead"] and [r["cached"] for r in first] == [False, False]
    second, _ = run_entries([ENTRY, dead], jobs=0, cache=cache, progress=False)
    assert calls[2:] == ["lightly:dead"] and [r["cached"] for r in second] == [True, False]
    assert second[0]["check"] == first[0]["check"]


def test_time_limit_lands_through_except_exception(monkeypatch):
    def stubborn(argv):
        t0 = time.perf_counter()
        while time.perf_counter() - t0 < 10:
            try:
                time.sleep(0.05)
            except Exception:  # noqa: BLE001 - what a loss may do; the limit is a BaseException
                pass
        return {"outcome": "ok"}

    monkeypatch.setattr(worker, "_run_cli", stubborn)
    t0 = time.perf_counter()
    res = worker.run_entry(ENTRY.to_spec(), timeout=0.3)
    assert time.perf_counter() - t0 < 3
    assert res["check"] == {"outcome": "timed out", "line": "timed out after 0.3 s"}
    assert res["profile"]["outcome"] == "not run"


def test_exceptions_and_usage_errors_become_one_line(monkeypatch):
    def boom(argv):
        raise RuntimeError("shape mismatch\nsecond line")

    monkeypatch.setattr(worker, "_cli_main", boom)
    res = worker.run_entry(ENTRY.to_spec(), timeout=None)
    assert res["check"]["outcome"] == "raised"
    assert res["check"]["line"].startswith("raised RuntimeError: shape mismatch (at test_atlas.py:")
    monkeypatch.undo()
    missing = AtlasEntry("x:y", "y", "lightly", "lightly", "no_such_module_atlas:f", ("no_such_module_atlas:f",))
    res = worker.run_entry(missing.to_spec(), timeout=None)
    assert res["check"]["outcome"] == "usage error" and "no_such_module_atlas" in res["check"]["line"]
    assert res["profile"]["outcome"] == "usage error"


def test_profile_flags_translate_or_say_why(tmp_path):
    opts = worker._option_names(__import__("ssl_props.profile.command", fromlist=["x"]).add_profile_parser)
    f = tmp_path / "twoargs.py"
    f.write_text("def loss(x0, x1, eps=1.0):\n    return (x0 - x1).pow(2).mean()\n")
    target = f"{f}:loss"
    e = AtlasEntry("t:1", "loss", "lightly", "lightly", target,
                   (target, "--teacher", "x1", "--teacher-detached", "--arg", "eps=0.2", "--xfail", "a=b"))
    args, why = worker.profile_args(e)
    if "--teacher" not in opts:  # the detached second view is the profile's stop-gradient target
        assert "--predictor" in args
    assert ("--arg" if "--arg" in opts else "--param") in args and "eps=0.2" in args and "--xfail" not in args
    e = AtlasEntry("t:2", "loss", "lightly", "lightly", target, (target, "--teacher", "x0", "--crops", "2,2"))
    args, why = worker.profile_args(e)
    if "--crops" not in opts:
        assert args is None and "--crops 2,2" in why
    if "--teacher" not in opts:
        assert args is None and "--teacher x0 (not the second view" in why


def test_figures_written(tmp_path):
    pytest.importorskip("matplotlib")
    from ssl_props.atlas.figures import write_figures

    rows = [build_row(ENTRY, _result(), "1.6.0"), build_row(ENTRY, _result(sg_differs=True), "1.6.0")]
    paths = write_figures(rows, tmp_path)
    assert [p.name for p in paths] == ["heatmap.png", "spectra.png"]
    assert all(p.stat().st_size > 5000 for p in paths)


def test_coverage_names_what_has_no_row(tmp_path, monkeypatch):
    import ssl_props.atlas.coverage as cov

    lib = tmp_path / "lightly" / "loss"
    lib.mkdir(parents=True)
    (lib / "__init__.py").write_text("from lightly.loss.a import FakeLoss, Whitening2d\nfrom lightly.loss.b import _p\n")
    solo = tmp_path / "solo" / "losses"
    solo.mkdir(parents=True)
    (solo / "x.py").write_text("def x_loss_func(z1, z2):\n    pass\n\ndef _helper():\n    pass\n")
    monkeypatch.setattr(cov, "_module_location", lambda m: {"lightly.loss": lib, "solo.losses": solo}[m])
    assert cov.uncovered([ENTRY]) == {"lightly": ["Whitening2d"], "solo-learn": ["x_loss_func"]}
    monkeypatch.setattr(cov, "_module_location", lambda m: None)
    assert cov.uncovered([ENTRY]) == {"lightly": None, "solo-learn": None}


def test_shown_command_is_the_argv_that_runs():
    import shlex

    entries = registered_entries() + real_entries()
    bad = [e.key for e in entries if shlex.split(e.check_command())[:2] != ["ssl-props", "check"]
           or shlex.split(e.check_command())[2:] != list(e.check_args)]
    assert not bad, bad
