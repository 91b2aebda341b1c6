"""The SSL loss atlas (issue 23): every registered, lightly 1.6.0 and solo-learn 1.0.2 loss through
``ssl-props check`` and ``ssl-props profile``, on one generated page.

* :mod:`.entries`: which losses, and the two commands that run each (from ``scripts/real_losses.py``);
* :mod:`.worker`: one loss in one process (both commands in-process, a time limit, every failure classified);
* :mod:`.cache`: results keyed by the loss's source, the package versions and the project's sources;
* :mod:`.pool`: the process pool, the progress bar and the cache together (:func:`run_entries`);
* :mod:`.rows`: a result as a row of verdicts (the deterministic fields the conformance test compares);
* :mod:`.render`: ``docs/atlas.md`` and ``docs/atlas.json`` (schema ``ssl-props/atlas/v1``, docs/atlas-schema.md);
* :mod:`.figures`: the heat map of verdicts and the optimum's singular values per family;
* :mod:`.coverage`: the exports of lightly and solo-learn that have no row (read with :mod:`ast`);
* :mod:`.command`: ``ssl-props atlas [--out DIR] [--only PATTERN] [--jobs N]``.

A mechanism: it runs the two instruments through their command lines only and never imports
:mod:`ssl_props.papers`.
"""
SCHEMA = "ssl-props/atlas/v1"

__all__ = ["SCHEMA"]
