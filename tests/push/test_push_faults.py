"""The push survives the provider's rate limits and outages: every contact still pushed, exactly once."""

from __future__ import annotations

import pytest
from pydantic import SecretStr

from sync.errors import ConfigError, TransientError
from sync.runner import push_audience


def quick_retries(world, **mailchimp):
    """Settings with short backoff so the tests do not sleep long; the policy is the production one."""
    update = {"retry_initial_wait": 0.01, "retry_seconds": 30, **mailchimp}
    return world.settings.model_copy(update={"mailchimp": world.settings.mailchimp.model_copy(update=update)})


@pytest.mark.parametrize("inject", [
    pytest.param(lambda f: f.throttle_next(6), id="429 burst without body"),
    pytest.param(lambda f: f.throttle_next(3, with_body=True), id="429 with problem body"),
    pytest.param(lambda f: f.fail_next(3, 503, body="html"), id="503 Request Blocked page"),
    pytest.param(lambda f: f.fail_next(2, 500), id="500 problem"),
    pytest.param(lambda f: f.fail_next(2, 403, body="empty"), id="body-less 403"),
    pytest.param(lambda f: f.drop_next(3), id="dropped connections"),
    pytest.param(lambda f: f.slow_next(2, seconds=2.5), id="slow beyond the timeout"),
])
def test_faults_are_retried_and_every_contact_is_pushed_once(world, inject):
    inject(world.sandbox.faults)
    report = push_audience(quick_retries(world, timeout_seconds=1.0), "newsletter")
    assert world.sandbox.faults.pending == 0  # every injected fault was met
    members = world.members()
    assert report.written == len(members) > 100
    assert report.rejected == len([r for r in report.rejections if r[1] == "invalid_address"])
    world.sandbox.reset_traffic()
    assert push_audience(quick_retries(world), "newsletter").written == 0  # nothing left to send


def test_batch_faults_in_flight_do_not_lose_or_duplicate_members(world):
    world.sandbox.faults.fail_next(4, 503, method="POST", path_contains="/lists/")
    report = push_audience(quick_retries(world, batch_size=40), "newsletter")
    assert report.written == len(world.members()) > 100


def test_an_outage_longer_than_the_retry_budget_fails_the_run_clearly(world):
    world.sandbox.faults.fail_next(10_000, 503)
    with pytest.raises(TransientError, match="Mailchimp answered 503"):
        push_audience(quick_retries(world, retry_seconds=1.0), "newsletter")


def test_a_bad_key_is_not_retried(world):
    settings = quick_retries(world, api_key=SecretStr("f" * 32 + "-us21"))
    world.sandbox.reset_traffic()
    with pytest.raises(ConfigError, match="CRM_SYNC_MAILCHIMP__API_KEY"):
        push_audience(settings, "newsletter")
    assert world.sandbox.request_count() == 1
