"""``ssl-props profile TARGET [--format text|markdown|json] [--figures DIR]``.

``TARGET`` is ``PATH.py:FUNC`` or ``package.module:attr`` (loaded like ``ssl-props check``: a class is
constructed with ``--init KEY=VALUE``; ``--views`` pins the calling convention, detected otherwise;
``--batch``/``--dim`` the sizes its pre-flight tries; ``--predictor`` a ``loss(p, z)`` with a stop-gradient
target), a spectral reference (``vicreg_spectral``, ``simclr_graph``, ``barlow_twins_graph``) or a
registered loss name. ``--param KEY=VALUE`` is a keyword argument of the loss *call*. Exit codes:
0 every theory check whose assumptions hold passed, 1 one failed, 2 a usage or input error (one line on
stderr naming the step and the graph or seed, no traceback).
"""
from __future__ import annotations

import argparse

from ssl_props.errors import InvalidArgument, UsageError

__all__ = ["add_profile_parser", "run_profile_command"]


def add_profile_parser(sub) -> argparse.ArgumentParser:
    """Register the ``profile`` subcommand on an ``argparse`` subparsers object."""
    pp = sub.add_parser("profile", help="what the theory says about a loss: its optimum on relation graphs, its linear dynamics")
    pp.add_argument("target", help="PATH.py:FUNC, package.module:attr, a spectral reference or a registered loss name")
    pp.add_argument("--param", action="append", default=[], metavar="KEY=VALUE",
                    help="keyword argument of the loss call (a class's constructor arguments go to --init)")
    pp.add_argument("--init", action="append", default=[], metavar="KEY=VALUE",
                    help="constructor argument of a class target (Python literal), as for `ssl-props check`")
    pp.add_argument("--form", choices=("pair", "predictor", "graph"), default=None,
                    help="fn(z1, z2), fn(p, z) or fn(Z, G) (default: from the signature)")
    pp.add_argument("--predictor", action="store_true",
                    help="a predictor loss used as loss(p, z) with a stop-gradient target (same as --form predictor)")
    pp.add_argument("--views", default=None, metavar="CONVENTION",
                    help="how the loss takes two views (as for `ssl-props check`; detected when omitted)")
    pp.add_argument("--batch", type=int, default=None, metavar="N", help="batch size for detecting the calling convention")
    pp.add_argument("--dim", type=int, default=None, metavar="D", help="embedding width for detecting the calling convention")
    pp.add_argument("--fixed-seed", type=int, default=None, metavar="N",
                    help="reseed torch's generator with N before every call (a loss drawing at random, as for `ssl-props check`)")
    pp.add_argument("--format", choices=("text", "markdown", "json"), default="text")
    pp.add_argument("--figures", default=None, metavar="DIR", help="write the figures into DIR")
    pp.add_argument("--starts", type=int, default=16)
    pp.add_argument("--no-dynamics", action="store_true", help="skip the linear-dynamics part")
    pp.add_argument("--no-compare", action="store_true", help="do not compare with the spectral references")
    pp.add_argument("--ssl-device", default=None)
    pp.add_argument("--quiet", action="store_true", help="no progress bar")
    pp.set_defaults(func=run_profile_command)
    return pp


def _accepts(fn, params: dict) -> bool:
    """Whether ``fn`` takes every key of ``params`` as a keyword argument."""
    import inspect

    try:
        ps = inspect.signature(fn).parameters
    except (TypeError, ValueError):
        return True
    return any(p.kind is p.VAR_KEYWORD for p in ps.values()) or all(k in ps for k in params)


def run_profile_command(args: argparse.Namespace) -> int:
    """Entry point of ``ssl-props profile``."""
    from ssl_props.checker.cli import load_target, parse_params
    from ssl_props.losses import LOSSES
    from ssl_props.profile.graph_losses import REFERENCES
    from ssl_props.profile.run import profile_loss
    import torch

    named = args.target in REFERENCES or args.target in LOSSES
    init = parse_params(args.init, "--init")
    if named and init:
        raise UsageError(f"--init constructs a class target; {args.target} is a registered name: pass its parameters with --param")
    target = args.target if named else load_target(args.target, init)
    params = parse_params(args.param)
    if params and isinstance(target, torch.nn.Module) and not _accepts(target.forward, params):
        keys = ", ".join(f"{k}={v!r}" for k, v in params.items())
        raise UsageError(f"--param {keys} would be passed to {type(target).__name__}.forward(); constructor arguments "
                         f"go to --init ({' '.join(f'--init {k}={v!r}' for k, v in params.items())})")
    if args.predictor and args.form not in (None, "predictor"):
        raise UsageError(f"--predictor contradicts --form {args.form}")
    form = "predictor" if args.predictor else args.form
    try:
        prof = profile_loss(target, params=params, form=form, starts=args.starts,
                            dynamics=False if args.no_dynamics else None, compare=not args.no_compare,
                            device=args.ssl_device, progress=False if args.quiet else None, views=args.views,
                            shapes=(args.batch, args.dim), fixed_seed=args.fixed_seed)
        if args.figures:
            from ssl_props.profile.figures import write_figures

            refs = {} if args.no_compare else {r: profile_loss(r, dynamics=False, compare=False, device=args.ssl_device,
                                                                progress=False) for r in REFERENCES if r != prof.reference}
            write_figures(prof, args.figures, refs)
    except InvalidArgument as e:
        raise UsageError(str(e)) from None
    print(prof.render(args.format))
    return 0 if prof.passed else 1
