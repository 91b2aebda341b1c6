"""The theorem registry: one declarative record per numbered result of a paper.

Note [Theorem registry]
-----------------------
Why: a theorem of an SSL paper becomes a set of executable checks. Keeping the record (citation,
statement, assumptions, checks) in one place makes it the single source for the tests' ids, the
``python -m ssl_props list`` table, ``docs/theorems.md`` and the report. Nothing else keeps a
hand-written list of theorems.

What a record causes to be tested: every :class:`Check` in ``Theorem.checks`` becomes one pytest
test with id ``"{theorem.id}::{check.name}"`` (see ``theorems/``), and one row of the report.

* ``symbolic`` checks prove an algebraic statement with sympy (they raise if sympy disagrees);
* ``numeric`` checks draw inputs with Hypothesis and check the claim with torch on the chosen
  device in float64, with a tolerance derived in :mod:`ssl_props.tolerances`;
* ``necessity`` checks take one assumption of the result away and show the claim then fails:
  they return the counterexample they found (and raise if they found none).

A check may name its independent side in ``oracle`` (``"scikit-learn CCA (NIPALS, ...)"``, ``"batched L-BFGS
(ours), certified ..."``): the report lists it per check and ``docs/theorems.md`` per result.

A check is a zero-argument callable for the runner. Checks that are properties of an implementation
accept keyword overrides of the functions they test (``check(lc=buggy_lc)``), which is how
``tests/`` shows that each property can fail.

How to add a paper: make a package ``ssl_props/papers/<paper key>/`` (the folder's name is the paper
key, e.g. ``garrido2023``) whose ``__init__`` imports its ``records`` module, which defines a
:class:`Paper` and calls :func:`register` once per result; the package is discovered automatically.
Then add ``theorems/test_<firstauthor><year>_<topic>.py`` with two lines (see the existing ones).
"""
from __future__ import annotations

import dataclasses
import importlib
import pkgutil
from dataclasses import dataclass
from typing import Any, Callable, Iterator, Literal

CheckKind = Literal["symbolic", "numeric", "necessity"]
ResultKind = Literal["definition", "lemma", "proposition", "theorem", "corollary", "equation", "claim",
                     "remark", "erratum"]


@dataclass(frozen=True)
class Paper:
    """Citation of a paper whose results are registered."""

    key: str  # "garrido2023": first author + year, the prefix of every theorem id
    authors: tuple[str, ...]
    title: str
    venue: str
    year: int
    arxiv: str  # arXiv identifier, e.g. "2206.02574"

    @property
    def url(self) -> str:
        return f"https://arxiv.org/abs/{self.arxiv}"

    def cite(self) -> str:
        first = self.authors[0].split()[-1]
        etal = " et al." if len(self.authors) > 2 else (f" & {self.authors[1].split()[-1]}" if len(self.authors) == 2 else "")
        return f"{first}{etal} ({self.year}), {self.title}, {self.venue}, arXiv:{self.arxiv}"


@dataclass(frozen=True)
class Check:
    """One executable check of a result.

    ``run()`` raises ``AssertionError`` (or a Hypothesis failure) when the claim is refuted; a
    necessity check returns the counterexample it found (a short description) when the claim, without
    ``assumption``, indeed fails.
    """

    kind: CheckKind
    name: str  # short, unique within its theorem and kind: "identity", "drop_normalisation"
    run: Callable[..., Any]
    doc: str = ""  # one line: what is checked
    assumption: str | None = None  # necessity checks: the assumption that is dropped
    oracle: str | None = None  # the independent (external) side of the comparison: "scikit-learn spectral_embedding", ...

    def __post_init__(self) -> None:
        if self.kind == "necessity" and not self.assumption:
            raise ValueError(f"necessity check {self.name!r} must name the assumption it drops")


