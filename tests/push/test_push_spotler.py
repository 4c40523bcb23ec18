"""What only Spotler Mail+ has: externalId identity, typed properties checked before any write, bulk requests
of at most 100, per-contact refusals, global opt-outs, OAuth errors and faults. The scenarios both providers
share (consent, idempotency, crashes) run over both in the other push and pull tests."""

from __future__ import annotations

import math
import re
from pathlib import Path

import pytest
from pydantic import SecretStr

from sync.errors import ConfigError, TransientError
from sync.runner import pull_audience, push_audience
from tests.push.world import eligible


def quick_retries(world, **spotler):
    """Settings with short backoff so the tests do not sleep long; the policy is the production one."""
    update = {"retry_initial_wait": 0.01, "retry_seconds": 30, **spotler}
    return world.settings.model_copy(update={"spotler": world.settings.spotler.model_copy(update=update)})


def member_rows(world) -> list[dict]:
    members = world.members()
    return [r for r in world.contacts() if eligible(r) and r["email"].strip().lower() in members]


def test_contacts_are_keyed_by_crm_id_with_typed_properties_in_bulk_requests_of_100(spotler_world):
    world = spotler_world
    report = push_audience(world.settings, "newsletter")
    created = report.summary.actions["create"]
    assert created > 100 and report.written == created and report.rejected == 0
    assert world.sandbox.request_count(method="POST", path_contains="contact/list") == math.ceil(created / 100)
    members = world.members()
    rows = {str(row["id"]): row for row in world.contacts()}
    for email, member in members.items():
        row = rows[member["external_id"]]  # externalId is the CRM contact id
        assert row["email"].strip().lower() == email
        assert member["fields"].get("BIRTHDAY") == (row["birthday"].isoformat() if row["birthday"] else None)
    since = [m["fields"]["SINCE"] for m in members.values() if m["fields"].get("SINCE")]
    assert since and all(re.fullmatch(r"\d{4}-\d{2}-\d{2}", value) for value in since)  # Spotler dates: ISO


def test_a_property_the_account_lacks_stops_the_push_before_any_write(spotler_world, tmp_path):
    world = spotler_world
    mapping = _mapping_with(world, tmp_path, "loyaltyTier", "tierLevel")
    settings = world.settings.model_copy(update={"mapping_file": mapping})
    with pytest.raises(ConfigError) as refused:
        push_audience(settings, "newsletter")
    message = str(refused.value)
    assert "tierLevel (string)" in message and "Contacts > Properties" in message
    assert world.writes() == 0


def test_a_property_of_the_wrong_type_stops_the_push_before_any_write(spotler_world, tmp_path):
    world = spotler_world
    # memberSince is a date property; filling it from a text field is refused with both types named.
    mapping = _mapping_with(world, tmp_path, "topics", "memberSince", drop="memberSince")
    settings = world.settings.model_copy(update={"mapping_file": mapping})
    with pytest.raises(ConfigError, match=r"memberSince is of type date"):
        push_audience(settings, "newsletter")
    assert world.writes() == 0


def test_a_text_longer_than_spotler_keeps_is_left_out_and_the_contact_still_syncs(spotler_world):
    world = spotler_world
    eligible_rows = [r for r in world.contacts() if eligible(r)]
    world.edit_contact(eligible_rows[0]["id"], first_name="Anne" * 70)  # 280 characters: over Mail+'s 255
    report = push_audience(world.settings, "newsletter")
    assert report.rejections == [] and report.written == report.summary.actions["create"] > 100
    assert report.summary.warnings == {("firstName", "too_long"): 1}
    assert [w["problem"] for w in world.state(eligible_rows[0]["id"]).warnings] == ["too_long"]


def test_a_value_spotler_refuses_is_recorded_and_sent_again_only_once_it_changed(spotler_world, tmp_path):
    world = spotler_world
    # The phone goes to a mobile-number property, which takes digits only: Spotler refuses "+31 30 123 4567".
    settings = world.settings.model_copy(update={"mapping_file": _mapping_with(world, tmp_path, "phoneNumber",
                                                                               "mobileNumber")})
    row = next(r for r in world.contacts() if eligible(r))
    world.edit_contact(row["id"], phone="+31 30 123 4567")
    push_audience(settings, "newsletter")
    refused = world.state(row["id"])
    assert refused.reason_code == "invalid_field_value" and "mobileNumber" in refused.last_error
    world.sandbox.reset_traffic()
    again = push_audience(settings, "newsletter", full=True)  # every contact read: the refused payload waits
    assert again.rejections == [] and world.writes() == 0
    world.edit_contact(row["id"], phone="+31301234567")
    fixed = push_audience(settings, "newsletter")
    assert (fixed.written, fixed.rejected) == (1, 0) and world.state(row["id"]).reason_code is None


