"""docs/real-losses.md is current: every loss of lightly 1.6.0 and solo-learn 1.0.2 that takes embeddings runs
through ``ssl-props check`` with its documented flags (no wrapper file), and every check left failing is a
defect of the loss or a design choice, said in the table (issue 21).

Run by ``make conformance`` (``.venv-conformance``: lightly 1.6.0, solo-learn 1.0.2 installed with
``--no-deps``). Elsewhere the module skips when lightly or solo-learn is missing. Regenerate the table with
``.venv-conformance/bin/python scripts/real_losses.py``.
"""
from __future__ import annotations

import importlib.util
import os
import sys
from pathlib import Path

import pytest

from .helpers_solo import load_solo_loss, solo_losses_dir

if os.environ.get("SSL_PROPS_REQUIRE_LIGHTLY") == "1":  # make conformance: never skip
    import lightly.loss  # noqa: F401
else:
    pytest.importorskip("lightly.loss")
if solo_losses_dir() is None:
    pytest.skip("solo-learn is not installed (make conformance installs it with --no-deps)", allow_module_level=True)

ROOT = Path(__file__).resolve().parents[1]


def _script():
    spec = importlib.util.spec_from_file_location("ssl_props_real_losses_script", ROOT / "scripts" / "real_losses.py")
    assert spec is not None and spec.loader is not None
    mod = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = mod  # dataclasses look their module up there
    spec.loader.exec_module(mod)
    return mod


@pytest.fixture(scope="module")
def generated():
    script = _script()
    text, rows = script.generate()
    return script, text, rows


def test_every_real_loss_runs_with_its_documented_command(generated):
    script, _, rows = generated
    assert len(rows) == len(script.ENTRIES) >= 45
    not_run = [(e.target, doc.get("error")) for e, doc in rows if doc.get("error")]
    assert not not_run, not_run
    diagnosed = [e.target for e, doc in rows if [r["check"] for r in doc["results"]] == ["check_preflight"]]
    assert not diagnosed, f"the pre-flight stopped these (no check ran): {diagnosed}"


def test_every_remaining_failure_is_explained(generated):
    script, _, rows = generated
    unexplained = [(e.target, r["check"], r["message"][:160]) for e, doc in rows for r in doc["results"]
                   if not r["passed"] and script.explain(e, r["check"]) is None]
    assert not unexplained, unexplained
    stale = [(e.target, k) for e, doc in rows for k in e.failures
             if not any(not r["passed"] and script.explain(e, r["check"]) for r in doc["results"])]
    assert not stale, f"explanations for failures that no longer happen: {stale}"


def test_docs_real_losses_is_current(generated):
    script, text, _ = generated
    assert script.DOC.read_text() == text + "\n", ("docs/real-losses.md is stale: run "
                                                   "`.venv-conformance/bin/python scripts/real_losses.py`")


def test_solo_vicreg_is_vicreg_with_mu_50():
    """solo-learn's vicreg_loss_func does not halve the variance term (it sums the two views' hinge means):
    in the registry's convention that is μ = 50, found by the weight fit (ssl_props.checker.weights)."""
    from ssl_props.checker import identify

    matches, _ = identify(load_solo_loss("vicreg", "vicreg_loss_func"))
    assert {"name": "vicreg", "params": {"mu_param": 50.0}, "factor": 1.0, "fitted": "weights"} in matches, matches


def test_solo_target_loads_the_module_file_when_the_package_does_not_import(monkeypatch):
    from ssl_props.checker.cli import load_target

    for name in [m for m in sys.modules if m == "solo" or m.startswith(("solo.", "_ssl_props_file_solo"))]:
        monkeypatch.delitem(sys.modules, name)  # a failed `import solo` can leave solo.losses.* behind
    try:
        import solo  # noqa: F401
        package_imports = True
    except Exception:  # noqa: BLE001 - its __init__ needs optional dependencies
        package_imports = False
    for name in [m for m in sys.modules if m == "solo" or m.startswith("solo.")]:
        monkeypatch.delitem(sys.modules, name)
    fn = load_target("solo.losses.vicreg:vicreg_loss_func")
    assert callable(fn) and fn.__name__ == "vicreg_loss_func"
    assert package_imports or fn.__module__ == "_ssl_props_file_solo_losses_vicreg", fn.__module__


def test_every_documented_command_is_a_valid_shell_line():
    import shlex

    script = _script()
    for e in script.ENTRIES:
        words = shlex.split(e.command())
        assert words[:3] == ["ssl-props", "check", e.target] and words[3:] == list(e.flags), e.command()
