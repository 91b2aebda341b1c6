"""One switch for the device and dtype every numeric routine uses.

The device comes from, in order: an explicit argument, the ``SSL_PROPS_DEVICE`` environment variable
(``cpu``, ``cuda``, ``cuda:1``, ``auto``), and otherwise ``cpu``. The pytest option ``--ssl-device`` sets
the variable once for the whole run. Nothing in ssl_props names ``cuda`` directly.
"""
from __future__ import annotations

import os

import torch

from ssl_props._validation import InvalidArgument

ENV_VAR = "SSL_PROPS_DEVICE"
DEFAULT_DTYPE = torch.float64  # identities are checked in float64 (see ssl_props.tolerances)


def resolve_device(spec: str | torch.device | None = None) -> torch.device:
    """Return the torch device named by ``spec``, ``$SSL_PROPS_DEVICE`` or ``cpu``.

    ``auto`` picks CUDA when available, else CPU. Asking for CUDA on a machine without it raises
    :class:`InvalidArgument` rather than failing later inside torch.
    """
    if isinstance(spec, torch.device):
        return spec
    name = (spec or os.environ.get(ENV_VAR) or "cpu").strip().lower()
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    try:
        dev = torch.device(name)
    except RuntimeError:
        raise InvalidArgument(f"unknown device {name!r}: use cpu, cuda, cuda:N or auto (from {ENV_VAR} or --ssl-device)") from None
    if dev.type == "cuda" and not torch.cuda.is_available():
        raise InvalidArgument(f"device {name!r} was requested but CUDA is not available here; use cpu or auto")
    return dev


def default_device() -> torch.device:
    """The device chosen for this run (see :func:`resolve_device`)."""
    return resolve_device(None)
