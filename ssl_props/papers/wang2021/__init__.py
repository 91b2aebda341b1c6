"""Wang, Chen, Du & Tian, "Towards Demystifying Representation Learning with Non-contrastive
Self-supervision", arXiv:2110.04947 (DirectSet(α), DirectCopy), on the simulator of :mod:`ssl_props.dynamics`.

* :mod:`.records`: the registered (reconstructed) results;
* :mod:`.thresholds`: the weight-decay threshold, DirectPred = DirectCopy subspace, minibatch SGD;
* :mod:`.figures`: the report's surviving-directions figure.
"""
from ssl_props.papers.wang2021 import figures, records  # noqa: F401  (registers results and figures)
