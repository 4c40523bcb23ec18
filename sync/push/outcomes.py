"""What one provider answer means for one planned contact: the member state to record, and what it adds to the
push's report (written, rejected, not found, found unsubscribed) and to its queues (members to tag with the
ownership tag, addresses whose unsubscribe becomes a CRM opt-out). No I/O: the executor sends and saves."""

from __future__ import annotations

import logging
from datetime import datetime

from sync.addresses import normalise_email
from sync.connectors.provider import MemberResult, MemberWrite
from sync.push.rules import ARCHIVED_BY_SYNC, LEAVES, NOT_FOUND, SHARED_EMAIL, Action, MemberPlan, rejection_key
from sync.push.summary import PushReport
from sync.state.members import MemberOutcome, MemberStateRow

log = logging.getLogger(__name__)


class Answers:
    """Turns answers into outcomes, counting them in ``report``; fills ``to_tag`` (created members, when the
    provider tags them) and ``found_unsubscribed`` ((contact id, address) of members found unsubscribed)."""

    def __init__(self, report: PushReport, tags_created: bool):
        self.report = report
        self.tags_created = tags_created
        self.to_tag: list[str] = []
        self.found_unsubscribed: list[tuple[str, str]] = []

    def outcome(self, plan: MemberPlan, state: MemberStateRow | None, result: MemberResult | None,
                now: datetime) -> MemberOutcome:
        """The member state to record for ``plan`` after the provider answered ``result`` (None: no answer)."""
        if plan.action in LEAVES and result is not None and (result.ok or result.reason_code == NOT_FOUND):
            return self._left(plan, result)
        warnings = [warning.as_dict() for warning in plan.warnings]
        if result is None or not result.ok:
            reason = result.reason_code if result else "provider_rejected"
            detail = result.error if result else "no answer for this address"
            self.report.rejected += 1
            self.report.rejections.append((plan.contact_id, reason, detail))
            return MemberOutcome(plan.contact_id, email=plan.email, last_error=detail, reason_code=reason,
                                 warnings=warnings, rejected_key=rejection_key(reason, plan.email, plan.payload_hash))
        self.report.written += 1
        for warning in plan.warnings:
            log.warning("audience %s, contact %s: %s", self.report.audience, plan.contact_id, warning.text())
        owned = result.created or bool(state and state.owned)
        if result.created and self.tags_created:
            self.to_tag.append(result.email)
        # An update Spotler answers without a status leaves the one the state store knew.
        status = result.status or (state.provider_status if state else None)
        return MemberOutcome(plan.contact_id, email=plan.email, provider_id=result.provider_id,
                             payload_hash=plan.payload_hash, payload=dict(plan.merge_fields or {}),
                             provider_status=status, owned=owned, pushed_at=now, warnings=warnings,
                             reason_code=plan.reason if plan.action is Action.REOPTIN else None)

    def _left(self, plan: MemberPlan, result: MemberResult) -> MemberOutcome:
        """The outcome of an unsubscribe or archive. The reason stays the plan's (``shared_email`` for a member
        held for another contact), so the next run, planning the same, has nothing to record."""
        reason = SHARED_EMAIL if plan.merged_into else plan.reason
        if not result.ok:  # no member at the provider: nothing to end, and nothing was created
            self.report.not_found += 1
            return MemberOutcome(plan.contact_id, provider_status=NOT_FOUND, reason_code=reason,
                                 merged_into=plan.merged_into,
                                 last_error=f"no member at the provider to {plan.action.value}; nothing was written")
        if plan.action is Action.ARCHIVE and result.reason_code != ARCHIVED_BY_SYNC:
            # Found no longer receiving mail: not archived, so the provider keeps showing it as it is.
            if result.status == "unsubscribed":
                self.report.opt_outs_found += 1
                self.found_unsubscribed.append((plan.contact_id, normalise_email(result.email) or address_of(plan)))
            else:
                self.report.found_left += 1
            return MemberOutcome(plan.contact_id, provider_status=result.status, reason_code=reason,
                                 merged_into=plan.merged_into)
        self.report.written += 1
        if plan.action is Action.ARCHIVE:
            reason = ARCHIVED_BY_SYNC
        return MemberOutcome(plan.contact_id, provider_status=result.status or "unsubscribed", reason_code=reason,
                             merged_into=plan.merged_into)


def member_write(plan: MemberPlan) -> MemberWrite:
    """What an upsert sends for a create, update or re-opt-in."""
    status = "pending" if plan.action is Action.REOPTIN else None
    return MemberWrite(address_of(plan), dict(plan.merge_fields or {}), plan.status_if_new or "subscribed", status,
                       contact_id=plan.contact_id, new=plan.action is Action.CREATE)


def address_of(plan: MemberPlan) -> str:
    """The address a plan that writes goes to (a contact without a usable one is skipped, never written)."""
    if plan.email is None:
        raise ValueError(f"contact {plan.contact_id}: {plan.action.value} without an address")
    return plan.email
