"""What a push reports, and when it stops: the run's counts, the safety threshold, an incomplete push.

``summarise`` is `crm-sync plan`: the same plans a push carries out, counted without writing anything.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from sync.connectors.provider import FieldPlan
from sync.errors import EXIT_RUN_FAILED, CrmSyncError
from sync.push.rules import MemberPlan
from sync.push.stream import AudienceJob, PlanSummary
from sync.state.members import MemberStateRow


class SafetyStop(CrmSyncError):
    """The push would unsubscribe or archive more members than the audience's threshold allows."""


class PushIncomplete(CrmSyncError):
    """A batch failed for good (retries given up, server errors): what finished is recorded, the rest is
    looked up at the provider by the next push. The exit code is the cause's."""

    def __init__(self, message: str, cause: BaseException):
        super().__init__(message)
        self.exit_code = getattr(cause, "exit_code", EXIT_RUN_FAILED)


@dataclass(frozen=True)
class LeaveLimit:
    """The audience's safety threshold: how many unsubscribes and archives one push may send."""

    audience: str
    member_count: int
    threshold: float

    def allows(self, leaving: int) -> bool:
        return leaving <= self.threshold * max(self.member_count, 1)

    def stop(self, leaving: int) -> SafetyStop:
        """The error for a push that would send ``leaving`` unsubscribes and archives, more than allowed."""
        return SafetyStop(
            f"audience {self.audience}: this push would unsubscribe or archive {leaving} of the "
            f"{self.member_count} members, more than the safety threshold of {self.threshold:.0%}. No unsubscribe "
            f"or archive was sent; the other changes were written and recorded. Review it with `crm-sync plan "
            f"--audience {self.audience}`, then run `crm-sync push --audience {self.audience} --force` if it is right."
        )


@dataclass
class PushReport:
    """What one audience's push did."""

    audience: str
    summary: PlanSummary
    written: int = 0
    rejected: int = 0
    not_found: int = 0  # leaves that found no member at the provider (nothing was created)
    opt_outs_found: int = 0  # members found unsubscribed instead of archived: written as CRM opt-outs
    found_left: int = 0  # members found cleaned or archived instead of archived: nothing to write
    tag_failures: int = 0  # tag requests that failed (the members are written and recorded as owned)
    held_back: int = 0  # planned writes not sent: the contact's earlier write is still unknown
    requests: int = 0
    write_requests: int = 0
    rejections: list[tuple[str, str | None, str | None]] = field(default_factory=list)  # contact, reason, detail

    def counts(self) -> dict[str, int]:
        counts = dict(self.summary.actions)
        counts.update(written=self.written, rejected=self.rejected, not_found=self.not_found,
                      opt_outs_found=self.opt_outs_found, found_left=self.found_left, held_back=self.held_back,
                      requests=self.requests, write_requests=self.write_requests,
                      field_warnings=self.summary.warning_count, tag_failures=self.tag_failures)
        return counts


def summarise(job: AudienceJob, plans: Iterable[tuple[MemberPlan, MemberStateRow | None]], field_plan: FieldPlan,
              sample_limit: int = 20, on_progress: Callable[[int], None] | None = None) -> PlanSummary:
    """What a push would do with ``plans``, without writing anything; ``on_progress(contacts planned)``."""
    summary = PlanSummary(job.name, fields_to_create=[f.tag for f in field_plan.to_create],
                          sample_limit=sample_limit)
    count = 0
    for count, (plan, state) in enumerate(plans, start=1):
        summary.add(plan, state)
        if on_progress and count % 500 == 0:
            on_progress(count)
    if on_progress:
        on_progress(count)
    return summary
