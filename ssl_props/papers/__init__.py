"""One package per paper: ``ssl_props/papers/<paper key>/`` holds the paper's records (``records.py``),
its check functions (modules named for the sections or results they check) and its sympy derivations
(``derivations.py``). Importing a paper's package registers its results (and its report figures).

Packages here are found by :func:`ssl_props.registry.load_papers`; nothing else names them, and no
mechanism of ssl_props (losses, strategies, spectral solvers, the dynamics simulator, the checker, the
report, the command line) imports a paper.
"""
