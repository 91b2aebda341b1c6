"""The theory applied to a user's loss: ``profile_loss`` / ``ssl-props profile`` (issue 12).

* :mod:`.graph_losses`: a loss on the positives of a relation graph, batched over starts; the spectral references;
* :mod:`.optimum`: the optimum on relation graphs (batched L-BFGS) and its measurements;
* :mod:`.dynamics`: the loss in the linear model (GD through autograd, many seeds at once);
* :mod:`.verdicts`: each measurement next to the theorem that predicts it;
* :mod:`.run`: :func:`profile_loss` and :class:`Profile`; :mod:`.report`: text / markdown / JSON;
* :mod:`.figures`: the figures of ``--figures DIR``; :mod:`.command`: the ``ssl-props profile`` command.

A mechanism: it never imports :mod:`ssl_props.papers` (the theorems it cites are registry ids). The
exports are imported on first use, so that building the command line stays light.
"""
__all__ = ["REFERENCES", "SCHEMA", "Profile", "ProfileFailure", "profile_loss"]


def __getattr__(name: str):
    if name in ("REFERENCES", "ProfileFailure"):
        from ssl_props.profile import graph_losses

        return getattr(graph_losses, name)
    if name in ("SCHEMA", "Profile", "profile_loss"):
        from ssl_props.profile import run

        return getattr(run, name)
    raise AttributeError(f"module 'ssl_props.profile' has no attribute {name!r}")
