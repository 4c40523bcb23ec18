"""The model test's findings (tests/model/findings.md), replayed step by step through the same machine.

Each sequence broke an invariant on the code before issue 11 (the defect number is the issue's); replayed on
both providers, with every invariant checked after every step, they must all hold now. The random model test
(test_model.py) searches for new ones; these keep the found ones from coming back.
"""

from __future__ import annotations

import pytest

from tests.model.machine import machine_for
from tests.model.runs import Injection
from tests.providers import PROVIDERS

# Contacts 1-4 at four addresses with consent (3 in organisation 1); contact 5 shares contact 1's address in
# upper case and was never asked.
SPECS = [(0, "lower", True, None), (1, "lower", True, None), (2, "lower", True, 1), (3, "lower", True, None),
         (0, "upper", None, None)]
CRASH_BEFORE_RECORDING = Injection(mode="crash", point="batch_answered", occurrence=1)

FINDINGS = {
    "1 shared address, second contact opts out": ("keep", [
        ("push", {"force": True}), ("crm_opt_out", {"pick": 4, "opted_out": True}), ("push", {"force": True})]),
    "2 provider accepted, crm-sync never recorded": ("keep", [
        ("push_hit", {"injection": CRASH_BEFORE_RECORDING, "force": True}),
        ("crm_opt_out", {"pick": 1, "opted_out": True}), ("push", {"force": True})]),
    "3 e-mail change interrupted": ("keep", [
        ("push", {"force": True}), ("crm_change_email", {"pick": 3, "address": 5, "case": "lower"}),
        ("push_hit", {"injection": CRASH_BEFORE_RECORDING, "force": True}), ("push", {"force": True}),
        ("crm_opt_out", {"pick": 3, "opted_out": True}), ("push", {"force": True})]),
    "4 archive after an unsubscribe": ("archive", [
        ("push", {"force": True}), ("person_unsubscribes", {"pick": 1}), ("crm_consent", {"pick": 1, "given": False}),
        ("push", {"force": True}), ("pull", {}), ("crm_consent", {"pick": 1, "given": True}),
        ("push", {"force": True}), ("pull", {})]),
    "5 threshold between the passes": ("unsubscribe", [
        ("push", {"force": True}), ("crm_change_email", {"pick": 1, "address": 4, "case": "lower"}),
        ("push_while_crm_changes", {"change": "consent_withdrawn"})]),
    "7 a contact erased from the CRM": ("keep", [
        ("push", {"force": True}), ("crm_erase", {"pick": 1}),
        ("campaign", {"acts": [(0, "open"), (1, "open"), (2, "unsubscribe")]}), ("pull", {})]),
    "8 own unsubscribe read back": ("unsubscribe", [
        ("push", {"force": True}), ("crm_consent", {"pick": 1, "given": False}), ("push", {"force": True}),
        ("pull", {})]),
    "8 soft bounces stop the mail": ("keep", [
        ("push", {"force": True}), *[("campaign", {"acts": [(0, "soft")]})] * 4, ("pull", {})]),
    "9 a bounce on the corrected address": ("keep", [
        ("push", {"force": True}), ("campaign", {"acts": [(1, "hard")]}),
        ("crm_change_email", {"pick": 1, "address": 4, "case": "lower"}), ("push", {"force": True}), ("pull", {})]),
    "10 a late event": ("keep", [
        ("push", {"force": True}), ("campaign", {"acts": [(0, "open")]}), ("pull", {}),
        ("later_engagement", {"acts": [(1, "open")], "late": True}), ("pull", {})]),
}
# Found after the merge by the CI profile (Spotler): the person unsubscribes (bit off), then a hard bounce closes
# the channel; the bounce, read first, hid the person's unsubscribe. And a global opt-out before crm-sync's own
# unsubscribe of the same contact, hidden by it.
LATER = {
    "c unsubscribe then hard bounce": ([(0, "lower", False, None), (0, "lower", True, None), (0, "lower", True, None),
                                        (3, "lower", True, None), (0, "lower", True, None), (0, "lower", True, None)],
                                       "keep", [
        ("pull_hit", {"act": None, "at": 6, "pick": 5,
                      "injection": Injection(mode="crash", point="ledger_written", occurrence=2)}),
        ("campaign", {"acts": [(1, "soft"), (4, "click"), (3, "unsubscribe"), (7, "soft"), (1, "hard"), (3, "click")]}),
        ("pull", {}), ("run", {}),
        ("campaign", {"acts": [(2, "hard"), (5, "unsubscribe"), (1, "soft"), (1, "click"), (5, "click"), (5, "hard")]}),
        ("run", {})]),
    "c global opt-out then own unsubscribe": ([(3, "lower", True, None), (0, "lower", True, None),
                                               (0, "lower", None, None), (0, "lower", True, None)], "unsubscribe", [
        ("provider_cleans", {"pick": 0}), ("crm_erase", {"pick": 1}), ("person_unsubscribes", {"pick": 0}),
        ("pull", {}), ("pull", {}), ("pull", {}), ("crm_change_email", {"address": 0, "case": "lower", "pick": 4}),
        ("push_hit", {"force": True, "injection": Injection(mode="crash", point="intent_recorded", occurrence=2)}),
        ("provider_cleans", {"pick": 0}),
        ("crm_edit_then_crashed_push", {"consent": False, "pick": 2,
                                        "crash": Injection(mode="crash", point="intent_recorded", occurrence=1)}),
        ("run", {})]),
}


@pytest.mark.parametrize("finding", sorted(LATER))
@pytest.mark.parametrize("provider", PROVIDERS)
def test_a_defect_found_after_the_merge_stays_fixed(provider, finding):
    specs, leave_policy, steps = LATER[finding]
    _replay(provider, specs, leave_policy, steps)


@pytest.mark.parametrize("finding", sorted(FINDINGS))
@pytest.mark.parametrize("provider", PROVIDERS)
def test_a_found_defect_stays_fixed(provider, finding):
    leave_policy, steps = FINDINGS[finding]
    _replay(provider, SPECS, leave_policy, steps)


def _replay(provider: str, specs: list, leave_policy: str, steps: list) -> None:
    machine = machine_for(provider)()
    try:
        machine.setup(specs=specs, leave_policy=leave_policy, page_size=1)
        for name, arguments in steps:
            getattr(machine, name)(**arguments)  # every invariant is checked after each step
    finally:
        machine.teardown()
