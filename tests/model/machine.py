"""The model-based test's state machine: random CRM edits, provider-side acts, pushes and pulls (some
crashed or faulted), with every invariant of tests/model/model.py checked after every step.

One machine class per provider (``machine_for``). Each example starts a fresh sandbox, a fresh CRM of a few
contacts (some sharing an address in another case) and a fresh state store.
"""

from __future__ import annotations

import shutil
import tempfile
from collections import Counter
from datetime import datetime
from pathlib import Path

from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, precondition, rule

from tests.model import clock, runs
from tests.model.clock import ProviderClock
from tests.model.crm import SmallCrm
from tests.model.model import (
    ConsentInvented,
    EventKey,
    EventNotExactlyOnce,
    FlagInvented,
    Model,
    OptOutNotHonoured,
    PersonUnsubscribe,
    Pulled,
    Recorded,
    Resubscribed,
    RunFailed,
    ThresholdPassed,
    UnsubscribeNotImported,
    consent_never_invented,
    events_imported,
    flags_justified,
    never_resubscribed,
    no_duplicate_events,
    opt_outs_unsubscribed,
    threshold_kept,
    unsubscribes_imported,
)
from tests.model.provider import SUBSCRIBED, ProviderSide
from tests.model.runs import Injection

# Addresses at test domains the sandboxes accept; the first four are shared by the initial contacts.
ADDRESSES = ("anna.jansen@ziggo.test", "bram.smit@kpn.test", "carla.visser@xs4all.test", "dirk.bakker@gmail.test",
             "eva.meijer@hotmail.test", "frank.dekker@ziggo.test")
CASES = ("lower", "title", "upper")
URLS = ("https://shop.example.test/a", "https://shop.example.test/b")
STATS: dict[str, Counter] = {"mailchimp": Counter(), "spotler": Counter()}

contact_specs = st.lists(st.tuples(st.integers(0, 3), st.sampled_from(CASES),
                                   st.sampled_from([True, True, None, False]), st.sampled_from([None, 1, 2])),
                         min_size=4, max_size=7)
engagement = st.lists(st.tuples(st.integers(0, 7), st.sampled_from(["open", "click", "soft", "hard", "unsubscribe"])),
                      max_size=6)
faults = st.builds(Injection, mode=st.just("faults"), count=st.integers(1, 2),
                   status=st.sampled_from(runs.FAULT_STATUSES))
floods = st.builds(Injection, mode=st.just("flood"), status=st.sampled_from(runs.FAULT_STATUSES),
                   method=st.sampled_from([None, "GET", "POST", "PUT", "PATCH", "DELETE"]))
push_crashes = st.builds(Injection, mode=st.just("crash"), point=st.sampled_from(runs.PUSH_POINTS),
                         occurrence=st.integers(1, 3))
pull_crashes = st.builds(Injection, mode=st.just("crash"), point=st.sampled_from(runs.PULL_POINTS),
                         occurrence=st.integers(1, 3))
plain = st.just(Injection())
push_injections = st.one_of(push_crashes, faults, floods, plain)
pull_injections = st.one_of(pull_crashes, faults, floods, plain)


def spelled(address: str, case: str) -> str:
    local, domain = address.split("@")
    return {"lower": address, "title": f"{local.title()}@{domain}", "upper": address.upper()}[case]


