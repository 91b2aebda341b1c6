"""Root pytest configuration: Hypothesis profiles and the one device switch (``--ssl-device``).

Under pytest-xdist (``-n N``) each worker runs torch on one intra-op thread: N workers with torch's
default pool on a machine of N cores oversubscribe it (on the project's 2-core machine a batched call
then ran up to 100x slower). Verdicts do not depend on it: the derandomised profiles draw the same
examples in any process, and the tolerances are derived for any summation order.
"""
from __future__ import annotations

import os

from ssl_props.device import ENV_VAR, resolve_device
from ssl_props.profiles import register_profiles

register_profiles()


def pytest_addoption(parser):
    parser.addoption("--ssl-device", default=None, choices=("cpu", "cuda", "auto"),
                     help=f"device for every numeric check (default: ${ENV_VAR} or cpu)")


def pytest_configure(config):
    dev = config.getoption("--ssl-device")
    if dev:
        os.environ[ENV_VAR] = dev
    resolve_device()  # fail at start-up, with a clear message, when the device is unavailable
    if os.environ.get("PYTEST_XDIST_WORKER"):
        import torch

        torch.set_num_threads(1)
    # when no --hypothesis-profile is given: ci on CI, dev elsewhere
    if config.getoption("hypothesis_profile", None) is None:
        from hypothesis import settings
        settings.load_profile("ci" if os.environ.get("CI") else "dev")


def pytest_report_header(config):
    from hypothesis import settings
    return [f"ssl-props: device={resolve_device()}, hypothesis profile={settings.get_current_profile_name()}"]
