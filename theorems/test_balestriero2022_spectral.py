"""Balestriero & LeCun, "Contrastive and Non-Contrastive Self-Supervised Learning Recover Global and Local
Spectral Embedding Methods", NeurIPS 2022, arXiv:2205.11508.

Every registered result of the paper (``python -m ssl_props list --paper balestriero2022``); each check is
one test, with id ``<theorem id>::<kind>:<check>``.
"""
from ssl_props.registry import parametrize_theorems, run_check


@parametrize_theorems("balestriero2022")
def test_result(theorem, check):
    run_check(check)
