"""The model-based property test (issue 11): random CRM edits, provider-side acts, and pushes and pulls, some
crashed or faulted, against each provider's sandbox, with every invariant checked after every step.

The invariants and the model are in tests/model/model.py, the steps in tests/model/machine.py. The CI profile
(``model-ci``, the default) is bounded; ``--hypothesis-profile=long`` runs thousands of steps. Counts of steps,
crashes and faults per provider are printed at the end of the session (tests/model/conftest.py).
"""

from __future__ import annotations

import pytest
from hypothesis import settings
from hypothesis.stateful import run_state_machine_as_test

from tests.model.machine import machine_for
from tests.providers import PROVIDERS


@pytest.mark.parametrize("provider", PROVIDERS)
def test_consent_and_exactly_once_hold_under_any_sequence(provider, pytestconfig):
    profile = pytestconfig.getoption("hypothesis_profile", None) or "model-ci"
    run_state_machine_as_test(machine_for(provider), settings=settings.get_profile(
        profile if profile in ("model-ci", "long") else "model-ci"))
