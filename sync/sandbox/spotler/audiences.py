"""Audiences (``/audience``, ``/audience/{externalId}/contact``): Mail+'s static selections of contacts.

As the spec documents them: only Automation and eCommerce accounts may use them (403 otherwise); create and update
answer 200 with the ``Audience``, validation failures 417 (empty or long name or id, a name or id already used);
contacts are added and removed by externalId, at most 2500 a request (413 beyond); adding an unknown contact is a
404 ``{errorType, message, externalContactIds}`` naming the unknown ones, and then nothing is added (the spec does
not say whether the known ones are; the sandbox takes the stricter reading, as Mail+ documents for temporary
lists); removing with a null body empties the audience. There is no call that lists audiences or their contacts.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sync.sandbox.mailchimp.routing import Reply
from sync.sandbox.spotler.errors import SpotlerError, invalid_params
from sync.sandbox.spotler.request import ApiRequest
from sync.sandbox.spotler.state import SpotlerState
from sync.sandbox.spotler.times import to_text

MAX_CONTACTS = 2500
MAX_NAME = 255
TIER = "Only Automation or eCommerce products can use this call"


@dataclass
class Audience:
    external_id: str
    name: str
    description: str
    created: datetime
    changed: datetime
    last_added: datetime | None = None
    last_removed: datetime | None = None
    contacts: dict[str, None] = field(default_factory=dict)  # contact externalIds in the order they joined


def audience_view(audience: Audience) -> dict[str, Any]:
    view = {"externalId": audience.external_id, "name": audience.name, "description": audience.description,
            "createDate": to_text(audience.created), "changeDate": to_text(audience.changed)}
    if audience.last_added is not None:
        view["lastContactAddedAt"] = to_text(audience.last_added)
    if audience.last_removed is not None:
        view["lastContactRemovedAt"] = to_text(audience.last_removed)
    return view


def _allowed(state: SpotlerState) -> None:
    if not state.audiences_allowed:
        raise SpotlerError(403, "NOT_AUTHORIZED", TIER)


def _existing(state: SpotlerState, external_id: str) -> Audience:
    _allowed(state)
    found: Audience | None = state.audiences.get(external_id)
    if found is None:
        raise SpotlerError(404, "RESOURCE_NOT_FOUND", "Audience not found")
    return found


def _check_name(state: SpotlerState, name: Any, external_id: str) -> str:
    if not isinstance(name, str) or not name.strip() or len(name) > MAX_NAME:
        raise SpotlerError(417, "INVALID_PARAMS", "Audience name can not be empty or more than 255 characters")
    if any(a.name == name and a.external_id != external_id for a in state.audiences.values()):
        raise SpotlerError(417, "NAME_ALREADY_IN_USE", "Audience name must be unique")
    return name


def create_audience(request: ApiRequest) -> Reply:
    state = request.state
    _allowed(state)
    body = request.json_object()
    external_id = body.get("externalId")
    if not isinstance(external_id, str) or not external_id or len(external_id) > MAX_NAME:
        raise SpotlerError(417, "INVALID_PARAMS", "Audience id can not be empty or more than 255 characters")
    if external_id in state.audiences:
        raise SpotlerError(417, "ID_NOTUNIQUE", "Audience id must be unique")
    name = _check_name(state, body.get("name"), external_id)
    now = state.now()
    audience = Audience(external_id, name, str(body.get("description") or ""), now, now)
    state.audiences[external_id] = audience
    return Reply(200, audience_view(audience))


def get_audience(request: ApiRequest) -> Reply:
    return Reply(200, audience_view(_existing(request.state, request.params["externalId"])))


def update_audience(request: ApiRequest) -> Reply:
    audience = _existing(request.state, request.params["externalId"])
    body = request.json_object()
    if body.get("externalId") not in (None, audience.external_id):
        raise SpotlerError(400, "INVALID_PARAMS", "Path id doesn't match audience id")
    audience.name = _check_name(request.state, body.get("name", audience.name), audience.external_id)
    if "description" in body:
        audience.description = str(body.get("description") or "")
    audience.changed = request.state.now()
    return Reply(200, audience_view(audience))


def delete_audience(request: ApiRequest) -> Reply:
    audience = _existing(request.state, request.params["externalId"])
    del request.state.audiences[audience.external_id]
    return Reply(204)


def _contact_ids(request: ApiRequest, *, null_allowed: bool) -> list[str] | None:
    """The body's ``contacts``; None for a null (or empty) body where that means "every contact"."""
    if request.raw_body.strip() in (b"", b"null"):
        if null_allowed:
            return None
        raise invalid_params("contacts is required")
    contacts = request.json_object().get("contacts")
    if not isinstance(contacts, list) or not all(isinstance(c, str) for c in contacts):
        raise invalid_params("contacts must be a list of externalContactIds")
    if len(contacts) > MAX_CONTACTS:
        raise SpotlerError(413, "INVALID_PARAMS", "Maximum batch size of contact ids exceeded(maximum is 2500)")
    return contacts


def add_contacts(request: ApiRequest) -> Reply:
    audience = _existing(request.state, request.params["externalId"])
    contacts = _contact_ids(request, null_allowed=False) or []
    unknown = [c for c in contacts if c not in request.state.by_external]
    if unknown:
        raise SpotlerError(404, "CONTACT_NOT_FOUND", "Contacts not found", extra={"externalContactIds": unknown})
    joined = [c for c in contacts if c not in audience.contacts]
    for contact in joined:
        audience.contacts[contact] = None
    if joined:
        audience.last_added = request.state.now()
    return Reply(204)


def remove_contacts(request: ApiRequest) -> Reply:
    audience = _existing(request.state, request.params["externalId"])
    contacts = _contact_ids(request, null_allowed=True)
    if contacts is None:
        left = list(audience.contacts)
        audience.contacts.clear()
    else:
        left = [c for c in contacts if audience.contacts.pop(c, False) is None]
    if left:
        audience.last_removed = request.state.now()
    return Reply(204)


ROUTES = [
    ("POST", "/audience", create_audience),
    ("POST", "/audience/{externalId}/contact", add_contacts),
    ("DELETE", "/audience/{externalId}/contact", remove_contacts),
    ("GET", "/audience/{externalId}", get_audience),
    ("PUT", "/audience/{externalId}", update_audience),
    ("DELETE", "/audience/{externalId}", delete_audience),
]
