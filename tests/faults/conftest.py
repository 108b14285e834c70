# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
"""conftest.py - the fault suite needs root and a built tree; a receiver
factory stopped at teardown."""
import pytest

import faultlib


def pytest_collection_modifyitems(config, items):
    reason = faultlib.why_skip()
    if reason is None:
        return
    here = str(faultlib.REPO / "tests" / "faults")
    for item in items:
        if str(item.fspath).startswith(here) and not item.get_closest_marker("noroot"):
            item.add_marker(pytest.mark.skip(reason="SKIP: " + reason))


def pytest_configure(config):
    config.addinivalue_line("markers", "noroot: runs without root (no BPF)")


@pytest.fixture
def make_receiver():
    started = []

    def make(**kw):
        r = faultlib.rx.Receiver(**kw).start()
        started.append(r)
        return r

    yield make
    for r in started:
        r.stop()
