"""``python -m ssl_props check TARGET [--like NAME] [--param KEY=VALUE ...] [--format text|markdown|json] ...``.

``TARGET`` is ``PATH.py:FUNC`` or ``package.module:attr`` (the entry-point convention, e.g.
``lightly.loss:TiCoLoss``); a class is constructed with ``--init KEY=VALUE ...``. ``--batch`` /
``--dim`` pin the sizes a fixed-shape loss accepts, ``--views`` its calling convention (detected
otherwise, :mod:`ssl_props.checker.calling`), ``--dtype`` the working precision. The loss's shape is
declared with ``--teacher NAME`` (a detached teacher argument; ``--teacher-detached`` when the training
loop detaches it), ``--crops G,L[:PACK]`` (multi-crop), ``--arg NAME=VALUE`` (a constant or a built
tensor: prototypes, a queue, labels, a mask, a grid), ``--reduce mean|sum`` and ``--input-range LO,HI``.
Design choices are declared with ``--xfail CHECK[(VARIANT)]=REASON`` (patterns allowed),
``--collapse-elsewhere`` (collapse is prevented outside this term) and ``--state NAME`` (a state tensor
that must update across calls); ``--strict`` makes warnings errors.

A target ``package.module:attr`` whose package cannot be imported (solo-learn's ``__init__`` pulls
heavy optional dependencies) is loaded from the module's file found on ``sys.path``.

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
from ssl_props.checker.convention import VIEWS_HELP


def _usage_error(msg: str) -> Exception:
    return UsageError(msg)


def add_check_arguments(pc: argparse.ArgumentParser) -> None:
    """The arguments of ``ssl-props check`` (called by :func:`ssl_props.cli.build_parser`)."""
    pc.add_argument("target", help="PATH.py:FUNC or package.module:attr, the loss to check (a class is constructed)")
    pc.add_argument("--like", default=None, help="name of the registered loss it should match")
    pc.add_argument("--param", action="append", default=[], metavar="KEY=VALUE", help="parameter of the reference")
    pc.add_argument("--init", action="append", default=[], metavar="KEY=VALUE",
                    help="constructor argument of a class target (Python literal; @TARGET for a Python object)")
    pc.add_argument("--format", choices=("text", "markdown", "json"), default="text")
    pc.add_argument("--max-examples", type=int, default=None)
    pc.add_argument("--ssl-device", default=None)
    pc.add_argument("--batch", type=int, default=None, metavar="N", help="pin the batch size the loss accepts")
    pc.add_argument("--dim", type=int, default=None, metavar="D", help="pin the embedding dimension the loss accepts")
    pc.add_argument("--dtype", choices=("float64", "float32", "bfloat16", "float16"), default=None,
                    help="working precision (default float64; tolerances are derived from it)")
    pc.add_argument("--views", default=None, metavar="CONVENTION", help=VIEWS_HELP.replace("%", "%%"))
    pc.add_argument("--teacher", default=None, metavar="NAME",
                    help="the argument that is the detached teacher (gets view 2; no gradient may reach it)")
    pc.add_argument("--teacher-detached", action="store_true",
                    help="declare that the training loop detaches the teacher (it is passed detached)")
    pc.add_argument("--crops", default=None, metavar="G,L[:PACK]",
                    help="multi-crop: G global and L local crops, passed as list (default), stacked or cat")
    pc.add_argument("--arg", action="append", default=[], metavar="NAME=VALUE",
                    help="an extra argument: a constant (eps=1e-4) or a built tensor: randn(..), unit(8,D), zeros(..), "
                         "ones(..), eye(N), arange(B), randint(H,B), mask(B,M), grid(H,W); .T transposes (B batch, D dim)")
    pc.add_argument("--reduce", choices=("mean", "sum"), default=None, help="reduce a per-sample result")
    pc.add_argument("--input-range", default=None, metavar="LO,HI",
                    help="map every view entry into (LO, HI) (cosines: -1,1) instead of drawing outside the domain")
    pc.add_argument("--fixed-seed", type=int, default=None, metavar="N",
                    help="reseed torch's generator before every call (a loss drawing random slices or permutations)")
    pc.add_argument("--xfail", action="append", default=[], metavar="CHECK=REASON",
                    help="declare a check that fails by design: an id (check_prefers_spread(collapse=complete)), a name "
                         "or a pattern (check_prefers_spread*); reported xfailed per variant (a pass where every "
                         "declared variant passes is xpassed)")
    pc.add_argument("--collapse-elsewhere", nargs="?", const="collapse is prevented outside this term", default=None,
                    metavar="REASON", help="declare that collapse is prevented outside this term (a regulariser alone)")
    pc.add_argument("--state", action="append", default=[], metavar="NAME",
                    help="a state tensor of the loss (a centre, a queue) that must change across calls")
    pc.add_argument("--strict", action="store_true", help="warnings (inputs outside the formula's domain) fail")
    pc.add_argument("--theory", action="store_true", help="add the verdicts of `ssl-props profile` (the theory applied to the loss)")
    pc.add_argument("--family", choices=("sample-contrastive", "dimension-contrastive", "non-contrastive-predictor"),
                    default=None, help="declare the loss's family (Garrido et al. 2023, Def. 3.2): checked")
    pc.add_argument("--predictor", action="store_true",
                    help="a predictor loss used as loss(p, z) with a stop-gradient target (SimSiam, BYOL)")


def load_target(spec: str, init: dict[str, Any] | None = None) -> Callable[..., Any]:
    """Import ``PATH.py:FUNC`` or ``package.module:attr`` and return the callable (a class is constructed
    with ``init`` as keyword arguments)."""
    path, sep, name = spec.rpartition(":")
    if not sep or not path or not name:
        raise _usage_error(f"target must be PATH.py:FUNC or package.module:attr, got {spec!r}")
    looks_like_path = path.endswith(".py") or "/" in path or os.sep in path or os.path.exists(path)
    if not looks_like_path:
        return _construct(_import_attr(path, name), name, init)
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
    return _construct(getattr(module, name), name, init)


def module_file(module_name: str) -> str | None:
    """The file of ``module_name`` (``pkg/sub/mod.py``) on ``sys.path``, found without importing its packages."""
    rel = os.path.join(*module_name.split(".")) + ".py"
    for entry in sys.path:
        path = os.path.join(entry or os.getcwd(), rel)
        if os.path.isfile(path):
            return path
    return None


def load_module_file(module_name: str, path: str) -> Any:
    """Execute the module file ``path`` as a private module (its package's ``__init__`` is not run)."""
    private = "_ssl_props_file_" + module_name.replace(".", "_")
    if private in sys.modules:
        return sys.modules[private]
    module_spec = importlib.util.spec_from_file_location(private, path)
    assert module_spec is not None and module_spec.loader is not None
    module = importlib.util.module_from_spec(module_spec)
    sys.modules[private] = module
    try:
        module_spec.loader.exec_module(module)
    except BaseException:
        del sys.modules[private]
        raise
    return module


def _import_attr(module_name: str, name: str) -> Any:
    """``package.module:attr``: the attribute (dotted names inside the module allowed, ``mod:Outer.Inner``).

    When importing fails (a package ``__init__`` that needs optional dependencies) and the module is a
    file on ``sys.path``, that file alone is loaded (:func:`load_module_file`)."""
    if not all(part.isidentifier() for part in module_name.split(".")):
        raise _usage_error(f"target must be PATH.py:FUNC or package.module:attr, got {module_name}:{name}")
    try:
        module = importlib.import_module(module_name)
    except Exception as e:  # noqa: BLE001 - any import failure is an input error, reported on one line
        path = module_file(module_name) if "." in module_name else None
        if path is None and isinstance(e, ModuleNotFoundError):
            raise _usage_error(f"no module named {e.name!r} (is it installed in this environment? a file needs "
                               f"PATH.py:FUNC)") from None
        if path is None:
            raise _usage_error(f"cannot import {module_name}: {type(e).__name__}: {e}") from None
        try:
            module = load_module_file(module_name, path)
        except Exception as e2:  # noqa: BLE001 - the file alone does not load either
            raise _usage_error(f"cannot import {module_name} ({type(e).__name__}: {e}), nor load its file {path} "
                               f"alone ({type(e2).__name__}: {e2})") from None
    obj: Any = module
    for part in name.split("."):
        if not hasattr(obj, part):
            public = sorted(k for k in dir(module) if not k.startswith("_") and callable(getattr(module, k, None)))
            raise _usage_error(f"module {module_name} has no attribute {name!r}; it has: {', '.join(public[:40]) or 'none'}")
        obj = getattr(obj, part)
    return obj


def _construct(obj: Any, name: str, init: dict[str, Any] | None) -> Any:
    if not inspect.isclass(obj):
        if init:
            raise _usage_error(f"--init applies to a class, but {name} is a {type(obj).__name__}")
        return obj
    call = f"{name}({', '.join(f'{k}={v!r}' for k, v in (init or {}).items())})"
    try:
        return obj(**(init or {}))
    except Exception as e:  # noqa: BLE001 - a constructor rejecting its arguments is an input error
        raise _usage_error(f"cannot construct {call}: {type(e).__name__}: {e}"
                           + ("" if init else " (pass constructor arguments with --init KEY=VALUE)")) from None


def parse_params(items: list[str], flag: str = "--param") -> dict[str, Any]:
    """``["temperature=0.1", "symmetric=True"]`` → ``{"temperature": 0.1, "symmetric": True}`` (Python literals)."""
    out: dict[str, Any] = {}
    for item in items or []:
        key, sep, raw = item.partition("=")
        if not sep or not key.strip():
            raise _usage_error(f"{flag} must be KEY=VALUE, got {item!r}")
        try:
            out[key.strip()] = ast.literal_eval(raw.strip())
        except (ValueError, SyntaxError):
            out[key.strip()] = raw.strip()
    return out


def split_declaration(item: str) -> tuple[str, str]:
    """``"check_prefers_spread(collapse=complete)=why"`` → ``("check_prefers_spread(collapse=complete)", "why")``:
    split at the ``=`` that ends the check id, the first one outside parentheses (a variant holds ``=`` inside
    its parentheses; a check id never holds one outside them, so the reason may contain ``=`` too)."""
    depth, cut = 0, -1
    for i, ch in enumerate(item):
        depth += (ch == "(") - (ch == ")")
        if ch == "=" and depth == 0:
            cut = i
            break
    check, reason = (item[:cut].strip(), item[cut + 1:].strip()) if cut >= 0 else (item.strip(), "")
    if not check or not reason:
        raise _usage_error(f"--xfail must be CHECK=REASON (a reason is required; CHECK may be an id such as "
                           f"check_prefers_spread(collapse=complete) or a pattern), got {item!r}")
    return check, reason


def run_check_command(args: argparse.Namespace) -> int:
    """Entry point of ``ssl-props check``: run :func:`ssl_props.checker.check_loss` and print the report."""
    from ssl_props.checker import check_loss

    init = parse_params(getattr(args, "init", []), "--init")
    for key, value in init.items():  # --init NAME=@TARGET: a Python object (a callable) the constructor takes
        if isinstance(value, str) and value.startswith("@"):
            init[key] = load_target(value[1:])
    fn = load_target(args.target, init)
    params = parse_params(args.param)
    xfail: dict[str, str] = {}
    for item in getattr(args, "xfail", []) or []:
        check, reason = split_declaration(item)
        xfail[check] = reason
    from ssl_props.checker.builders import parse_arg_value

    extra = {}
    for item in getattr(args, "arg", []) or []:
        key, sep, raw = item.partition("=")
        if not sep or not key.strip().isidentifier():
            raise _usage_error(f"--arg must be NAME=VALUE, got {item!r}")
        try:
            extra[key.strip()] = parse_arg_value(raw)
        except InvalidArgument as e:
            raise _usage_error(str(e)) from None
    try:
        report = check_loss(fn, like=args.like, params=params, device=args.ssl_device, max_examples=args.max_examples,
                            shapes=(getattr(args, "batch", None), getattr(args, "dim", None)),
                            dtype=getattr(args, "dtype", None), views=getattr(args, "views", None),
                            expected_failures=xfail or None, strict=bool(getattr(args, "strict", False)),
                            needs_stop_gradient=True if getattr(args, "predictor", False) else None,
                            theory=bool(getattr(args, "theory", False)), teacher=getattr(args, "teacher", None),
                            teacher_detached=bool(getattr(args, "teacher_detached", False)),
                            crops=getattr(args, "crops", None), args=extra or None, reduce=getattr(args, "reduce", None),
                            input_range=getattr(args, "input_range", None),
                            collapse_elsewhere=getattr(args, "collapse_elsewhere", None),
                            state=tuple(getattr(args, "state", []) or ()), family=getattr(args, "family", None),
                            fixed_seed=getattr(args, "fixed_seed", None))
    except InvalidArgument as e:
        raise _usage_error(str(e)) from None
    print(report.render(args.format))
    return 0 if report.passed else 1
