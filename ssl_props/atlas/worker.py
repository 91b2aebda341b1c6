"""One loss of the atlas in one process: ``ssl-props check`` and ``ssl-props profile``, both through the command
line (in-process, output captured), under one time limit, every failure classified in one line.

:func:`run_entry` never raises for a loss: a usage error, an exception inside a command, unparsable output
and the time limit each become an ``outcome`` with a ``line`` (the row says what failed, never "crashed").
The time limit is a ``SIGALRM`` timer that raises :class:`AtlasTimeout`, a ``BaseException`` (so that the
checker's and the profile's ``except Exception`` do not swallow it), re-armed every 2 s until it lands.
"""
from __future__ import annotations

import argparse
import ast
import contextlib
import inspect
import io
import json
import os
import signal
import threading
import time
import traceback
import warnings
from typing import Any, Iterator

from ssl_props.atlas.entries import MAX_EXAMPLES, AtlasEntry

__all__ = ["RUNNER_VERSION", "AtlasTimeout", "run_entry", "profile_args", "init_worker"]

#: bump when what a result holds changes (part of the cache key)
RUNNER_VERSION = 1
#: graph fields of the profile JSON the atlas keeps (docs/profile-schema.md)
GRAPH_FIELDS = ("graph", "kind", "n", "k", "status", "rank", "full_rank", "collapse", "collapse_admitted", "rank_set",
                "singular_values", "laplacian_subspace", "rotation_invariant", "positives_coincide", "loss")
#: flags of ``ssl-props check`` that declare design choices or set the checker's budget: nothing to profile
CHECK_ONLY = ("xfail", "collapse_elsewhere", "family", "strict", "state", "dtype", "like", "param", "max_examples",
              "format", "ssl_device", "theory")


class AtlasTimeout(BaseException):
    """The per-loss time limit was reached (a ``BaseException``: ``except Exception`` in a loss does not catch it)."""


def init_worker() -> None:
    """Pool initializer: one torch thread per worker (the pool spreads losses over cores)."""
    os.environ["OMP_NUM_THREADS"] = os.environ["MKL_NUM_THREADS"] = "1"
    import torch

    torch.set_num_threads(1)
    with contextlib.suppress(RuntimeError):
        torch.set_num_interop_threads(1)
    import ssl_props.checker  # noqa: F401 - imported once per worker, not inside the first loss's time limit
    import ssl_props.checker.cli  # noqa: F401
    import ssl_props.profile.run  # noqa: F401


@contextlib.contextmanager
def _time_limit(seconds: float | None) -> Iterator[None]:
    if not seconds or threading.current_thread() is not threading.main_thread():
        yield
        return
    armed = [True]

    def _raise(signum, frame):  # noqa: ARG001 - the signal handler's signature
        if armed[0]:
            raise AtlasTimeout()

    old = signal.signal(signal.SIGALRM, _raise)
    signal.setitimer(signal.ITIMER_REAL, seconds, 2.0)
    try:
        yield
    finally:
        armed[0] = False
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, old)


def _one_line(e: BaseException) -> str:
    """``Type: first line of the message (at file:line of the innermost frame)``."""
    msg = str(e).strip().splitlines()[0][:200] if str(e).strip() else ""
    tb = traceback.extract_tb(e.__traceback__)
    where = f" (at {os.path.basename(tb[-1].filename)}:{tb[-1].lineno})" if tb else ""
    return f"{type(e).__name__}{': ' + msg if msg else ''}{where}"


def _cli_main(argv: list[str]) -> int:
    """``ssl-props check|profile ARGV`` as :func:`ssl_props.cli.main` runs them (the two commands' own parser
    builders and entry points; exit 2 and one line on stderr for a usage error). Not through ``ssl_props.cli``
    itself, which registers this package's command: that would be an import circle."""
    from ssl_props.checker.cli import add_check_arguments, run_check_command
    from ssl_props.errors import run_parsed
    from ssl_props.profile.command import add_profile_parser

    root = argparse.ArgumentParser(prog="ssl-props")
    sub = root.add_subparsers(dest="command", required=True)
    add_check_arguments(sub.add_parser("check"))
    sub.choices["check"].set_defaults(func=run_check_command)
    add_profile_parser(sub)
    return run_parsed(root, argv)


