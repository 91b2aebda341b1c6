"""``python -m ssl_props check PATH.py:FUNC [--like NAME] [--param KEY=VALUE ...] [--format text|markdown|json]``.

Exit codes: 0 every check passed, 1 a check failed, 2 a usage or input error (missing file or
function, wrong signature, unknown registered name or parameter), printed as one line without a
traceback. ``--format json`` prints the ``ssl-props/check-report/v1`` schema (see
:mod:`ssl_props.checker.report`).
"""
from __future__ import annotations

import argparse
import ast
import importlib.util
import inspect
import os
import sys
from typing import Any, Callable

from ssl_props.errors import InvalidArgument, UsageError


def _usage_error(msg: str) -> Exception:
    return UsageError(msg)


def load_target(spec: str) -> Callable[..., Any]:
    """Import ``PATH.py:FUNC`` and return the callable (a class is instantiated with no arguments)."""
    path, sep, name = spec.rpartition(":")
    if not sep or not path or not name:
        raise _usage_error(f"target must be PATH.py:FUNC, got {spec!r}")
    if not os.path.isfile(path):
        raise _usage_error(f"no such file: {path}")
    mod_name = f"_ssl_props_user_{abs(hash(os.path.abspath(path)))}"
    sys.path.insert(0, os.path.dirname(os.path.abspath(path)))
    try:
        module_spec = importlib.util.spec_from_file_location(mod_name, path)
        if module_spec is None or module_spec.loader is None:
            raise _usage_error(f"cannot import {path}: not a Python file")
        module = importlib.util.module_from_spec(module_spec)
        sys.modules[mod_name] = module
        module_spec.loader.exec_module(module)
    except SystemExit as e:
        raise _usage_error(f"importing {path} called sys.exit({e.code})") from None
    except Exception as e:  # noqa: BLE001 - any import failure is an input error, reported on one line
        if isinstance(e, UsageError):
            raise
        raise _usage_error(f"cannot import {path}: {type(e).__name__}: {e}") from None
    finally:
        sys.path.pop(0)
    if not hasattr(module, name):
        funcs = sorted(k for k, v in vars(module).items() if callable(v) and not k.startswith("_")
                       and getattr(v, "__module__", None) == mod_name)
        raise _usage_error(f"{path} has no function {name!r}; it defines: {', '.join(funcs) or 'none'}")
    obj = getattr(module, name)
    if inspect.isclass(obj):
        try:
            obj = obj()
        except Exception as e:  # noqa: BLE001
            raise _usage_error(f"cannot instantiate {name}() with no arguments: {type(e).__name__}: {e}") from None
    return obj


def parse_params(items: list[str]) -> dict[str, Any]:
    """``["temperature=0.1", "symmetric=True"]`` → ``{"temperature": 0.1, "symmetric": True}`` (Python literals)."""
    out: dict[str, Any] = {}
    for item in items or []:
        key, sep, raw = item.partition("=")
        if not sep or not key.strip():
            raise _usage_error(f"--param must be KEY=VALUE, got {item!r}")
        try:
            out[key.strip()] = ast.literal_eval(raw.strip())
        except (ValueError, SyntaxError):
            out[key.strip()] = raw.strip()
    return out


def run_check_command(args: argparse.Namespace) -> int:
    """Entry point of ``ssl-props check``: run :func:`ssl_props.checker.check_loss` and print the report."""
    from ssl_props.checker import check_loss

    fn = load_target(args.target)
    params = parse_params(args.param)
    try:
        report = check_loss(fn, like=args.like, params=params, device=args.ssl_device, max_examples=args.max_examples)
    except InvalidArgument as e:
        raise _usage_error(str(e)) from None
    print(report.render(args.format))
    return 0 if report.passed else 1
