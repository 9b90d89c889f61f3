"""Test-wide settings.

Under CI (``CI`` set, as ``.ci/run`` runs) hypothesis is derandomized: the same examples on every
run of the same code, so a red build is reproducible and never a roll of the dice.
"""

from __future__ import annotations

import os

from hypothesis import settings

settings.register_profile("ci", derandomize=True, deadline=None, print_blob=True)
if os.environ.get("CI"):
    settings.load_profile("ci")
