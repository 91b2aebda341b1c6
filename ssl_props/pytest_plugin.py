"""pytest integration (registered through the ``pytest11`` entry point ``ssl_props``).

Put the loss battery into your own test suite, one pytest test per check::

    from ssl_props.pytest_plugin import parametrize_with_loss_checks

    @parametrize_with_loss_checks(my_simclr, like="simclr", params={"temperature": 0.1})
    def test_my_simclr(loss_check):
        loss_check()          # raises AssertionError with the check's evidence when it fails

Test ids are the check ids (``check_view_symmetry``, ``check_finite_gradients(kind=collapsed)``), so
``pytest -k view_symmetry`` selects one. ``expected_failures={"check_id": "reason"}`` marks checks
``xfail(strict=True)``. The device comes from ``--ssl-device`` (declared by the project's root
conftest) or ``$SSL_PROPS_DEVICE``.

The verification certificate (:mod:`ssl_props.report`): every test of a registered result (a test
marked ``theorem`` whose ``theorem``/``check`` parameters come from ``parametrize_theorems``) runs its
check through :func:`ssl_props.report.run_recorded`, which puts the check's record into the test
report's ``user_properties``; ``--ssl-report=DIR`` makes the process that reports (pytest itself, or
the xdist controller under ``-n``) collect them and write ``DIR/report.json``, ``report.md`` and
``figures/`` at the end of the session. ``--ssl-paper KEY`` and ``--ssl-only SUBSTRING`` (repeatable)
select theorem checks by id. Under ``--ssl-report`` the Hypothesis example database is off (a replayed
example would change verdicts and counts), so the certificate depends only on the profile and seed.
"""
from __future__ import annotations

from typing import Any, Callable, Sequence

import pytest

# ssl_props.checker is imported inside the functions: this module is loaded by every pytest run of an
# environment where ssl-props is installed (pytest11 entry point), and must stay cheap to import.

__all__ = ["parametrize_with_loss_checks", "LossCheck"]


class LossCheck:
    """One check bound to one loss; calling it runs the check and raises on failure."""

    def __init__(self, target: Any, check: Callable[[Any], Any]):
        from ssl_props.checker import check_id

        self.target, self.check, self.id = target, check, check_id(check)

    def __call__(self) -> None:
        import pytest

        from ssl_props.checker import run_check

        result = run_check(self.target, self.check)
        if result.status == "skipped":
            pytest.skip(result.message)
        if result.status == "warning":  # outside the formula's domain: shown, not a failure (check_loss strict=)
            import warnings

            warnings.warn(f"{self.target.name}: {self.id}: {result.message}", UserWarning, stacklevel=2)
        if not result.passed:
            extra = f"\ncounterexample: {result.counterexample}" if result.counterexample else ""
            raise AssertionError(f"{self.target.name}: {self.id} failed: {result.message}{extra}"
                                 f"\n(source: {result.source})")

    def __repr__(self) -> str:
        return f"LossCheck({self.target.name}, {self.id})"


def parametrize_with_loss_checks(fn: Callable, like: str | None = None, params: dict[str, Any] | None = None, *,
                                 family: str | None = None, invariances: Sequence[str] | None = None,
                                 needs_stop_gradient: bool | None = None, max_examples: int | None = None,
                                 expected_failures: dict[str, str] | None = None,
                                 shapes: tuple[int | None, int | None] | None = None, dtype: str | None = None,
                                 views: str | None = None, argname: str = "loss_check") -> Any:
    """A ``pytest.mark.parametrize`` over the checks that apply to ``fn`` (same generator as ``check_loss``).

    The decorated test takes one argument, ``loss_check`` (a :class:`LossCheck`), and calls it.
    Arguments are those of :func:`ssl_props.checker.check_loss`; bad ones raise
    :class:`~ssl_props.InvalidArgument` at collection time.
    """
    import pytest

    from ssl_props.checker import check_id, iter_checks, make_target

    target = make_target(fn, like=like, params=params, family=family, invariances=invariances,
                         needs_stop_gradient=needs_stop_gradient, max_examples=max_examples, shapes=shapes,
                         dtype=dtype, views=views)
    expected = dict(expected_failures or {})
    values = []
    for check in iter_checks(target):
        cid = check_id(check)
        reason = expected.get(cid) or expected.get(cid.split("(")[0])
        marks = [pytest.mark.xfail(strict=True, reason=reason)] if reason else []
        values.append(pytest.param(LossCheck(target, check), id=cid, marks=marks))
    return pytest.mark.parametrize(argname, values)


@pytest.hookimpl(tryfirst=True)  # before Hypothesis loads --hypothesis-profile
def pytest_configure(config: Any) -> None:
    """Register the marker this plugin's users may put on loss-check tests; with ``--ssl-report``, the
    suite's Hypothesis profiles (the packaged suite runs without the repository's conftest) and the
    certificate collector."""
    config.addinivalue_line("markers", "loss_check: a check of an SSL loss generated by ssl_props.pytest_plugin")
    if config.getoption("ssl_report", None):
        from ssl_props.profiles import register_profiles

        register_profiles()
        config.pluginmanager.register(Certificate(config), "ssl_props_certificate")


# ---- the verification certificate ----------------------------------------------------------------------
_RECORD = "ssl_props_check"  # user_properties key of a check's record (a dict of CheckRecord's fields)
_ID = "ssl_props_check_id"  # user_properties key of a theorem test's check id (set at collection)