def _run_cli(argv: list[str]) -> dict[str, Any]:
    """``ssl-props ARGV`` in this process: ``{"outcome": "ok", "exit", "doc"}`` or an outcome with a ``line``."""
    out, err = io.StringIO(), io.StringIO()
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err), warnings.catch_warnings():
            warnings.simplefilter("ignore")
            code = _cli_main(argv)
    except AtlasTimeout:
        raise
    except BaseException as e:  # noqa: BLE001 - a loss's exception is the row's content, never the atlas's end
        return {"outcome": "raised", "line": f"raised {_one_line(e)}"}
    if code == 2:
        lines = [x for x in err.getvalue().strip().splitlines() if x.strip()]
        return {"outcome": "usage error", "exit": 2, "line": (lines[-1] if lines else "usage error").removeprefix(
            "ssl-props: error: ")[:300]}
    try:
        doc = json.loads(out.getvalue())
    except json.JSONDecodeError as e:
        return {"outcome": "bad output", "exit": code, "line": f"exit {code}, output not JSON ({e.msg})"}
    return {"outcome": "ok", "exit": code, "doc": doc}


def _check_summary(doc: dict) -> dict:
    keep = ("check", "status", "message")
    return {"passed": doc.get("passed"), "counts": doc.get("counts", {}), "notes": doc.get("notes", []),
            "behaves_like": doc.get("behaves_like", []), "closest": doc.get("closest"),
            "results": [{k: (r.get(k) or "")[:400] if k == "message" else r.get(k) for k in keep}
                        for r in doc.get("results", []) if r.get("status") not in ("passed", "skipped")]}


def _profile_summary(doc: dict) -> dict:
    th = doc.get("theory", {})
    dyn = {m: {k: r.get(k) for k in ("collapse", "rank", "collapsed", "diverged", "status") if k in r}
           for m, r in (th.get("dynamics") or {}).items()}
    return {"passed": doc.get("passed"), "counts": doc.get("counts", {}), "form": doc.get("form"),
            "graphs": [{k: g.get(k) for k in GRAPH_FIELDS} for g in th.get("graphs", [])],
            "headline": th.get("headline", []), "stop_gradient_verdict": th.get("stop_gradient_verdict"),
            "dynamics": dyn, "dynamics_notes": th.get("dynamics_notes", []), "seconds": doc.get("seconds", {})}


def _option_names(parser_adder) -> set[str]:
    root = argparse.ArgumentParser(add_help=False)
    parser = parser_adder(root.add_subparsers())
    return {s for a in parser._actions for s in a.option_strings}  # noqa: SLF001 - argparse keeps them there


def _check_namespace(args: tuple[str, ...]) -> argparse.Namespace:
    from ssl_props.checker.cli import add_check_arguments

    p = argparse.ArgumentParser(prog="ssl-props check", add_help=False)
    add_check_arguments(p)
    return p.parse_args(list(args))


def _positional_names(target: str, init: dict) -> tuple[str, ...]:
    from ssl_props.checker.cli import load_target

    fn = load_target(target, init)
    call = fn.forward if hasattr(fn, "forward") else fn
    try:
        ps = inspect.signature(call).parameters.values()
    except (TypeError, ValueError):
        return ()
    return tuple(p.name for p in ps if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD))