@dataclass(frozen=True)
class Theorem:
    """A numbered result of a paper, its statement and the checks that encode it."""

    id: str  # "<paper.key>.<kind><number>[/<variant>]", e.g. "garrido2023.thm3.3"
    paper: Paper
    number: str  # as printed in the paper: "Theorem 3.3", "Lemma 3.4"
    kind: ResultKind
    title: str  # a few words
    statement: str  # one plain sentence, our words
    formula: str = ""  # the formula, plain text / LaTeX
    assumptions: tuple[str, ...] = ()
    checks: tuple[Check, ...] = ()
    related: tuple[str, ...] = ()  # ids of results this one generalises / corrects / uses
    provenance: str = "checked against the paper's text"  # or what is reconstructed and why

    def checks_of(self, kind: CheckKind) -> tuple[Check, ...]:
        return tuple(c for c in self.checks if c.kind == kind)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready view of the record (used by ``list --format json`` and the report)."""
        return {
            "id": self.id,
            "paper": {**dataclasses.asdict(self.paper), "authors": list(self.paper.authors)},
            "number": self.number,
            "kind": self.kind,
            "title": self.title,
            "statement": self.statement,
            "formula": self.formula,
            "assumptions": list(self.assumptions),
            "related": list(self.related),
            "provenance": self.provenance,
            "checks": [{"kind": c.kind, "name": c.name, "doc": c.doc, "assumption": c.assumption, "oracle": c.oracle}
                       for c in self.checks],
        }


_THEOREMS: dict[str, Theorem] = {}


def register(theorem: Theorem) -> Theorem:
    """Add ``theorem`` to the registry (ids must be unique; every assumption needs a necessity check)."""
    if theorem.id in _THEOREMS:
        raise ValueError(f"duplicate theorem id {theorem.id!r}")
    if not theorem.id.startswith(theorem.paper.key + "."):
        raise ValueError(f"theorem id {theorem.id!r} must start with its paper key {theorem.paper.key!r}")
    names = [(c.kind, c.name) for c in theorem.checks]
    if len(set(names)) != len(names):
        raise ValueError(f"{theorem.id}: duplicate (kind, name) among checks {names}")
    dropped = {c.assumption for c in theorem.checks_of("necessity")}
    missing = [a for a in theorem.assumptions if a not in dropped]
    if missing:
        raise ValueError(f"{theorem.id}: assumptions without a necessity check: {missing}")
    _THEOREMS[theorem.id] = theorem
    return theorem


PAPERS_PACKAGE = "ssl_props.papers"


def paper_keys() -> tuple[str, ...]:
    """The keys of the paper packages under :data:`PAPERS_PACKAGE` (found on disk, never listed by hand)."""
    papers = importlib.import_module(PAPERS_PACKAGE)
    return tuple(sorted(m.name for m in pkgutil.iter_modules(papers.__path__) if m.ispkg and not m.name.startswith("_")))


def load_papers(paper: str | None = None) -> None:
    """Import the paper packages: only ``papers/<paper>/`` when a paper key is given (one paper's tests
    never depend on another's package), else every one. Importing a package registers its results
    (and its figures)."""
    for name in paper_keys() if paper is None else [n for n in paper_keys() if n == paper]:
        importlib.import_module(f"{PAPERS_PACKAGE}.{name}")



def all_theorems(paper: str | None = None) -> tuple[Theorem, ...]:
    """Every registered theorem (optionally of one paper key): papers in key order, each in registration order."""
    load_papers(paper)
    order = {key: i for i, key in enumerate(paper_keys())}  # papers by key, whatever imported them first
    chosen = [t for t in _THEOREMS.values() if paper is None or t.paper.key == paper]
    return tuple(sorted(chosen, key=lambda t: order.get(t.paper.key, len(order))))  # stable: registration order within a paper


def get_theorem(theorem_id: str) -> Theorem:
    load_papers(theorem_id.split(".", 1)[0])
    try:
        return _THEOREMS[theorem_id]
    except KeyError:
        raise KeyError(f"unknown theorem id {theorem_id!r}; see `python -m ssl_props list`") from None


def iter_checks(paper: str | None = None) -> Iterator[tuple[Theorem, Check]]:
    """Yield ``(theorem, check)`` for every check of every registered theorem (one generator, many front-ends)."""
    for t in all_theorems(paper):
        for c in t.checks:
            yield t, c


def check_id(theorem: Theorem, check: Check) -> str:
    """The stable id of a check: ``"{theorem.id}::{check.kind}:{check.name}"``."""
    return f"{theorem.id}::{check.kind}:{check.name}"


def parametrize_theorems(paper: str) -> Callable[[Callable], Callable]:
    """pytest decorator: parametrise a test over ``(theorem, check)`` of ``paper``, with the check ids."""
    import pytest

    pairs = list(iter_checks(paper))
    if not pairs:
        raise ValueError(f"no theorems registered for paper {paper!r}")
    params = [pytest.param(t, c, id=check_id(t, c), marks=pytest.mark.theorem(t.id)) for t, c in pairs]
    return pytest.mark.parametrize(("theorem", "check"), params)


def run_check(check: Check) -> Any:
    """Run one check; necessity checks must return the counterexample they found."""
    out = check.run()
    if check.kind == "necessity" and out is None:
        raise AssertionError(f"necessity check {check.name!r} returned no counterexample")
    return out
