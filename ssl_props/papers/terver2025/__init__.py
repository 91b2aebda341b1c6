"""Terver, Ponce, Hebert (and Arbel), "Dual Perspectives on Non-Contrastive Self-Supervised Learning",
2025, arXiv:2507.01028, on the moments model of :mod:`ssl_props.dynamics.moments_model`.

* :mod:`.records`: the registered results (Props 3.1-3.2, Lemmas 4.1-4.3, Props 4.5-4.11, Thm 4.9);
* :mod:`.closed_forms`: the paper's closed forms (Prop 4.5's predictor, the m = 1 spheres);
* :mod:`.gradient_fields`: Sec. 3-4.1 checks (SG/EMA fields are not gradients; GD collapses);
* :mod:`.equilibria`: Sec. 4.2-4.3 checks (equilibria, their varieties, stability);
* :mod:`.derivations`: the sympy proofs.
"""
from ssl_props.papers.terver2025 import records  # noqa: F401  (registers the results)
