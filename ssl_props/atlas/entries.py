"""The losses of the atlas and the ``ssl-props check`` command of each.

Three sources: every registered loss (:data:`ssl_props.losses.LOSSES`, checked with ``--like`` its own
name), and every lightly 1.6.0 and solo-learn 1.0.2 loss of ``scripts/real_losses.py`` (the single source
of ``docs/real-losses.md``: its command, flags only, and why each check that still fails fails). The
script is read from the repository (``ssl_props`` is installed editable); without it the atlas holds the
registered losses only and says so.
"""
from __future__ import annotations

import fnmatch
import shlex
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType

__all__ = ["AtlasEntry", "REPO_ROOT", "REAL_LOSSES_SCRIPT", "all_entries", "registered_entries", "real_entries",
           "select", "load_real_losses_script"]

REPO_ROOT = Path(__file__).resolve().parents[2]
REAL_LOSSES_SCRIPT = REPO_ROOT / "scripts" / "real_losses.py"
#: what ``--max-examples`` every check runs with (the budget of docs/real-losses.md: flags, not the budget, decide)
MAX_EXAMPLES = 5


@dataclass(frozen=True)
class AtlasEntry:
    """One loss of the atlas.

    ``key`` is unique (``ssl-props:simclr``, ``lightly:lightly.loss:NTXentLoss``); ``check_args`` is the argv
    of ``ssl-props check`` after ``check`` (the target first); ``failures`` maps a check pattern to
    ``(defect | design, why)`` as ``scripts/real_losses.py`` declares it.
    """

    key: str
    name: str
    source: str  # "ssl-props" | "lightly" | "solo-learn"
    package: str  # the distribution whose version the row reports
    target: str
    check_args: tuple[str, ...]
    failures: dict[str, tuple[str, str]] = field(default_factory=dict)
    note: str = ""
    registered: str | None = None  # the registered name (registry rows): the profile takes it by name
    shown: str = ""  # the command as docs/real-losses.md prints it (scripts/real_losses.py's Entry.command())

    def check_command(self) -> str:
        """The documented command, as a user types it (a POSIX shell line)."""
        return self.shown or " ".join(["ssl-props check", *(shlex.quote(a) for a in self.check_args)])

    def explain(self, check: str) -> tuple[str, str] | None:
        """``(defect | design, why)`` for a failing check id, when the entry explains it."""
        for pattern, why in self.failures.items():
            if check == pattern or fnmatch.fnmatchcase(check, pattern):
                return why
        return None

    def to_spec(self) -> dict:
        """Everything that decides this entry's result (part of its cache key; picklable for the pool)."""
        return {"key": self.key, "name": self.name, "source": self.source, "package": self.package,
                "target": self.target, "check_args": list(self.check_args),
                "failures": {k: list(v) for k, v in self.failures.items()}, "note": self.note,
                "registered": self.registered, "shown": self.shown}

    @classmethod
    def from_spec(cls, spec: dict) -> "AtlasEntry":
        return cls(spec["key"], spec["name"], spec["source"], spec["package"], spec["target"],
                   tuple(spec["check_args"]), {k: tuple(v) for k, v in spec["failures"].items()}, spec.get("note", ""),
                   spec.get("registered"), spec.get("shown", ""))


#: flags a registered loss needs, as lightly's counterpart in docs/real-losses.md: W-MSE whitens with the batch
#: covariance, singular unless the batch exceeds the dimension (the pre-flight's 4×8 and 6×6 are not) and on
#: collapsed batches unless eps > 0; its whitening, not the loss alone, prevents collapse
REGISTERED_PINS = {"wmse": ("--batch", "8", "--dim", "4", "--arg", "eps=0.01", "--param", "eps=0.01",
                            "--collapse-elsewhere", "W-MSE prevents collapse with its whitening")}


def registered_entries() -> list[AtlasEntry]:
    """Every registered loss, checked against itself: ``ssl-props check ssl_props.losses:NAME --like NAME``
    (plus :data:`REGISTERED_PINS`)."""
    from ssl_props.losses import LOSSES

    out = []
    for name, info in LOSSES.items():
        design = {check: ("design", why) for check, why in info.expected_failures.items()}
        out.append(AtlasEntry(f"ssl-props:{name}", name, "ssl-props", "ssl-props", f"ssl_props.losses:{name}",
                              (f"ssl_props.losses:{name}", "--like", name, *REGISTERED_PINS.get(name, ())), design,
                              (info.reference or "").split(",")[0].lstrip("[0123456789] ").strip(), registered=name))
    return out


def load_real_losses_script(path: Path = REAL_LOSSES_SCRIPT) -> ModuleType | None:
    """``scripts/real_losses.py`` as a module (registered in ``sys.modules``: its dataclasses look it up), or None."""
    if not path.is_file():
        return None
    from ssl_props.checker.cli import load_module_file  # one module-file loader for the checker and the atlas

    return load_module_file("atlas_real_losses", str(path))


def real_entries(script: ModuleType | None = None) -> list[AtlasEntry]:
    """The lightly and solo-learn losses of ``scripts/real_losses.py`` with their documented flags."""
    mod = script if script is not None else load_real_losses_script()
    if mod is None:
        return []
    out = []
    for e in mod.ENTRIES:
        package = {"lightly": "lightly", "solo-learn": "solo-learn"}.get(e.library, e.library)
        out.append(AtlasEntry(f"{e.library}:{e.target}", e.target.split(":")[-1], e.library, package, e.target,
                              (e.target, *e.flags), dict(e.failures), e.note, shown=e.command()))
    return out


def all_entries() -> list[AtlasEntry]:
    """Registered losses first, then lightly's, then solo-learn's (the page's order)."""
    return registered_entries() + real_entries()


def select(entries: list[AtlasEntry], only: str | None) -> list[AtlasEntry]:
    """The entries whose key contains one of the comma-separated patterns of ``only`` (case-insensitive), or
    matches it as a glob pattern."""
    if not only:
        return list(entries)
    pats = [p.strip().lower() for p in only.split(",") if p.strip()]
    return [e for e in entries if any(p in e.key.lower() or fnmatch.fnmatchcase(e.key.lower(), p) for p in pats)]
