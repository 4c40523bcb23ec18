"""The model-based property test (issue 11): random CRM edits, provider-side acts, and pushes and pulls, some
crashed or faulted, against each provider's sandbox, with every invariant checked after every step.

Steps (tests/model/machine.py): CRM edits (consent given/withdrawn, opt-out set/cleared, e-mail change, also to
another contact's address in another case, delete, erase, organisation mailing lock); the person or the
provider (unsubscribe, clean, Mailchimp archive, campaigns with opens, clicks, soft and hard bounces and
unsubscribes, events that show up late); pushes and pulls, plain, with a few retried faults, with a flood of
faults they give up on, crashed at a checkpoint, a pull while the provider changes the lists it pages, a push
while a CRM user bulk-edits between its planning and writing passes. Invariants (tests/model/model.py):
(a) never re-subscribed, (b) CRM opt-outs honoured by the next completed push, (c) provider unsubscribes in
the CRM after the next completed pull, (d) every event in the history exactly once, (e) consent never
invented, (f) no invented opt-outs or invalid flags, (g) the safety threshold, (L) an unfaulted run completes.

The CI profile (``model-ci``, the default) is bounded; ``--hypothesis-profile=long`` runs thousands of steps.
Counts of steps, crashes and faults per provider are printed at the end of the session (tests/model/conftest.py).
"""

from __future__ import annotations

import pytest
from hypothesis import settings
from hypothesis.stateful import run_state_machine_as_test

from tests.model.machine import machine_for
from tests.providers import PROVIDERS


@pytest.mark.parametrize("provider", PROVIDERS)
def test_consent_and_exactly_once_hold_under_any_sequence(provider, pytestconfig):
    profile = pytestconfig.getoption("hypothesis_profile", None)
    run_state_machine_as_test(machine_for(provider), settings=settings.get_profile(
        "long" if profile == "long" else "model-ci"))
