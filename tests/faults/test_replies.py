# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
"""test_replies.py - replies are bounded: an endless body or giant headers
fail the request at once with a clear reason, without burning CPU."""
import pytest

import faultlib
from faultlib import make_receiver  # noqa: F401 (a fixture)

faultlib.require_root()


@pytest.mark.parametrize("mode,reason", [
    ("endless", "reply body over"),
    ("huge_header", "reply header line too long"),
    ("many_headers", "reply headers over"),
])
def test_reply_bounded(mode, reason, make_receiver):
    r = make_receiver()
    r.set_mode(mode)
    run = faultlib.run_agent("--server", r.url, "--timeout", "10", duration=3)
    parts = faultlib.assert_identity(run.summary, "push")
    assert run.rc == 3, run
    assert parts["delivered"] == 0 and parts["failed"] == run.summary["windows_push"] >= 2, run
    assert run.summary["push_retries"] == 0, run
    assert run.summary["push_failed_reply"] == run.summary["push_failed"] >= 2, run
    assert any(reason in l for l in run.lines("warn")), run
    # Cut at once: not at the 10 s timeout, and no CPU spent reading.
    assert run.elapsed < 10, run
    assert run.cpu_s < 0.25 * run.elapsed, run
