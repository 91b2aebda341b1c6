"""``ssl-props profile TARGET [--format text|markdown|json] [--figures DIR]``.

``TARGET`` is ``PATH.py:FUNC`` (loaded like ``ssl-props check``), a spectral reference
(``vicreg_spectral``, ``simclr_graph``, ``barlow_twins_graph``) or a registered loss name. Exit codes:
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
    pp.add_argument("target", help="PATH.py:FUNC, a spectral reference or a registered loss name")
    pp.add_argument("--param", action="append", default=[], metavar="KEY=VALUE", help="keyword argument of the loss")
    pp.add_argument("--form", choices=("pair", "predictor", "graph"), default=None,
                    help="fn(z1, z2), fn(p, z) or fn(Z, G) (default: from the signature)")
    pp.add_argument("--format", choices=("text", "markdown", "json"), default="text")
    pp.add_argument("--figures", default=None, metavar="DIR", help="write the figures into DIR")
    pp.add_argument("--starts", type=int, default=16)
    pp.add_argument("--no-dynamics", action="store_true", help="skip the linear-dynamics part")
    pp.add_argument("--no-compare", action="store_true", help="do not compare with the spectral references")
    pp.add_argument("--ssl-device", default=None)
    pp.add_argument("--quiet", action="store_true", help="no progress bar")
    pp.set_defaults(func=run_profile_command)
    return pp


def run_profile_command(args: argparse.Namespace) -> int:
    """Entry point of ``ssl-props profile``."""
    from ssl_props.checker.cli import load_target, parse_params
    from ssl_props.losses import LOSSES
    from ssl_props.profile.graph_losses import REFERENCES
    from ssl_props.profile.run import profile_loss

    target = args.target if (args.target in REFERENCES or args.target in LOSSES) else load_target(args.target)
    params = parse_params(args.param)
    try:
        prof = profile_loss(target, params=params, form=args.form, starts=args.starts,
                            dynamics=False if args.no_dynamics else None, compare=not args.no_compare,
                            device=args.ssl_device, progress=False if args.quiet else None)
        if args.figures:
            from ssl_props.profile.figures import write_figures

            refs = {} if args.no_compare else {r: profile_loss(r, dynamics=False, compare=False, device=args.ssl_device,
                                                                progress=False) for r in REFERENCES if r != prof.reference}
            write_figures(prof, args.figures, refs)
    except InvalidArgument as e:
        raise UsageError(str(e)) from None
    print(prof.render(args.format))
    return 0 if prof.passed else 1
