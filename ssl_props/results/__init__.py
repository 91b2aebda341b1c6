"""Registered results, one module per paper; each module calls :func:`ssl_props.registry.register`.

Modules here are imported on demand by :func:`ssl_props.registry.all_theorems`.
"""
