"""API errors as Mail+ sends them: ``{"errorType": "<ErrorType>", "message": "..."}`` with an HTTP status."""

from __future__ import annotations

from typing import Any


class SpotlerError(Exception):
    """An error response; handlers raise it and the server renders it."""

    def __init__(self, status: int, error_type: str, message: str, headers: dict[str, str] | None = None,
                 extra: dict[str, Any] | None = None):
        super().__init__(f"{status} {error_type}: {message}")
        self.status = status
        self.error_type = error_type
        self.message = message
        self.headers = headers or {}
        self.extra = extra or {}  # more fields of the body (an audience's unknown externalContactIds)

    def body(self) -> dict[str, Any]:
        return {"errorType": self.error_type, "message": self.message, **self.extra}


def invalid_params(message: str) -> SpotlerError:
    return SpotlerError(400, "INVALID_PARAMS", message)


def resource_not_found(message: str = "Resource not found") -> SpotlerError:
    return SpotlerError(404, "RESOURCE_NOT_FOUND", message)


def contact_not_found() -> SpotlerError:
    return SpotlerError(404, "CONTACT_NOT_FOUND", "Given contact not found")


def mailing_not_found() -> SpotlerError:
    return SpotlerError(404, "MAILING_NOTFOUND", "Given mailing not found")


def not_authorized(message: str) -> SpotlerError:
    return SpotlerError(401, "NOT_AUTHORIZED", message)


def error_type_for(status: int) -> str:
    """The errorType an injected fault of this status carries."""
    return {400: "INVALID_PARAMS", 401: "NOT_AUTHORIZED", 404: "RESOURCE_NOT_FOUND"}.get(status, "BACKEND_EXCEPTION")
