"""Garrido, Chen, Bardes, Najman, LeCun, "On the duality between contrastive and non-contrastive
self-supervised learning", ICLR 2023, arXiv:2206.02574.

* :mod:`.records`: the registered results (Definitions 3.1-3.2, Propositions 3.1-3.2, Theorem 3.3, ...);
* :mod:`.duality`: checks of Sec. 3.1-3.2 (the criteria L_c / L_nc, the methods they reduce, Theorem 3.3);
* :mod:`.norm_bounds`: checks of Sec. 3.3-3.4 (Lemma 3.4, Corollary 3.4.1, VICReg's variants, eqs 8-13);
* :mod:`.derivations`: the sympy proofs.
"""
from ssl_props.papers.garrido2023 import records  # noqa: F401  (registers the results)
