"""CRM rows with values that cannot be converted (text in a number column, impossible dates, unclear booleans,
control characters, NUL): filled in by the value-conversion work (issue 12), which makes a bad value a per-field
warning (the field left out of that contact's payload, the contact still synced, the warning recorded and
counted).

A case is a ``Case`` (tests/badinput/harness.py) whose ``setup`` changes the workspace's CRM with SQL
(``lambda ws: ws.crm("UPDATE contacts SET lifetime_value = 'lots' WHERE id = 7")``), whose ``expect`` holds the
warning's text (record id, field, value excerpt), whose ``code`` is the run's exit code, and whose ``still``
checks that the other contacts and this one were synced, returning how many (counted as recovered records).
Run them in the ``fresh`` workspace (new sandboxes, empty state store) with ``network=True``.
"""

from __future__ import annotations

import pytest

from tests.badinput.harness import Case, param

CRM_VALUE_CASES: list[Case] = []


@pytest.mark.skipif(not CRM_VALUE_CASES, reason="filled in by the value-conversion work")
@pytest.mark.parametrize("case", [param(case) for case in CRM_VALUE_CASES] or [None])
def test_a_crm_value_that_cannot_be_converted(fresh, case):
    fresh.run("crm values", case)