class ModelMachine(RuleBasedStateMachine):
    provider_name = "mailchimp"

    def __init__(self):
        super().__init__()
        self.stats = STATS[self.provider_name]
        self.stats["examples"] += 1
        self.folder = Path(tempfile.mkdtemp(prefix="crm-sync-model-"))
        self.provider = ProviderSide(self.provider_name)
        self.crm = SmallCrm(f"sqlite:///{self.folder / 'crm.db'}")
        self.model = Model(self.provider_name)
        self.seq = 0
        self.clock = ProviderClock(self.provider_name)
        self.campaigns: dict[str, dict[str, str]] = {}  # campaign -> recipients' address -> handle
        self.last_pull_start: datetime | None = None
        self.settings = None

    @initialize(specs=contact_specs, leave_policy=st.sampled_from(["keep", "unsubscribe", "archive"]),
                page_size=st.integers(1, 3))
    def setup(self, specs, leave_policy, page_size):
        contacts = {number: (spelled(ADDRESSES[address], case), consent, org)
                    for number, (address, case, consent, org) in enumerate(specs, start=1)}
        self.crm.create(contacts)
        self.contact_ids = sorted(contacts)
        self.settings = runs.model_settings(self.provider, self.crm.url, f"sqlite:///{self.folder / 'state.db'}",
                                            leave_policy, page_size)
        self._check()

    def teardown(self):
        errors = self.provider.close()
        self.crm.close()
        shutil.rmtree(self.folder, ignore_errors=True)
        assert errors == [], f"sandbox internal errors: {errors}"

    # -- CRM edits ------------------------------------------------------------------------------------------------

    @rule(pick=st.integers(0, 6), given=st.booleans())
    def crm_consent(self, pick, given):
        self.crm.edit(self._contact(pick), email_opt_in=given)
        self._step("crm")

    @rule(pick=st.integers(0, 6), opted_out=st.booleans())
    def crm_opt_out(self, pick, opted_out):
        contact = self._contact(pick)
        self.crm.edit(contact, email_opt_out=opted_out)
        self.model.user_opt_out[contact] = opted_out
        if not opted_out:
            self.model.opt_out_cleared[contact] = self._next()
        self._step("crm")

    @rule(pick=st.integers(0, 6), address=st.integers(0, len(ADDRESSES) - 1), case=st.sampled_from(CASES))
    def crm_change_email(self, pick, address, case):
        """A CRM user corrects or changes an address (perhaps to another contact's): the old invalid mark goes."""
        self.crm.edit(self._contact(pick), email=spelled(ADDRESSES[address], case), email_invalid=False,
                      email_invalid_reason=None)
        self._step("crm")

    @rule(pick=st.integers(0, 6))
    def crm_delete(self, pick):
        self.crm.edit(self._contact(pick), deleted=True)
        self._step("crm")

    @precondition(lambda self: self.settings is not None and len(self.contact_ids) > 3)
    @rule(pick=st.integers(0, 6))
    def crm_erase(self, pick):
        contact = self._contact(pick)
        self.crm.erase(contact)
        self.contact_ids.remove(contact)
        self.model.erased.add(contact)
        self._step("crm")

    @rule(organisation=st.sampled_from([1, 2]), locked=st.booleans())
    def crm_lock_organisation(self, organisation, locked):
        self.crm.lock_organisation(organisation, locked)
        self._step("crm")

    # -- the person and the provider ------------------------------------------------------------------------------

    @rule(pick=st.integers(0, 7))
    def person_unsubscribes(self, pick):
        self._provider_act("unsubscribe", pick)
        self._step("provider")

    @rule(pick=st.integers(0, 7))
    def provider_cleans(self, pick):
        self._provider_act("clean", pick)
        self._step("provider")

    @precondition(lambda self: self.provider_name == "mailchimp")
    @rule(pick=st.integers(0, 7))
    def provider_archives(self, pick):
        self._provider_act("archive", pick)
        self._step("provider")

    @rule(acts=engagement)
    def campaign(self, acts):
        """A campaign goes to the subscribed members; some open, click, bounce or unsubscribe."""
        recipients = self.provider.handles()
        if not recipients:
            self._step("provider")
            return
        campaign = self.provider.send_campaign(f"Campaign {len(self.campaigns) + 1}")
        self.campaigns[campaign] = recipients
        self._engage(campaign, acts)
        self._step("provider")

    @precondition(lambda self: bool(getattr(self, "campaigns", None)))
    @rule(acts=engagement, late=st.booleans())
    def later_engagement(self, acts, late):
        """More events for the latest campaign; ``late``: stamped before the last pull started (Mailchimp makes
        some events visible after a pull with an earlier time)."""
        campaign = list(self.campaigns)[-1]
        self._engage(campaign, acts, late=late)
        self._step("provider")

    # -- runs -----------------------------------------------------------------------------------------------------

    @rule(force=st.sampled_from([True, True, False]))
    def push(self, force):
        self._push(Injection(), force)

    @rule(injection=push_injections, force=st.sampled_from([True, True, False]))
    def push_hit(self, injection, force):
        """A push that may be crashed or hit by faults."""
        self._push(injection, force)

    @rule(crash=push_crashes, consent=st.booleans(), pick=st.integers(0, 6))
    def crm_edit_then_crashed_push(self, crash, consent, pick):
        """A CRM change, then a push that dies at one of its checkpoints (so there is something in flight)."""
        self.crm_consent(pick, consent)
        self._push(crash, True)

    @rule()
    def pull(self):
        self._pull(Injection())

    @rule(injection=pull_injections, act=st.sampled_from([None, "unsubscribe", "clean", "archive"]),
          at=st.integers(1, 6),
          pick=st.integers(0, 7))
    def pull_hit(self, injection, act, at, pick):
        """A pull that may be crashed or hit by faults; ``act``: the person unsubscribes (or the provider cleans or
        archives) at the ``at``-th checkpoint, while the pull reads (lists change while they are paged)."""
        self._pull(injection, act, at, pick)

    @rule()
    def run(self):
        """What the scheduler does: push (forced past the threshold, as after review), then pull."""
        self._push(Injection(), True)
        self._pull(Injection())

    @rule(change=st.sampled_from(["consent_withdrawn", "opted_out"]))
    def push_while_crm_changes(self, change):
        """A push without --force while a CRM user withdraws every contact's consent (or opts them all out)
        between the push's planning pass and its writes."""
        def bulk_edit() -> None:
            for contact in self.contact_ids:
                if change == "opted_out":
                    self.crm.edit(contact, email_opt_out=True)
                    self.model.user_opt_out[contact] = True
                else:
                    self.crm.edit(contact, email_opt_in=False)
        self._push(Injection(), False, bulk_edit)

    def _push(self, injection: Injection, force: bool, during=None) -> None:
        self._next()
        members = self.provider.spotler_status_by_id if self.provider_name == "spotler" else self.provider.statuses
        before = members()
        outcome = runs.push(self.settings, self.provider, injection, force, during)
        self._count_run("push", injection, outcome)
        problems = self._liveness("push", injection, outcome)
        passed = []
        if not force:  # whether it completed, stopped at the threshold or crashed
            passed = threshold_kept(before, members(), self.settings.audiences["newsletter"].safety_threshold,
                                    self.provider_name == "mailchimp")
        self._step("push" if outcome.completed else "run", problems, threshold=passed)

    def _pull(self, injection: Injection, act: str | None = None, at: int = 0, pick: int = 0) -> None:
        started = self._next()
        self.last_pull_start = clock.now()
        passed = {"count": 0}

        def during(point: str) -> None:
            passed["count"] += 1
            if act is not None and passed["count"] == at:
                self._provider_act(act, pick)
        outcome = runs.pull(self.settings, self.provider, injection, during)
        self._count_run("pull", injection, outcome)
        problems = self._liveness("pull", injection, outcome)
        self._step("pull" if outcome.completed else "run", problems,
                   pulled=Pulled(started, self.clock.horizon(self.last_pull_start)))

    # -- helpers ----------------------------------------------------------------------------------------------------

    def _contact(self, pick: int) -> int:
        return self.contact_ids[pick % len(self.contact_ids)]

    def _next(self) -> int:
        self.seq += 1
        return self.seq

    def _provider_act(self, act: str, pick: int) -> None:
        """``unsubscribe`` and Mailchimp's ``clean`` act on a subscribed member; ``archive`` (Mailchimp's UI) and
        Spotler's ``clean`` (the person opts out of everything) on any member."""
        handles = self.provider.handles(subscribed=act == "unsubscribe" or (act, self.provider_name) == (
            "clean", "mailchimp"))
        if act == "archive":
            rows = self.crm.rows()
            handles = {a: h for a, h in handles.items() if not self.model.unimported(rows, a)}
        if not handles:
            return
        address = sorted(handles)[pick % len(handles)]
        handle = handles[address]
        was_subscribed = address in self.provider.handles()
        self.model.touched(address, self.clock.visible(None))
        if act == "unsubscribe" or (act == "clean" and self.provider_name == "spotler"):
            at = self.clock.stamp() if clock.MAILCHIMP_UNSUBSCRIBE_AT and act == "unsubscribe" else None
            if at is not None and self.provider_name == "mailchimp":
                self.provider.sandbox.unsubscribe(self.provider.list_id, handle, at=clock.aware(at))
            else:
                getattr(self.provider, act)(handle)
            self._person_unsubscribed(address, handle, at, owed=was_subscribed)
        elif act == "clean":
            self.provider.clean(handle)
            self.model.bounced.add(address)
        else:
            self.provider.archive(handle)

    def _person_unsubscribed(self, address: str, handle: str, at: datetime | None, owed: bool = True) -> None:
        """The person unsubscribed: a CRM opt-out it causes is justified; one is owed if they were subscribed
        (README: only contacts the audience has as active count)."""
        spotler_id = handle if self.provider_name == "spotler" else None
        self.model.unsubscribed_by_person |= {address} | ({spotler_id} if spotler_id else set())
        if owed:
            self.model.pending.append(PersonUnsubscribe(self._next(), address, spotler_id,
                                                        self.model.holders(self.crm.rows(), address),
                                                        self.clock.visible(at)))

    def _engage(self, campaign: str, acts: list, late: bool = False) -> None:
        recipients = self.campaigns[campaign]
        addresses = sorted(recipients)
        for pick, action in acts:
            address = addresses[pick % len(addresses)]
            handle = recipients[address]
            at = self.clock.late(self.last_pull_start, {r.key.at for r in self.model.events}) \
                if late and self.last_pull_start else self.clock.stamp()
            url = URLS[pick % 2] if action == "click" else ""
            try:
                if action == "unsubscribe":
                    was_subscribed = address in self.provider.handles()
                    self.provider.unsubscribe(handle, campaign=campaign, at=clock.aware(at))
                    self._person_unsubscribed(address, handle, at, owed=was_subscribed)
                    continue
                kind = action if action in ("soft", "hard") else ""
                self.provider.record(campaign, handle, "bounce" if kind else action, clock.aware(at), url, kind)
            except (LookupError, ValueError):
                continue  # the sandbox refused it (e.g. the address moved): it did not happen
            self.model.touched(address, self.clock.visible(at))
            key = EventKey("bounce" if kind else action, campaign, at, "" if self.provider_name == "spotler" else url,
                           kind)
            self.model.events.append(Recorded(self._next(), key, address,
                                              handle if self.provider_name == "spotler" else None,
                                              self.clock.visible(at)))
            if kind == "hard" or (kind == "soft" and self._stopped(address)):
                self.model.bounced.add(address)
                if self.provider_name == "spotler":  # the contact's change date is now the bounce's, if later
                    for unsubscribe in self.model.pending:
                        if unsubscribe.address == address:
                            unsubscribe.visible = max(unsubscribe.visible, at)

    def _stopped(self, address: str) -> bool:
        """Spotler stopped mailing the address (its e-mail channel closed after soft bounces)."""
        return self.provider_name == "spotler" and self.provider.statuses().get(address) != SUBSCRIBED

    def _count_run(self, kind: str, injection: Injection, outcome: runs.Outcome) -> None:
        self.stats[f"{kind}es" if kind == "push" else f"{kind}s"] += 1
        self.stats["crashes"] += outcome.crashed
        self.stats["faults"] += injection.mode in ("faults", "flood")
        self.stats["completed runs"] += outcome.completed

    def _liveness(self, kind: str, injection: Injection, outcome: runs.Outcome) -> list[str]:
        """A run with no injected crash or flood completes (a push without --force may stop at the threshold)."""
        if outcome.completed or injection.ends_run or type(outcome.error).__name__ == "SafetyStop":
            return []
        return [f"(L) a {kind} with at most a few retried faults failed: {type(outcome.error).__name__}: "
                f"{outcome.error}"]

    def _step(self, kind: str, problems: list[str] | None = None, pulled: Pulled | None = None,
              threshold: list[str] | None = None) -> None:
        self.stats["steps"] += 1
        self._check(kind, problems or [], pulled, threshold or [])

    def _check(self, kind: str = "", problems: list[str] | None = None, pulled: Pulled | None = None,
               threshold: list[str] | None = None) -> None:
        model, rows, history = self.model, self.crm.rows(), self.crm.history()
        statuses = self.provider.statuses()
        by_id = self.provider.spotler_status_by_id()
        for contact_id, row in rows.items():
            model.note_contact(contact_id, row.email, row.opt_in)
        checks = [(RunFailed, list(problems or [])),
                  (Resubscribed, never_resubscribed(model, by_id if self.provider_name == "spotler" else statuses)),
                  (ConsentInvented, consent_never_invented(model, statuses)),
                  (FlagInvented, flags_justified(model, rows)),
                  (EventNotExactlyOnce, no_duplicate_events(model, history)),
                  (ThresholdPassed, list(threshold or []))]
        if kind == "push":
            checks.append((OptOutNotHonoured, opt_outs_unsubscribed(rows, statuses, by_id)))
        if kind == "pull":
            checks.append((UnsubscribeNotImported, unsubscribes_imported(model, rows, pulled)))
            checks.append((EventNotExactlyOnce, events_imported(model, rows, history, pulled)))
        for violation, found in checks:
            if found:
                raise violation("\n".join(found))


def machine_for(provider: str) -> type[ModelMachine]:
    return type(f"{provider.title()}Model", (ModelMachine,), {"provider_name": provider})
