"""Every registered result, one pytest test per check: the suite that ``ssl-props report`` runs.

``python -m pytest <this file> --ssl-report DIR`` is what the report command does (it works where only
the package is installed, without the repository's ``theorems/``). The check ids are those of
``theorems/``; each paper is one test function (``test_<paper key>``), parametrised from the registry.
"""
from __future__ import annotations

from ssl_props.registry import paper_keys, parametrize_theorems, run_check


def _paper_test(key: str):
    """A fresh test function for one paper (a mark sticks to its function: one function per paper)."""
    def test(theorem, check) -> None:  # noqa: ANN001 (pytest parameters)
        run_check(check)

    test.__name__ = test.__qualname__ = f"test_{key}"
    return parametrize_theorems(key)(test)


for _key in paper_keys():
    globals()[f"test_{_key}"] = _paper_test(_key)
del _key