def pytest_addoption(parser: Any) -> None:
    g = parser.getgroup("ssl-props", "ssl-props verification certificate")
    g.addoption("--ssl-report", metavar="DIR", default=None,
                help="write the verification certificate (report.json, report.md, figures/) into DIR")
    g.addoption("--ssl-report-no-figures", action="store_true", help="with --ssl-report: no figures")
    g.addoption("--ssl-paper", metavar="KEY", default=None, help="only the theorem checks of this paper key")
    g.addoption("--ssl-only", metavar="SUBSTRING", action="append", default=[],
                help="only the theorem checks whose id contains SUBSTRING (repeatable)")


def _theorem_check(item: Any) -> tuple[Any, Any] | None:
    """``(theorem, check)`` of a theorem test (marked ``theorem``, parametrised by the registry), else None."""
    callspec = getattr(item, "callspec", None)
    if callspec is None or item.get_closest_marker("theorem") is None:
        return None
    from ssl_props.registry import Check, Theorem

    t, c = callspec.params.get("theorem"), callspec.params.get("check")
    return (t, c) if isinstance(t, Theorem) and isinstance(c, Check) else None


def pytest_collection_modifyitems(config: Any, items: list[Any]) -> None:
    """Tag each theorem test with its check id; deselect those ``--ssl-paper`` / ``--ssl-only`` leave out."""
    paper, only = config.getoption("ssl_paper", None), config.getoption("ssl_only", None) or []
    keep, drop = [], []
    for item in items:
        tc = _theorem_check(item)
        if tc is not None:
            from ssl_props.registry import check_id
            from ssl_props.report import selected

            cid = check_id(*tc)
            item.user_properties.append((_ID, cid))
            if not selected(cid, paper, only):
                drop.append(item)
                continue
        keep.append(item)
    if drop:
        config.hook.pytest_deselected(items=drop)
        items[:] = keep


@pytest.hookimpl(tryfirst=True)
def pytest_pyfunc_call(pyfuncitem: Any) -> bool | None:
    """Run a theorem test's check through the report's runner (the one code path), keep its record in
    ``user_properties`` and re-raise what refuted the claim, so pytest reports it as the check raised it."""
    tc = _theorem_check(pyfuncitem)
    if tc is None:
        return None
    from dataclasses import asdict

    from ssl_props.report import run_recorded

    record, err = run_recorded(*tc)
    pyfuncitem.user_properties.append((_RECORD, asdict(record)))
    if err is not None:
        raise err
    return True


class Certificate:
    """The ``--ssl-report`` collector: records arrive with the test reports (from the xdist workers on
    the controller), and the process that reports writes the certificate at the end of the session."""

    def __init__(self, config: Any):
        self.config = config
        self.records: dict[str, dict[str, Any]] = {}
        self.errors: dict[str, str] = {}
        self.profile, self.seed, self.line = "", None, ""

    @pytest.hookimpl(trylast=True)
    def pytest_sessionstart(self, session: Any) -> None:
        """After every ``pytest_configure`` (Hypothesis's, the conftest's) chose the profile: note it and
        the seed, and run under it without the example database."""
        from hypothesis import settings

        from ssl_props.profiles import temporary_profile

        self.profile = settings.get_current_profile_name()
        seed = self.config.getoption("hypothesis_seed", None)
        self.seed = int(seed) if seed is not None and str(seed).lstrip("-").isdigit() else seed
        ctx = temporary_profile("_ssl_report", parent=self.profile, database=None)
        ctx.__enter__()
        self.config.add_cleanup(lambda: ctx.__exit__(None, None, None))

    def pytest_runtest_logreport(self, report: Any) -> None:
        props = dict(report.user_properties)
        if report.when == "call" and _RECORD in props:
            self.records[props[_RECORD]["id"]] = props[_RECORD]
        elif report.failed and _ID in props and props[_ID] not in self.records:  # a setup/teardown error
            lines = report.longreprtext.strip().splitlines()
            self.errors[props[_ID]] = f"{report.when} error: {lines[-1] if lines else ''}"

    def pytest_sessionfinish(self, session: Any) -> None:
        if hasattr(self.config, "workerinput"):  # an xdist worker: the controller writes
            return
        from ssl_props.registry import get_theorem
        from ssl_props.report import CheckRecord, environment, summary_line, write_certificate

        records = [CheckRecord(**r) for r in self.records.values()]
        for cid, msg in self.errors.items():
            theorem_id, _, rest = cid.partition("::")
            kind, _, name = rest.partition(":")
            check = next(c for c in get_theorem(theorem_id).checks if (c.kind, c.name) == (kind, name))
            records.append(CheckRecord(cid, theorem_id, kind, name, check.assumption, False, 0, 0.0, None, msg, check.oracle))
        if not records:
            self.line = "ssl-props: no theorem check ran; no certificate written"
            return
        out = self.config.getoption("ssl_report")
        report = write_certificate(out, records, environment(self.profile, self.seed),
                                   figures=not self.config.getoption("ssl_report_no_figures"))
        self.line = "ssl-props: " + summary_line(report, out)

    def pytest_terminal_summary(self, terminalreporter: Any) -> None:
        if self.line:
            terminalreporter.write_line(self.line)
