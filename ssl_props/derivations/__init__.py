"""Symbolic derivations (sympy), one module per paper; each derivation raises ``AssertionError`` with
the non-zero residual when sympy disagrees, and returns a short description of what it proved."""
