"""One switch for the device and dtype every numeric routine uses.

The device comes from, in order: an explicit argument, the ``SSL_PROPS_DEVICE`` environment variable
(``cpu``, ``cuda``, ``cuda:1``, ``auto``), and otherwise ``cpu``. The pytest option ``--ssl-device`` sets
the variable once for the whole run. Nothing in ssl_props names ``cuda`` directly.
"""
from __future__ import annotations

import contextlib
import os
from typing import Iterator

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


#: below this many elements per batched operation a torch op runs in microseconds, less than the
#: intra-op pool's hand-off; measured on the project's 2-core CPU: the profile's tiny problems (S·N·K ≤ 2¹⁴)
#: took 10-30x longer with torch's default 2 threads than with one (issue 20: NT-Xent 157-203 s vs 14 s)
SMALL_PROBLEM_ELEMENTS = 1 << 20


@contextlib.contextmanager
def threads_for(elements: int) -> Iterator[int]:
    """Choose torch's intra-op threads for a problem whose largest batched tensor has ``elements`` entries:
    one thread below :data:`SMALL_PROBLEM_ELEMENTS` (thread hand-offs dominate there), torch's default above.
    The previous setting is restored on exit; yields the number of threads used."""
    before = torch.get_num_threads()
    n = 1 if elements < SMALL_PROBLEM_ELEMENTS else before
    torch.set_num_threads(n)
    try:
        yield n
    finally:
        torch.set_num_threads(before)
