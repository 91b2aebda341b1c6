"""Tian, Chen & Ganguli, "Understanding self-supervised learning dynamics without contrastive pairs",
ICML 2021, arXiv:2102.06810 (DirectPred), on the simulator of :mod:`ssl_props.dynamics`.

* :mod:`.records`: the registered results (Lemmas 1-2, Theorems 1-3, Eqns 11-19);
* :mod:`.conservation_and_collapse`: Lemma 1 (balance), Theorem 1 (weight decay), Theorem 2 (collapse
  without stop-gradient), Lemma 2;
* :mod:`.alignment_and_fixed_points`: Theorem 3 (eigenspace alignment), Eqns 11-18 (mode dynamics,
  fixed points, DirectPred);
* :mod:`.derivations`: the sympy proofs.
"""
from ssl_props.papers.tian2021 import records  # noqa: F401  (registers the results)
