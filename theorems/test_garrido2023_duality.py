"""Garrido, Chen, Bardes, Najman, LeCun, "On the duality between contrastive and non-contrastive
self-supervised learning", ICLR 2023, arXiv:2206.02574.

Every registered result of the paper (``python -m ssl_props list --paper garrido2023``); each check is
one test, with id ``<theorem id>::<kind>:<check>``.
"""
from ssl_props.registry import parametrize_theorems, run_check


@parametrize_theorems("garrido2023")
def test_result(theorem, check):
    run_check(check)