def profile_args(entry: AtlasEntry) -> tuple[list[str] | None, str]:
    """``(argv after "profile", "")`` for ``entry``, or ``(None, why)`` when a flag its check needs has no
    counterpart in ``ssl-props profile`` (read from the profile's parser, so new profile flags are picked up).

    A detached teacher that is the loss's second view (``--teacher`` with ``--views`` naming it second, or the
    second positional argument) is the profile's ``--predictor`` form (a stop-gradient target).
    """
    tail = ["--no-compare", "--format", "json", "--quiet"]
    if entry.registered:  # by name, with the parameters its check gives the reference
        params = [x for item in _check_namespace(entry.check_args).param for x in ("--param", item)]
        return [entry.registered, *params, *tail], ""
    from ssl_props.checker.cli import parse_params
    from ssl_props.profile.command import add_profile_parser

    opts = _option_names(add_profile_parser)
    ns = _check_namespace(entry.check_args)
    out: list[str] = [ns.target]
    for item in ns.init:
        out += ["--init", item]
    for flag, value in (("--views", ns.views), ("--batch", ns.batch), ("--dim", ns.dim), ("--fixed-seed", ns.fixed_seed)):
        if value is not None:
            out += [flag, str(value)]
    missing: list[str] = []
    for flag, value in (("--crops", ns.crops), ("--input-range", ns.input_range), ("--reduce", ns.reduce)):
        if value is not None:
            (out.extend([flag, str(value)]) if flag in opts else missing.append(f"{flag} {value}"))
    for item in ns.arg:
        if "--arg" in opts:
            out += ["--arg", item]
            continue
        name, _, raw = item.partition("=")
        try:
            ast.literal_eval(raw.strip())
            out += ["--param", item]
        except (ValueError, SyntaxError):
            missing.append(f"--arg {item} (a built tensor)")
    predictor = ns.predictor
    if ns.teacher is not None:
        if "--teacher" in opts:
            out += ["--teacher", ns.teacher] + (["--teacher-detached"] if ns.teacher_detached else [])
        else:
            second = ns.views.split(":")[1].split(",")[-1].split("+") if ns.views and ns.views.startswith("kw:") else None
            if second is None:
                pos = _positional_names(ns.target, parse_params(ns.init, "--init"))
                second = [pos[1]] if len(pos) > 1 else []
            if ns.teacher in second:
                predictor = True
            else:
                missing.append(f"--teacher {ns.teacher} (not the second view, so not a --predictor target)")
    if predictor:
        out.append("--predictor")
    if missing:
        return None, "not run: `ssl-props profile` takes no " + "; ".join(missing)
    return out + tail, ""


def run_entry(spec: dict, timeout: float | None = 120.0) -> dict:
    """Check and profile one loss (``AtlasEntry.to_spec()``); never raises for the loss's sake."""
    entry = AtlasEntry.from_spec(spec)
    res: dict[str, Any] = {"key": entry.key, "runner": RUNNER_VERSION, "check": None, "profile": None,
                           "profile_command": None, "seconds": {}}
    t0 = time.perf_counter()
    step = "check"
    try:
        with _time_limit(timeout):
            r = _run_cli(["check", *entry.check_args, "--format", "json", "--max-examples", str(MAX_EXAMPLES)])
            if r["outcome"] == "ok":
                r["doc"] = _check_summary(r["doc"])
            res["check"] = r
            res["seconds"]["check"] = round(time.perf_counter() - t0, 2)
            step = "profile"
            t1 = time.perf_counter()
            try:
                args, why = profile_args(entry)
            except AtlasTimeout:
                raise
            except BaseException as e:  # noqa: BLE001 - loading the target to read its signature failed
                args, why = None, f"the profile's arguments could not be derived: {_one_line(e)}"
            if args is None:
                res["profile"] = {"outcome": "not run", "line": why}
            else:
                res["profile_command"] = "ssl-props profile " + " ".join(
                    f"'{a}'" if any(c in a for c in " ()*;") else a for a in args if a != "--quiet")
                r = _run_cli(["profile", *args])
                if r["outcome"] == "ok":
                    r["doc"] = _profile_summary(r["doc"])
                res["profile"] = r
            res["seconds"]["profile"] = round(time.perf_counter() - t1, 2)
    except AtlasTimeout:
        line = f"timed out after {timeout:g} s"
        res[step] = {"outcome": "timed out", "line": line}
        if step == "check":
            res["profile"] = {"outcome": "not run", "line": f"not run: the check {line}"}
    res["seconds"]["total"] = round(time.perf_counter() - t0, 2)
    return res
