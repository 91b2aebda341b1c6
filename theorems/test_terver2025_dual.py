"""Terver, Ponce & Hebert, "Dual Perspectives on Non-Contrastive Self-Supervised Learning", 2025 (ICLR 2026),
arXiv:2507.01028.

Every registered result of the paper (``python -m ssl_props list --paper terver2025``); each check is one
test, with id ``<theorem id>::<kind>:<check>``.
"""
from ssl_props.registry import parametrize_theorems, run_check


@parametrize_theorems("terver2025")
def test_result(theorem, check):
    run_check(check)
