"""Property (stateful, model-based): over random histories of CRM edits, provider-side unsubscribes, faults that
fail a segment push part-way, and segment pushes against the Mailchimp sandbox over loopback:

* consent: a contact the segment selected who opted out in the CRM has no subscribed member after the push; a
  member who unsubscribed at the provider is never subscribed again;
* exactly-once: after a push completes, the segment holds every subscribed member of the e-mail recipients and no
  one who is not a recipient, and each recipient and organisation has one history entry for the mailing, never
  two.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections import Counter
from pathlib import Path

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule
from sqlalchemy import create_engine, select

from sync.addresses import normalise_email
from sync.demo.crm.generate import create_demo_crm
from sync.demo.crm.schema import crm_tables
from sync.errors import CrmSyncError
from sync.sandbox.mailchimp import MailchimpSandbox
from sync.segments.push import push_segment
from sync.segments.select import select_recipients
from tests.push.world import edit_contact, make_settings
from tests.segments.test_push import set_value

TRIED: Counter[str] = Counter()
CONTACTS = 40
SEGMENTS = """\
segments:
  big:
    audience: newsletter
    mailing: Spring
    steps:
      - include: {field: lifetime_value, gte: 500}
      - exclude: {field: country, equals: "O'Brien"}
"""


class SegmentPushes(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.folder = Path(tempfile.mkdtemp(prefix="segment-property-"))
        self.sandbox = MailchimpSandbox().__enter__()
        self.list_id = self.sandbox.create_audience("Newsletter")
        crm_url = f"sqlite:///{self.folder / 'crm.db'}"
        create_demo_crm(crm_url, contacts=CONTACTS, seed=5)
        (self.folder / "segments.yaml").write_text(SEGMENTS)
        base = make_settings(self.folder, self.sandbox, self.list_id, crm_url, f"sqlite:///{self.folder / 'state.db'}")
        audience = base.audiences["newsletter"].model_copy(update={"safety_threshold": 1.0})  # opt-outs pile up
        self.settings = base.model_copy(update={
            "segments_file": self.folder / "segments.yaml", "audiences": {"newsletter": audience},
            "mailchimp": base.mailchimp.model_copy(update={"retry_seconds": 0.3, "retry_initial_wait": 0.01})})
        self.crm_url = crm_url
        self.unsubscribed_at_provider: set[str] = set()
        self.last = None  # the selection of the last completed push
        self.since_push = 0  # provider-side changes since it

    def teardown(self) -> None:
        errors = list(self.sandbox.internal_errors)
        self.sandbox.__exit__(None, None, None)
        shutil.rmtree(self.folder, ignore_errors=True)
        assert errors == []

    # the world changing

    @rule(contact=st.integers(1, CONTACTS), value=st.sampled_from([1, 499, 500, 5000]))
    def spend(self, contact, value):
        set_value(self, contact, lifetime_value=value)
        TRIED["edits"] += 1

    @rule(contact=st.integers(1, CONTACTS))
    def opt_out(self, contact):
        edit_contact(self.crm_url, contact, email_opt_out=True)
        TRIED["opt-outs"] += 1

    @rule(contact=st.integers(1, CONTACTS), other=st.integers(1, CONTACTS))
    def share_address(self, contact, other):
        edit_contact(self.crm_url, contact, email=self.row(other)["email"])
        TRIED["shared addresses"] += 1

    @rule(contact=st.integers(1, CONTACTS), quoted=st.booleans())
    def move_country(self, contact, quoted):
        edit_contact(self.crm_url, contact, country="O'Brien" if quoted else "NL")

    @precondition(lambda self: self.last is not None)
    @rule(pick=st.integers(0, 1000))
    def unsubscribe_at_provider(self, pick):
        subscribed = [m["email_address"] for m in self.sandbox.members(self.list_id, "subscribed")]
        if subscribed:
            email = sorted(subscribed)[pick % len(subscribed)]
            self.sandbox.unsubscribe(self.list_id, email)
            self.unsubscribed_at_provider.add(normalise_email(email))
            self.since_push += 1
            TRIED["provider unsubscribes"] += 1

    # pushes

    @rule(fault=st.sampled_from([None, "segment", "members"]))
    def push_with_a_fault(self, fault):
        self.push(fault)

    @rule()
    def push_cleanly(self):
        self.push(None)

    def push(self, fault):
        if fault == "segment":  # the marking's requests fail past the retry budget
            self.sandbox.faults.fail_next(50, 503, method="POST", path_contains="/segments/")
        elif fault == "members":  # the members' batch fails past the retry budget
            self.sandbox.faults.fail_next(50, 503, method="POST", path_is=f"/lists/{self.list_id}")
        selection = select_recipients(self.settings, "big")
        TRIED["pushes"] += 1
        try:
            push_segment(self.settings, selection)
        except CrmSyncError:
            TRIED["failed pushes"] += 1
            self.sandbox.faults.clear()
            self.last = None
            return
        self.sandbox.faults.clear()
        self.last, self.since_push = selection, 0
        TRIED["completed pushes"] += 1

    # what must always hold

    @invariant()
    def consent(self):
        members = {normalise_email(m["email_address"]): m["status"] for m in self.sandbox.members(self.list_id)}
        for email in self.unsubscribed_at_provider:
            assert members.get(email) != "subscribed", f"{email} was subscribed again"
        if self.last is not None:
            for candidate in self.last.candidates:
                if candidate.reason == "opted_out" and candidate.email:
                    assert members.get(candidate.email) != "subscribed", f"{candidate.email} opted out"

    @invariant()
    def exactly_once(self):
        if self.last is None or self.since_push:
            return
        members = {normalise_email(m["email_address"]): m["status"] for m in self.sandbox.members(self.list_id)}
        in_segment = {normalise_email(e) for e in self.sandbox.segment_emails(self.list_id, "crm-sync: big")}
        recipients = {c.email for c in self.last.email_recipients}
        subscribed = {email for email in recipients if members.get(email) == "subscribed"}
        # A recipient who unsubscribed at the provider may stay in the static segment (Mailchimp never mails
        # them) until the pull makes it a CRM opt-out and the next push takes it out.
        assert subscribed <= in_segment <= recipients
        activities = crm_tables().activities
        engine = create_engine(self.crm_url)
        with engine.connect() as connection:
            keys = [row[0] for row in connection.execute(select(activities.c.external_key).where(
                activities.c.kind == "segment_added"))]
        engine.dispose()
        assert len(keys) == len(set(keys)), "a mailing recorded twice"
        TRIED["checks"] += 1

    def row(self, contact_id: int) -> dict:
        contacts = crm_tables().contacts
        engine = create_engine(self.crm_url)
        with engine.connect() as connection:
            found = dict(connection.execute(select(contacts).where(contacts.c.id == contact_id)).one()._mapping)
        engine.dispose()
        return found


SegmentPushes.TestCase.settings = settings(
    max_examples=int(os.environ.get("CRM_SYNC_TEST_SEGMENT_EXAMPLES", "12")), stateful_step_count=10,
    deadline=None, suppress_health_check=[HealthCheck.too_slow], print_blob=True)
test_segment_pushes_keep_consent_and_exactly_once = SegmentPushes.TestCase
