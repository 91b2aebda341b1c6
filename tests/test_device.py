"""The one device switch."""
from __future__ import annotations

import pytest
import torch

from ssl_props import InvalidArgument
from ssl_props.device import resolve_device


def test_default_is_cpu(monkeypatch):
    monkeypatch.delenv("SSL_PROPS_DEVICE", raising=False)
    assert resolve_device() == torch.device("cpu")


def test_auto(monkeypatch):
    monkeypatch.setenv("SSL_PROPS_DEVICE", "auto")
    assert resolve_device().type == ("cuda" if torch.cuda.is_available() else "cpu")


@pytest.mark.skipif(torch.cuda.is_available(), reason="checks the message on a machine without CUDA")
def test_cuda_unavailable_is_a_clear_error():
    with pytest.raises(InvalidArgument, match="CUDA is not available"):
        resolve_device("cuda")


def test_unknown_device():
    with pytest.raises(InvalidArgument, match="unknown device 'gpu0'"):
        resolve_device("gpu0")
