"""pytest plugin of the mutation runs (``-p mutation.hypothesis_profile --hypothesis-profile=mutate``).

Registers the ``mutate`` profile: the ``ci`` profile (derandomised, the same examples as CI), with no example
database and no shrink/explain phases. A mutant is killed as soon as one example fails; shrinking that
example to a minimal one only costs time, and never changes whether the run fails.
"""
from __future__ import annotations

from hypothesis import Phase, settings

from ssl_props.profiles import register_profiles

register_profiles()
settings.register_profile("mutate", parent=settings.get_profile("ci"), database=None,
                          phases=(Phase.explicit, Phase.reuse, Phase.generate, Phase.target))
