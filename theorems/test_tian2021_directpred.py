"""Tian, Chen & Ganguli, "Understanding self-supervised learning dynamics without contrastive pairs",
ICML 2021, arXiv:2102.06810.

Every registered result of the paper (``python -m ssl_props list --paper tian2021``); each check is
one test, with id ``<theorem id>::<kind>:<check>``.
"""
from ssl_props.registry import parametrize_theorems, run_check


@parametrize_theorems("tian2021")
def test_result(theorem, check):
    run_check(check)
