"""Records of a check run and their renderings (text, markdown, JSON).

JSON schema ``ssl-props/check-report/v1`` (stable: fields are only ever added, under a new version)::

    {
      "schema": "ssl-props/check-report/v1",
      "loss": "my_simclr",                 # name of the checked function
      "like": "simclr" | null,             # registered loss it was compared with
      "params": {"temperature": 0.5},      # parameters of that reference
      "device": "cpu",
      "passed": true,                      # no check failed (xfailed/skipped/warning do not count; warning does under strict)
      "strict": false,                     # warnings count as failures (--strict)
      "counts": {"passed": 14, "failed": 0, "skipped": 1, "xfailed": 0, "xpassed": 0, "warning": 1},
      "notes": ["stateful: C change across calls ..."],   # what the pre-flight found (convention, dtype, state)
                                           # and the checks the loss's shape drops, with the reason
      "behaves_like": [{"name": "simclr", "params": {...}, "factor": 1.0}],   # exact (factor 1) or scaled matches;
                                           # "fitted": "weights" | PARAM when the params were fitted (issue 21)
      "closest": {"name": "dcl", "params": {...}, "max_relative_difference": 0.12} | null,  # nearest non-match
      "results": [
        {"check": "check_view_symmetry",   # test id: function name plus keyword variants
         "status": "passed" | "failed" | "skipped" | "xfailed" | "xpassed" | "warning",
         "passed": true,                   # status in (passed, skipped, xfailed, warning)
         "message": "...",                 # the evidence (or the reason for a skip / xfail)
         "counterexample": {"n": 2, "d": 3, "kind": "gaussian", "scale": 1.0, "seed": 0, "view": "noise"} | null,
         "source": "Garrido et al. 2023, Definition 3.2",   # theorem or convention the check comes from
         "duration_s": 0.01}
      ]
    }

A counterexample rebuilds with ``ssl_props.checker.Case(**counterexample).build()``.
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any, Literal

SCHEMA = "ssl-props/check-report/v1"
Status = Literal["passed", "failed", "skipped", "xfailed", "xpassed", "warning"]
#: a warning is a failure on inputs outside the formula's domain (ssl_props.checker._target.SEVERITY_RULE)
_OK: tuple[str, ...] = ("passed", "skipped", "xfailed", "warning")


@dataclass(frozen=True)
class CheckResult:
    """Outcome of one check on one loss."""

    check: str  # id: "check_finite_gradients(kind=collapsed)"
    status: Status
    message: str = ""
    counterexample: dict[str, Any] | None = None
    source: str = ""
    duration_s: float = 0.0

    @property
    def passed(self) -> bool:
        """True unless the check failed (or an expected failure unexpectedly passed)."""
        return self.status in _OK

    def to_dict(self) -> dict[str, Any]:
        return {"check": self.check, "status": self.status, "passed": self.passed, "message": self.message,
                "counterexample": self.counterexample, "source": self.source,
                "duration_s": round(self.duration_s, 4)}


@dataclass
class CheckReport:
    """All results of :func:`ssl_props.checker.check_loss` on one loss."""

    loss: str
    like: str | None = None
    params: dict[str, Any] = field(default_factory=dict)
    device: str = "cpu"
    results: list[CheckResult] = field(default_factory=list)
    behaves_like: list[dict[str, Any]] = field(default_factory=list)
    closest: dict[str, Any] | None = None  # nearest registered loss when nothing matches
    notes: list[str] = field(default_factory=list)  # what the pre-flight found
    strict: bool = False  # warnings count as failures

    @property
    def passed(self) -> bool:
        return all(r.passed and not (self.strict and r.status == "warning") for r in self.results)

    @property
    def failures(self) -> list[CheckResult]:
        return [r for r in self.results if not r.passed or (self.strict and r.status == "warning")]

    def __getitem__(self, check: str) -> CheckResult:
        """The result whose id is ``check`` (or, if unique, starts with ``check``)."""
        hits = [r for r in self.results if r.check == check] or [r for r in self.results if r.check.startswith(check)]
        if len(hits) != 1:
            raise KeyError(f"{check!r} matches {len(hits)} checks; ids: {[r.check for r in self.results]}")
        return hits[0]

    def counts(self) -> dict[str, int]:
        keys = ("passed", "failed", "skipped", "xfailed", "xpassed", "warning")
        return {k: sum(r.status == k for r in self.results) for k in keys}

    def to_dict(self) -> dict[str, Any]:
        return {"schema": SCHEMA, "loss": self.loss, "like": self.like, "params": _jsonable(self.params),
                "device": self.device, "passed": self.passed, "strict": self.strict, "counts": self.counts(),
                "notes": list(self.notes),
                "behaves_like": _jsonable(self.behaves_like),
                "closest": _jsonable(self.closest), "results": [r.to_dict() for r in self.results]}

    def to_json(self, indent: int | None = 2) -> str:
        return json.dumps(self.to_dict(), indent=indent)

    def render(self, fmt: str = "text") -> str:
        """The report as ``text``, ``markdown`` or ``json``."""
        if fmt == "json":
            return self.to_json()
        against = f" against {self.like}{_params(self.params)}" if self.like else ""
        c = self.counts()
        summary = ", ".join(f"{v} {k}" for k, v in c.items() if v)
        notes = [f"note: {n}" for n in self.notes]
        like = "; ".join(_fmt_match(m) for m in self.behaves_like) or "no registered loss" + (
            f" (closest: {self.closest['name']}{_params(self.closest['params'])}, max relative difference "
            f"{self.closest['max_relative_difference']:.3g})" if self.closest else "")
        if fmt == "markdown":
            out = [f"## ssl-props check: `{self.loss}`{against}", "",
                   f"**{'PASSED' if self.passed else 'FAILED'}** ({summary}); behaves like: {like}", "",
                   *[f"- {n}" for n in self.notes], *([""] if self.notes else []),
                   "| check | status | message | source |", "|---|---|---|---|"]
            for r in self.results:
                msg = r.message.replace("|", "\\|").replace("\n", " ")
                if r.counterexample:
                    msg += f" (counterexample: `{r.counterexample}`)"
                out.append(f"| `{r.check}` | {r.status} | {msg} | {r.source} |")
            return "\n".join(out)
        out = [f"ssl-props check: {self.loss}{against} on {self.device}: {'PASSED' if self.passed else 'FAILED'} ({summary})",
               f"behaves like: {like}", *notes]
        crashes: dict[str, list[str]] = {}  # one crash, reported once: "raised X: msg" → the checks it failed
        for r in self.results:
            key = _crash_key(r)
            if key is not None and key in crashes:
                crashes[key].append(r.check)
                continue
            if key is not None:
                crashes[key] = []
            out.append(f"  [{r.status.upper():7}] {r.check}" + (f": {r.message}" if r.message else ""))
            if r.counterexample and not r.passed:
                out.append(f"            counterexample: {r.counterexample}")
        for key, more in crashes.items():
            if more:
                out.append(f"  the same error ({key}) also failed {len(more)} more checks: {', '.join(more)}")
        return "\n".join(out)

    def __str__(self) -> str:
        return self.render("text")


def _crash_key(r: CheckResult) -> str | None:
    """``"_LinAlgError: linalg.cholesky"`` for a failure whose message says the loss raised (digits dropped)."""
    if r.status != "failed" or "raised " not in r.message:
        return None
    head = r.message.split("raised ", 1)[1].split(" on input")[0]
    return "".join(ch for ch in head.split("(")[0] if not ch.isdigit()).strip()[:120]


def _params(p: dict[str, Any]) -> str:
    return "(" + ", ".join(f"{k}={v!r}" for k, v in p.items()) + ")" if p else ""


def _fmt_match(m: dict[str, Any]) -> str:
    f = m.get("factor", 1.0)
    return (f"{f:.6g} × " if abs(f - 1.0) > 1e-9 else "") + f"{m['name']}{_params(m.get('params', {}))}"


def _jsonable(x: Any) -> Any:
    if isinstance(x, dict):
        return {str(k): _jsonable(v) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return [_jsonable(v) for v in x]
    if isinstance(x, (str, int, float, bool)) or x is None:
        return x
    return repr(x)
