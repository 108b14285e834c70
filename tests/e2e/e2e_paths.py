# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
"""e2e_paths.py - where the built agent and the e2e fixtures are

A module of its own: when `make test` runs every suite in one pytest, a
test's `from conftest import ...` gets whichever suite's conftest was
imported first under that name, not its own.
"""
import os

import receiver as rx

REPO = rx.REPO
OUTPUT = os.path.join(REPO, ".output")
EMBER = os.path.join(OUTPUT, "ember")
SPLIT = os.path.join(OUTPUT, "tests", "fixtures", "split")
