"""Balestriero & LeCun, "Contrastive and Non-Contrastive Self-Supervised Learning Recover Global and
Local Spectral Embedding Methods", NeurIPS 2022, arXiv:2205.11508.

* :mod:`.records`: the registered claims (``balestriero2022.claimN``, each with its provenance);
* :mod:`.relation_graph`, :mod:`.optima`, :mod:`.label_alignment`: checks of the relation graph and its
  Laplacian, of the closed-form optima (VICReg, SimCLR, Barlow Twins), and of label-aligned and
  misaligned graphs;
* :mod:`.registered_losses`: the G forms against the registered losses (``get_loss``);
* :mod:`.errata` / :mod:`.printed_statements`: errata and remarks on printed statements, claim12;
* :mod:`.derivations`: the sympy proofs; :mod:`.figures`: the report's spectrum figure;
* :mod:`.oracles`: scikit-learn / SciPy as the external side; :mod:`.oracle_existing` (claims 3-5, 7-10, 13 against
  them), :mod:`.oracle_local`, :mod:`.oracle_cca`, :mod:`.oracle_global` and :mod:`.oracle_records` (claims 14-19,
  definition-isomap, remark-bt-cca-basis, remark-simclr-isomap: the title's equivalences).
"""
from ssl_props.papers.balestriero2022 import figures, records  # noqa: F401  (registers results and figures)
from ssl_props.papers.balestriero2022 import errata  # noqa: F401,E402  (errata and remarks, after the claims)
from ssl_props.papers.balestriero2022 import oracle_records  # noqa: F401,E402  (issue 22: the title's equivalences vs sklearn)
