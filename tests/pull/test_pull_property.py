"""Property: for any event stream, page size and crash point, crash + re-run equals an uninterrupted pull."""

from __future__ import annotations

import shutil
import tempfile
from datetime import UTC, datetime, timedelta
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sync.democrm.generate import create_demo_crm
from sync.jobs import push_audience
from sync.sandbox.mailchimp import MailchimpSandbox
from tests.pull.crash import POINTS, crashed_then_resumed_equals_clean
from tests.push.world import World, eligible, make_settings

TEMPLATE = Path(tempfile.mkdtemp(prefix="crm-sync-pull-property-")) / "crm.db"
URLS = ("https://shop.test/a", "https://shop.test/b", "https://shop.test/c")

event = st.tuples(
    st.integers(0, 5),                                     # which member
    st.sampled_from(["open", "open", "click", "soft", "hard", "unsubscribe"]),
    st.integers(0, 40),                                    # seconds after sending: many share a second
    st.integers(0, 2),                                     # which URL for a click
)


def fresh_world(folder: Path, sandbox: MailchimpSandbox) -> World:
    if not TEMPLATE.exists():
        create_demo_crm(f"sqlite:///{TEMPLATE}", contacts=40, seed=21)
    shutil.copy(TEMPLATE, folder / "crm.db")
    crm_url, state_url = f"sqlite:///{folder / 'crm.db'}", f"sqlite:///{folder / 'state.db'}"
    list_id = sandbox.create_audience("Property")
    return World(make_settings(folder, sandbox, list_id, crm_url, state_url), sandbox, list_id, crm_url, state_url)


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(events=st.lists(event, min_size=1, max_size=25), page_size=st.integers(1, 4),
       point=st.sampled_from(POINTS), occurrence=st.integers(1, 12))
def test_any_stream_any_pages_any_crash(events, page_size, point, occurrence):
    with tempfile.TemporaryDirectory() as folder_name, MailchimpSandbox() as sandbox:
        folder = Path(folder_name)
        world = fresh_world(folder, sandbox)
        push_audience(world.settings, "newsletter")
        members = world.members()
        emails = [r["email"].strip().lower() for r in world.contacts()
                  if eligible(r) and r["email"].strip().lower() in members][:6]
        sent = datetime.now(UTC).replace(microsecond=0) - timedelta(hours=2)
        campaign = sandbox.send_campaign(world.list_id, "Property test", send_time=sent)
        gone: set[str] = set()
        for member, action, seconds, url in events:
            email, at = emails[member % len(emails)], sent + timedelta(seconds=seconds)
            if email in gone:
                continue
            if action == "open":
                sandbox.record_open(campaign, email, at=at)
            elif action == "click":
                sandbox.record_click(campaign, email, URLS[url], at=at)
            elif action in ("soft", "hard"):
                sandbox.record_bounce(campaign, email, kind=action, at=at)
            else:
                sandbox.record_unsubscribe(campaign, email, reason="no longer interested", at=at)
                gone.add(email)
        settings_ = world.settings.model_copy(
            update={"mailchimp": world.settings.mailchimp.model_copy(update={"report_page_size": page_size})})
        crashed_then_resumed_equals_clean(settings_, world.crm_url, world.state_url, folder / "clean",
                                          point, occurrence)
