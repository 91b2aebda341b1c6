"""solo-learn 1.0.2's loss functions, loaded by file: its package ``__init__`` imports heavy optional
dependencies (installed with ``--no-deps`` in ``.venv-conformance``), its ``solo/losses/*.py`` need only torch."""
from __future__ import annotations

import importlib.util
import sysconfig
from pathlib import Path
from types import ModuleType
from typing import Any

__all__ = ["solo_losses_dir", "load_solo_module", "load_solo_loss"]


def solo_losses_dir() -> Path | None:
    """``<site-packages>/solo/losses`` when solo-learn is installed, else ``None``."""
    d = Path(sysconfig.get_paths()["purelib"]) / "solo" / "losses"
    return d if d.is_dir() else None


def load_solo_module(name: str) -> ModuleType:
    """``solo/losses/<name>.py`` as a module of its own (``ssl_props_solo_<name>``), without importing ``solo``."""
    d = solo_losses_dir()
    if d is None:
        raise ImportError("solo-learn is not installed: `pip install --no-deps solo-learn==1.0.2` (make conformance does)")
    spec = importlib.util.spec_from_file_location(f"ssl_props_solo_{name}", d / f"{name}.py")
    assert spec is not None and spec.loader is not None
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def load_solo_loss(name: str, attr: str) -> Any:
    """``load_solo_loss("vicreg", "vicreg_loss_func")``."""
    return getattr(load_solo_module(name), attr)
