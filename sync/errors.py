"""Errors grouped by what the caller should do next.

- ``ConfigError``: the user must fix a setting or a file; stop before doing any work.
- ``ConnectionFailed``: an outside system (database, API) cannot be reached; stop the run.
- ``RecordError``: one record is bad; record its reason and carry on with the others.

The CLI turns every ``CrmSyncError`` into one clear message and a non-zero exit code.
"""

from __future__ import annotations

from dataclasses import dataclass

# Exit codes of the `crm-sync` command, one table for every verb (2 is click's usage error).
EXIT_OK = 0
EXIT_RUN_FAILED = 1
EXIT_CONFIG = 3
EXIT_UNREACHABLE = 4
EXIT_RECORDS_REJECTED = 5
EXIT_BUSY = 6  # another run holds the run lock


class CrmSyncError(Exception):
    """Base of every error crm-sync reports to a user without a traceback."""

    exit_code = EXIT_RUN_FAILED


class ConfigError(CrmSyncError):
    """A setting, a mapping file or a schema description is missing or wrong."""

    exit_code = EXIT_CONFIG


class ConnectionFailed(CrmSyncError):
    """A database or an API could not be reached or refused our credentials."""

    exit_code = EXIT_UNREACHABLE


@dataclass(frozen=True, slots=True)
class Problem:
    """One thing wrong in a file, pointing at where it is."""

    file: str
    line: int | None
    key: str
    message: str
    suggestion: str | None = None

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}" if self.line else self.file
        text = f"{where}: {self.key}: {self.message}"
        if self.suggestion:
            text += f" (did you mean '{self.suggestion}'?)"
        return text


class ProblemsFound(ConfigError):
    """A file has one or more problems; each names its file, line and key."""

    def __init__(self, problems: list[Problem]):
        self.problems = problems
        super().__init__("\n".join(str(p) for p in problems))


class RecordError(CrmSyncError):
    """One record cannot be processed; ``reason_code`` is stable, ``detail`` is for people."""

    def __init__(self, record_id: str, reason_code: str, detail: str):
        self.record_id = record_id
        self.reason_code = reason_code
        self.detail = detail
        super().__init__(f"record {record_id}: {reason_code}: {detail}")


class TransientError(CrmSyncError):
    """A failure worth retrying: rate limit, server error, timeout, dropped connection. Raised out of a run
    once retries are used up: the provider could not be reached in time."""

    exit_code = EXIT_UNREACHABLE

    def __init__(self, message: str, retry_after: float | None = None):
        super().__init__(message)
        self.retry_after = retry_after  # seconds the server asked to wait (Retry-After), if it said


class ProviderRejected(CrmSyncError):
    """The provider refused one request for a reason that belongs to the request (a 4xx). Within a batch it
    is that batch's members' rejection; one that ends a run (reading fields, an audience, a feed) means the
    settings point at something the provider does not have or allow: a configuration error."""

    exit_code = EXIT_CONFIG

    def __init__(self, status: int, title: str, detail: str, errors: list | None = None, provider: str = ""):
        self.status = status
        self.title = title
        self.detail = detail
        self.errors = errors or []
        hint = " (check the base_url setting: does it point at the provider's API?)" if status == 404 else ""
        text = f"{status} {title}: {detail}"
        super().__init__(f"{provider} refused the request: {text}{hint}" if provider else text)


# From least to most serious: a run's exit code is the most serious one among its audiences and its pull.
SEVERITY = (EXIT_OK, EXIT_RECORDS_REJECTED, EXIT_UNREACHABLE, EXIT_RUN_FAILED, EXIT_CONFIG)


def worst_exit_code(*codes: int) -> int:
    """The most serious of ``codes`` (see SEVERITY); unknown codes count as a failed run."""
    return max(codes, key=lambda code: SEVERITY.index(code if code in SEVERITY else EXIT_RUN_FAILED),
               default=EXIT_OK)
