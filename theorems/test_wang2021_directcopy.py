"""Wang, Chen, Du & Tian, "Towards Demystifying Representation Learning with Non-contrastive
Self-supervision", arXiv:2110.04947.

Every registered result of the paper (``python -m ssl_props list --paper wang2021``); each check is
one test, with id ``<theorem id>::<kind>:<check>``.
"""
from ssl_props.registry import parametrize_theorems, run_check


@parametrize_theorems("wang2021")
def test_result(theorem, check):
    run_check(check)
