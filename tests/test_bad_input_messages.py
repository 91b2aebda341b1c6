"""Bad input gets one clear line naming the problem.

Each row calls a public function with one bad argument and expects :class:`InvalidArgument` whose
message is a single line that names the offending parameter exactly (and, for ``one_hot``, describes
what was received). Edge values the checks must still accept are tested last.
"""
from __future__ import annotations

import re

import pytest
import torch

from ssl_props import graphs, spectral
from ssl_props.dynamics.simulate import SimConfig
from ssl_props.errors import InvalidArgument
from ssl_props.losses import LOSSES


def _z(n: int = 4, d: int = 3, seed: int = 0) -> torch.Tensor:
    return torch.randn(n, d, generator=torch.Generator().manual_seed(seed), dtype=torch.float64)


def _loss(name: str, a: torch.Tensor, b: torch.Tensor, **params: object) -> object:
    return LOSSES[name].fn(a, b, **params)


_G3 = graphs.augmentation_graph(1, 3)  # 3x3 complete graph, a valid relation matrix
_BAD_LABELS = torch.zeros(2, 2, dtype=torch.int64)

CASES = [
    ("simsiam-p-1d", lambda: _loss("simsiam", torch.ones(4, dtype=torch.float64), _z()),
     r"^p must be a 2-d tensor of shape \(batch, dim\), got 1-d "),
    ("vicreg_ctr-tau-0", lambda: _loss("vicreg_ctr", _z(), _z(seed=1), tau=0.0),
     r"^tau must be a finite number > 0, got tau=0\.0$"),
    ("dcl_abs-temperature-neg", lambda: _loss("dcl_abs", _z(), _z(seed=1), temperature=-1.0),
     r"^temperature must be a finite number > 0, got temperature=-1\.0$"),
    ("vicreg_closed_form-beta-neg", lambda: spectral.vicreg_closed_form(_G3, 1, beta=-1.0),
     r"^beta must be a finite number > 0, got beta=-1\.0$"),
    ("one_hot-labels-2d", lambda: graphs.one_hot(_BAD_LABELS),
     r"^labels must be a non-empty 1-d tensor of integers >= 0, got "
     + re.escape("Tensor[shape=(2, 2), dtype=int64, device=cpu]") + "$"),
    ("weighted_graphs-n-reversed", lambda: graphs.weighted_graphs(n=(5, 3)),
     r"^Cannot have max n=3 < min n=5$"),
    ("labelled_graphs-n_classes-reversed", lambda: graphs.labelled_graphs(n_classes=(3, 2)),
     r"^Cannot have max n_classes=2 < min n_classes=3$"),
    ("labelled_graphs-n_classes-too-small", lambda: graphs.labelled_graphs(n_classes=(1, 1)),
     r"^n_classes must be >= 2, got n_classes=\(1, 1\)$"),
    ("emp_ssl-z1-one-row", lambda: _loss("emp_ssl", _z(1), _z(1, seed=1)),
     r"^z1 needs a batch of at least 2 rows, got Tensor\[shape=\(1, 3\)"),
    ("SimConfig-dt-bool", lambda: SimConfig(t_end=1.0, dt=True),
     r"^SimConfig\.dt must be a finite number > 0, got dt=True$"),
    ("tico-beta-1.5", lambda: _loss("tico", _z(), _z(seed=1), beta=1.5),
     r"^beta must be in \[0, 1\], got beta=1\.5$"),
]


@pytest.mark.parametrize("call, pattern", [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_bad_input_raises_one_line_naming_it(call, pattern):
    with pytest.raises(InvalidArgument, match=pattern) as info:
        call()
    assert "\n" not in str(info.value)


def test_vicreg_linear_closed_form_accepts_two_rows():
    x = torch.tensor([[0.0], [1.0]], dtype=torch.float64)
    w = spectral.vicreg_linear_closed_form(x, graphs.augmentation_graph(1, 2), 1)
    assert w.shape == (1, 1) and bool(torch.isfinite(w).all())
