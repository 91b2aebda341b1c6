"""The theorem registry, its validation, and the `list` command."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from ssl_props.cli import main, render_list
from ssl_props.registry import Check, Paper, Theorem, all_theorems, check_id, register

ROOT = Path(__file__).resolve().parents[1]
P = Paper("demo2099", ("A B",), "t", "v", 2099, "0000.00000")


def test_every_result_has_checks_of_each_needed_kind():
    ts = all_theorems()
    assert ts, "no registered theorems"
    for t in ts:
        assert t.checks_of("numeric") or t.checks_of("symbolic"), t.id
        assert t.checks_of("necessity"), f"{t.id} has no necessity check"
        dropped = {c.assumption for c in t.checks_of("necessity")}
        assert set(t.assumptions) <= dropped, t.id
        assert t.id.startswith(t.paper.key + ".")


def test_garrido_results_are_all_there():
    ids = {t.id for t in all_theorems("garrido2023")}
    for n in ("def3.1", "def3.2", "prop3.1", "prop3.2", "thm3.3", "lem3.4", "cor3.4.1", "eq10", "eq13"):
        assert f"garrido2023.{n}" in ids
    kinds = {t.kind for t in all_theorems("garrido2023")}
    assert "remark" in kinds


def test_register_rejects_missing_necessity_and_bad_ids():
    ok = Check("numeric", "x", lambda: None)
    with pytest.raises(ValueError, match="assumptions without a necessity check"):
        register(Theorem("demo2099.t1", P, "Theorem 1", "theorem", "t", "s", assumptions=("a",), checks=(ok,)))
    with pytest.raises(ValueError, match="must start with its paper key"):
        register(Theorem("other.t1", P, "Theorem 1", "theorem", "t", "s", checks=(ok,)))
    with pytest.raises(ValueError, match="must name the assumption"):
        Check("necessity", "n", lambda: "x")


def test_check_ids_are_stable():
    t = all_theorems("garrido2023")[0]
    assert check_id(t, t.checks[0]).startswith("garrido2023.def3.1::")


def test_list_formats(capsys):
    assert main(["list", "--format", "json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["schema"] == "ssl-props/theorems/v1"
    entry = next(e for e in data["theorems"] if e["id"] == "garrido2023.thm3.3")
    assert entry["paper"]["arxiv"] == "2206.02574" and entry["number"] == "Theorem 3.3"
    assert {c["kind"] for c in entry["checks"]} == {"symbolic", "numeric", "necessity"}
    assert main(["list", "--format", "markdown"]) == 0
    assert "| `garrido2023.thm3.3` | Theorem 3.3 |" in capsys.readouterr().out
    assert main(["list", "--paper", "nope"]) == 2


def test_docs_table_is_up_to_date():
    """docs/theorems.md is generated from the registry: regenerate it with
    `python -m ssl_props list --format markdown > docs/theorems.md`."""
    page = (ROOT / "docs" / "theorems.md").read_text(encoding="utf-8")
    assert page.strip() == render_list(all_theorems(), "markdown").strip(), \
        "docs/theorems.md is stale: run `python -m ssl_props list --format markdown > docs/theorems.md`"


def test_module_entry_point_usage_error():
    r = subprocess.run([sys.executable, "-m", "ssl_props", "frobnicate"], capture_output=True, text=True, cwd=ROOT)
    assert r.returncode == 2 and "invalid choice" in r.stderr and "Traceback" not in r.stderr
