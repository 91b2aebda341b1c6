"""ssl-props: executable properties for the theory of contrastive and non-contrastive SSL.

* :mod:`ssl_props.losses`: registry of SSL losses written from their papers' formulas;
* :mod:`ssl_props.strategies`: Hypothesis strategies for embeddings and view pairs;
* :mod:`ssl_props.registry`: the theorem registry (``python -m ssl_props list``);
* :mod:`ssl_props.results`: the registered results, one module per paper.
"""
from ssl_props._validation import InvalidArgument
from ssl_props.registry import Check, Paper, Theorem, all_theorems, get_theorem

__version__ = "0.1.0"


def __getattr__(name: str):
    # check_loss pulls in the checker (and Hypothesis); import it on first use so that
    # `python -m ssl_props list` stays fast
    if name == "check_loss":
        from ssl_props.checker import check_loss

        return check_loss
    if name == "profile_loss":  # the profile pulls in the optimiser and the dynamics: also on first use
        from ssl_props.profile import profile_loss

        return profile_loss
    raise AttributeError(f"module 'ssl_props' has no attribute {name!r}")
__all__ = ["InvalidArgument", "Check", "Paper", "Theorem", "all_theorems", "check_loss", "get_theorem", "profile_loss", "__version__"]
