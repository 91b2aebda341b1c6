"""Tian, Chen & Ganguli, "Understanding self-supervised learning dynamics without contrastive pairs",
ICML 2021, arXiv:2102.06810 (DirectPred), on the simulator of :mod:`ssl_props.dynamics`.

* :mod:`.records`: the registered results (Lemmas 1-2, Theorems 1-3, Eqns 11-19);
* :mod:`.conservation_and_collapse`: Lemma 1 (balance), Theorem 1 (weight decay), Theorem 2 (collapse
  without stop-gradient), Lemma 2;
* :mod:`.alignment_and_fixed_points`: Theorem 3 (eigenspace alignment), Eqns 11-18 (mode dynamics,
  fixed points, DirectPred);
* :mod:`.symmetrised_flow`: Eqn 7 and Theorem 3's identity on the full field;
* :mod:`.registered_losses`: Lemma 1 and Theorem 1 on the registered SimSiam / BYOL losses (issue 15);
* :mod:`.errata`: the errata besides Eqn 14 (issue 14 item 8);
* :mod:`.derivations`: the sympy proofs.
"""
from ssl_props.papers.tian2021 import records  # noqa: F401  (registers the results)
