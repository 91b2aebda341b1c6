"""Fixtures of the library's own tests."""
from __future__ import annotations

import pytest
from hypothesis import Phase

from ssl_props.profiles import temporary_profile


@pytest.fixture
def no_explain():
    """Run failing properties without Hypothesis's `explain` phase (a traced re-run that only annotates
    the report; mutation tests fail on purpose, so it would just cost seconds), derandomised whatever the
    run's seed: a test that shows a property catches a mutant must not depend on the draw."""
    with temporary_profile("_no_explain", derandomize=True, database=None,
                           phases=(Phase.explicit, Phase.reuse, Phase.generate, Phase.target, Phase.shrink)):
        yield
