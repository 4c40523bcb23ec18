"""API errors as Mailchimp sends them: ``application/problem+json`` bodies with exact titles.

Handlers raise ``ApiProblem``; the server renders it with a fresh ``instance`` id (also sent as ``X-Request-Id``).
"""

from __future__ import annotations

from typing import Any

PROBLEM_TYPE = "https://mailchimp.com/developer/marketing/docs/errors/"

FAKE_OR_INVALID = "{email} looks fake or invalid, please enter a real email address."
COMPLIANCE = (
    "{email} is in a compliance state due to unsubscribe, bounce, or compliance review and cannot be subscribed."
)
FORGOTTEN = (
    "{email} was permanently deleted and cannot be re-imported. "
    "The contact must re-subscribe to get back on the list."
)
MERGE_FIELDS_INVALID = "Your merge fields were invalid."
VALIDATION_FAILED = (
    "The resource submitted could not be validated. For field-specific details, see the 'errors' array."
)


class ApiProblem(Exception):
    """An HTTP error response: status, Mailchimp title, detail and optional field ``errors``."""

    def __init__(self, status: int, title: str, detail: str, errors: list[dict[str, str]] | None = None,
                 headers: dict[str, str] | None = None):
        super().__init__(f"{status} {title}: {detail}")
        self.status = status
        self.title = title
        self.detail = detail
        self.errors = errors
        self.headers = headers or {}

    def body(self, instance: str) -> dict[str, Any]:
        """The problem+json document for this error."""
        document: dict[str, Any] = {
            "type": PROBLEM_TYPE, "title": self.title, "status": self.status,
            "detail": self.detail, "instance": instance,
        }
        if self.errors is not None:
            document["errors"] = self.errors
        return document


def not_found(detail: str = "The requested resource could not be found.") -> ApiProblem:
    return ApiProblem(404, "Resource Not Found", detail)


def bad_request(detail: str) -> ApiProblem:
    return ApiProblem(400, "Bad Request", detail)


def invalid_resource(detail: str, errors: list[dict[str, str]] | None = None) -> ApiProblem:
    return ApiProblem(400, "Invalid Resource", detail, errors)


def invalid_field(field: str, message: str) -> ApiProblem:
    """400 Invalid Resource for one bad request-body field, in the real API's generic wording."""
    return invalid_resource(VALIDATION_FAILED, [{"field": field, "message": message}])


def fake_or_invalid(email: str) -> ApiProblem:
    return invalid_resource(FAKE_OR_INVALID.format(email=email))


def compliance_state(email: str) -> ApiProblem:
    return ApiProblem(400, "Member In Compliance State", COMPLIANCE.format(email=email))


def forgotten(email: str) -> ApiProblem:
    return ApiProblem(400, "Forgotten Email Not Subscribed", FORGOTTEN.format(email=email))


def merge_fields_invalid(errors: list[dict[str, str]]) -> ApiProblem:
    return invalid_resource(MERGE_FIELDS_INVALID, errors)


def method_not_allowed(allowed: list[str], detail: str | None = None) -> ApiProblem:
    return ApiProblem(
        405, "Method Not Allowed",
        detail or "The requested method and resource are not compatible. "
                  "See the Allow header for this resource's available methods.",
        headers={"Allow": ", ".join(allowed)},
    )


def api_key_invalid() -> ApiProblem:
    return ApiProblem(
        401, "API Key Invalid",
        "Your API key may be invalid, or you've attempted to access the wrong datacenter.",
    )