def test_a_bulk_request_refused_as_a_whole_is_recorded_on_its_contacts_and_the_rest_sync(spotler_world):
    world = spotler_world
    world.sandbox.faults.fail_next(1, 400, method="POST", path_contains="contact/list")
    report = push_audience(world.settings, "newsletter")
    created = report.summary.actions["create"]
    assert report.rejected == 100 and report.written == created - 100
    assert {reason for _, reason, _ in report.rejections} == {"provider_rejected"}
    assert "400" in report.rejections[0][2]
    again = push_audience(world.settings, "newsletter")  # the refused ones are sent again, nothing else
    assert again.written == 100 and len(world.members("subscribed")) == created


def test_a_global_opt_out_in_mail_plus_is_honoured_and_never_undone(spotler_world):
    world = spotler_world
    push_audience(world.settings, "newsletter")
    target = member_rows(world)[0]
    email = target["email"].strip().lower()
    world.sandbox.opt_out_globally(str(target["id"]))
    pulled = pull_audience(world.settings, "newsletter")
    assert pulled.flags_changed >= 1
    assert next(r for r in world.contacts() if r["id"] == target["id"])["email_opt_out"] is True
    world.edit_contact(target["id"], first_name="Changed", email_opt_out=False)  # a CRM user "fixes" the flag
    push_audience(world.settings, "newsletter")
    assert world.members()[email]["status"] == "unsubscribed"


def test_a_wrong_secret_stops_with_what_to_fix_and_is_not_retried(spotler_world):
    world = spotler_world
    settings = quick_retries(world, consumer_secret=SecretStr("not-the-secret"))
    world.view.reset_traffic()
    with pytest.raises(ConfigError) as refused:
        push_audience(settings, "newsletter")
    assert "CRM_SYNC_SPOTLER__CONSUMER_SECRET" in str(refused.value) and "not-the-secret" not in str(refused.value)
    assert world.sandbox.request_count() == 1


@pytest.mark.parametrize("inject", [
    pytest.param(lambda f: f.throttle_next(4), id="429"),
    pytest.param(lambda f: f.fail_next(3, 503), id="503"),
    pytest.param(lambda f: f.fail_next(2, 500, method="POST"), id="500 on a bulk write"),
    pytest.param(lambda f: f.drop_next(3), id="dropped connections"),
    pytest.param(lambda f: f.slow_next(2, delay=2.5), id="slow beyond the timeout"),
])
def test_faults_are_retried_and_every_contact_is_pushed_once(spotler_world, inject):
    world = spotler_world
    inject(world.sandbox.faults)
    report = push_audience(quick_retries(world, timeout_seconds=1.0), "newsletter")
    assert world.sandbox.faults.pending == 0
    assert report.written == len(world.members()) > 100 and report.rejected == 0
    world.view.reset_traffic()
    assert push_audience(quick_retries(world), "newsletter").written == 0 and world.writes() == 0


def test_an_outage_longer_than_the_retry_budget_fails_the_run_clearly(spotler_world):
    world = spotler_world
    world.sandbox.faults.fail_next(10_000, 503)
    with pytest.raises(TransientError, match="Spotler answered 503"):
        push_audience(quick_retries(world, retry_seconds=1.0), "newsletter")


def _mapping_with(world, folder: Path, old: str, new: str, drop: str | None = None) -> Path:
    """A copy of the mapping file with the Spotler property ``old`` renamed to ``new`` (``drop`` removed first)."""
    text = world.settings.mapping_file.read_text()
    if drop:
        text = text.replace(f", spotler: {drop}", "")
    target = folder / "mapping.yaml"
    target.write_text(text.replace(f"spotler: {old}", f"spotler: {new}"))
    return target
