"""Properties: for any event stream, page size and crash point, crash + re-run equals an uninterrupted pull; and
no unsubscribe or late event is lost while the member list changes between pages."""

from __future__ import annotations

import shutil
import tempfile
from datetime import UTC, datetime, timedelta
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sync.demo.crm.generate import create_demo_crm
from sync.runner import pull_audience, push_audience
from sync.sandbox.mailchimp import MailchimpSandbox
from tests.pull.crash import POINTS, crashed_then_resumed_equals_clean
from tests.pull.history import flags, history
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


change = st.tuples(st.integers(1, 6), st.integers(0, 9))  # before the n-th member-list request, archive member m


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(leavers=st.lists(st.tuples(st.integers(0, 9), st.integers(700, 900)), min_size=1, max_size=10),
       changes=st.lists(change, max_size=3), page_size=st.integers(1, 3),
       early=st.lists(st.tuples(st.integers(0, 9), st.integers(0, 400)), max_size=6),
       late=st.lists(st.tuples(st.integers(0, 9), st.integers(0, 400)), min_size=1, max_size=6))
def test_lists_changing_between_pages_and_late_events_lose_nothing(leavers, changes, page_size, early, late):
    """Members unsubscribed at the provider end up opted out although the member list changes between pages
    (many sharing one second); opens Mailchimp shows only after a pull, stamped before it, are still imported."""
    with tempfile.TemporaryDirectory() as folder_name, MailchimpSandbox() as sandbox:
        world = fresh_world(Path(folder_name), sandbox)
        push_audience(world.settings, "newsletter")
        members = world.members()
        rows = [r for r in world.contacts() if eligible(r) and r["email"].strip().lower() in members][:10]
        emails = [r["email"].strip().lower() for r in rows]
        now = datetime.now(UTC).replace(microsecond=0)
        campaign = sandbox.send_campaign(world.list_id, "Late opens", send_time=now - timedelta(hours=1))
        left = {}
        for member, seconds_ago in leavers:
            if member % len(emails) not in left:
                left[member % len(emails)] = now - timedelta(seconds=seconds_ago - seconds_ago % 50)  # shared seconds
                sandbox.unsubscribe(world.list_id, emails[member % len(emails)], at=left[member % len(emails)])
        for number, member in changes:
            archived = emails[member % len(emails)]
            sandbox.faults.before_request(number, lambda e=archived: sandbox.archive(world.list_id, e), method="GET",
                                          path_contains="/members")
        opens = [(m % len(emails), now - timedelta(seconds=s)) for m, s in early if m % len(emails) not in left]
        for member, at in opens:
            sandbox.record_open(campaign, emails[member], at=at)
        settings_ = world.settings.model_copy(update={"mailchimp": world.settings.mailchimp.model_copy(
            update={"report_page_size": page_size, "feed_lag_seconds": 600})})
        pull_audience(settings_, "newsletter")
        late_opens = [(m % len(emails), now - timedelta(seconds=s)) for m, s in late if m % len(emails) not in left]
        for member, at in late_opens:  # shown only now, stamped before the pull
            sandbox.record_open(campaign, emails[member], at=at)
        pull_audience(settings_, "newsletter")
        crm_flags = flags(world.crm_url)
        still_unsubscribed = world.members("unsubscribed")
        assert all(crm_flags[rows[m]["id"]][0] for m in left if emails[m] in still_unsubscribed)
        entries = {row[0]: row for row in history(world.crm_url)}
        for member in {m for m, _ in opens + late_opens}:
            count = len({at for m, at in opens + late_opens if m == member})
            times = "once" if count == 1 else f"{count} times"
            entry = entries[f"mailchimp:newsletter:{campaign}:contact:{rows[member]['id']}"]
            assert entry[4] == f"Late opens: delivered, opened {times}"
