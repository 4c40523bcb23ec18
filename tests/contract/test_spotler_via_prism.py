"""Every request the Spotler connector makes (push and pull), checked by Prism against the Spotler Mail+ spec.

The spec is the Swagger 2.0 conversion of Spotler's own Swagger 1.2 (``../shared/specs/README.md``). With
--errors Prism refuses a request that breaks it (422) and turns a non-conforming sandbox answer into a 500;
the sandbox checks the OAuth signature of the URL the client signed (Prism's), so signing is tested too.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from sync.demo.crm.generate import create_demo_crm
from sync.runner import pull_audience, push_audience
from sync.sandbox.spotler import SpotlerSandbox
from tests.contract.prism import SHARED, prism_proxy
from tests.providers import DEMO_SPOTLER_PROPERTIES
from tests.push.world import World, eligible, make_settings

SPOTLER_SPEC = SHARED / "specs" / "spotler-mailplus-swagger-2.0.json"


@pytest.fixture
def spotler_behind_prism(tmp_path):
    crm_url, state_url = f"sqlite:///{tmp_path / 'crm.db'}", f"sqlite:///{tmp_path / 'state.db'}"
    create_demo_crm(crm_url, contacts=250, seed=3)
    with SpotlerSandbox(properties=DEMO_SPOTLER_PROPERTIES) as sandbox, \
            prism_proxy(sandbox.base_url.replace("integrationservice-1.1.0", "integrationservice"),
                        SPOTLER_SPEC) as proxy:
        sandbox.serve_behind(proxy.url, spec_strict_paging=True)
        sandbox.run_clock_behind(2)
        settings = make_settings(tmp_path, sandbox, None, crm_url, state_url)
        settings.spotler.base_url = proxy.url
        settings.spotler.retry_seconds = 5  # a refusal by Prism must fail fast, not be retried
        yield World(settings, sandbox, None, crm_url, state_url), proxy
        assert sandbox.internal_errors == []


def test_every_spotler_request_conforms_to_the_spec(spotler_behind_prism):
    world, proxy = spotler_behind_prism
    first = push_audience(world.settings, "newsletter")
    assert first.written > 100 and first.rejected == 0
    members = world.members()
    rows = [r for r in world.contacts() if eligible(r) and r["email"].strip().lower() in members]
    world.edit_contact(rows[0]["id"], first_name="Changed")                       # bulk update
    world.edit_contact(rows[1]["id"], email="contract.moved@ziggo.test")          # update of the same externalId
    world.edit_contact(rows[2]["id"], email_opt_out=True)                         # PUT contact/{id}: bit off
    world.edit_contact(rows[3]["id"], deleted=True)                               # GET, then anonymise
    second = push_audience(world.with_audience(leave_policy="archive"), "newsletter")
    assert (second.summary.actions["update"], second.summary.actions["change_email"],
            second.summary.actions["unsubscribe"], second.summary.actions["archive"]) == (1, 1, 1, 1)
    assert second.rejected == 0 and second.written == 4
    sent = datetime.now(UTC) - timedelta(hours=2)
    reader = rows[4]["email"].strip().lower()
    mailing = world.view.send_campaign("Contract mailing", sent)
    world.view.record_open(mailing, reader, sent + timedelta(minutes=5))
    world.view.record_click(mailing, reader, "https://shop.test/", sent + timedelta(minutes=6))
    world.view.record_bounce(mailing, rows[5]["email"].strip().lower(), "hard", sent + timedelta(minutes=1))
    world.view.unsubscribe(rows[6]["email"].strip().lower())
    pulled = pull_audience(world.settings, "newsletter")
    assert pulled.events_imported > 100 and pulled.flags_changed >= 2
    log = proxy.log()
    assert "Violation" not in log and "returned 422" not in log and "returned 500" not in log, log[-3000:]
