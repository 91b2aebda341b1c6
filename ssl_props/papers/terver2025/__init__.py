"""Ponce, Terver, Hebert and Arbel (arXiv lists Ponce, Hebert, Terver), "Dual Perspectives on Non-Contrastive Self-Supervised Learning",
2025, arXiv:2507.01028, on the moments model of :mod:`ssl_props.dynamics.moments_model`.

* :mod:`.records`: the registered results (Props 3.1-3.2, Lemmas 4.1-4.3, Props 4.5-4.11, Thm 4.9);
* :mod:`.closed_forms`: the paper's closed forms (Prop 4.5's predictor, the m = 1 spheres);
* :mod:`.gradient_fields`: Sec. 3-4.1 checks (SG/EMA fields are not gradients; GD collapses);
* :mod:`.equilibria`: Sec. 4.2-4.3 checks (equilibria, their varieties, stability);
* :mod:`.balancing`: the balancing lemma (continuous law, discrete η² breaking, registered losses) and the basin of
  the origin (issue 14 items 1-2);
* :mod:`.remarks`: saddles for m > 1, Thm 4.9 on a variety, Prop 4.5's count (items 4-6);
* :mod:`.experiment_m1`: the m = 1 experiment as a reproducibility record (item 3);
* :mod:`.derivations`: the sympy proofs.
"""
from ssl_props.papers.terver2025 import records  # noqa: F401  (registers the results)
