"""Contact routes: the property catalogue, one contact, writes (single, PUT, bulk), anonymise and search."""

from __future__ import annotations

from typing import Any

from sync.sandbox.mailchimp.routing import Reply
from sync.sandbox.spotler import writes
from sync.sandbox.spotler.errors import SpotlerError, contact_not_found, invalid_params
from sync.sandbox.spotler.request import ApiRequest
from sync.sandbox.spotler.state import Contact, SpotlerState
from sync.sandbox.spotler.views import contact_view

MAX_BULK = 100
_SINGLE_ERRORS = {  # a single-contact write answers a refused write with an error response
    writes.PROPERTY_INVALID: (400, "INVALID_PROPERTY"),
    writes.ALREADY_EXISTS: (400, "CONTACT_ALREADY_EXISTS"),
    writes.OPTOUT: (400, "CONTACT_OPTOUT"),
    writes.UNKNOWN: (404, "CONTACT_NOT_FOUND"),
    writes.ERROR: (500, "BACKEND_EXCEPTION"),
}


def list_properties(request: ApiRequest) -> Reply:
    return Reply(200, request.state.catalogue.views())


def get_contact(request: ApiRequest) -> Reply:
    return Reply(200, contact_view(request.state.catalogue, _existing(request.state, request.params["externalId"])))


def insert_contact(request: ApiRequest) -> Reply:
    update, purge, sent = _write_request(request, "contact")
    if not isinstance(sent, dict) or not _has_external_id(sent):
        raise invalid_params("A contact with an externalId is required")
    return _single(writes.write_contact(request.state, sent, update=update, purge=purge))


def update_contact(request: ApiRequest) -> Reply:
    external_id = request.params["externalId"]
    _update, purge, sent = _write_request(request, "contact")
    if not isinstance(sent, dict):
        raise invalid_params("A contact object is required")
    if sent.get("externalId") not in (None, external_id):
        raise invalid_params(f"externalId {sent['externalId']!r} in the body does not match {external_id!r}")
    sent = {**sent, "externalId": external_id}
    return _single(writes.write_contact(request.state, sent, update=True, purge=purge, existing_only=True))


def insert_contacts(request: ApiRequest) -> Reply:
    update, purge, contacts = _write_request(request, "contacts")
    if not isinstance(contacts, list):
        raise invalid_params("contacts must be a list")
    if len(contacts) > MAX_BULK:
        raise invalid_params(f"Too many contacts provided (max is {MAX_BULK})")
    if not all(isinstance(sent, dict) and _has_external_id(sent) for sent in contacts):
        raise invalid_params("Contact without externalId found")
    results = []
    for sent in contacts:
        outcome = writes.write_contact(request.state, sent, update=update, purge=purge)
        results.append({"externalId": sent["externalId"], "code": outcome.code, "message": outcome.message})
    return Reply(200, results)


def anonymize_contact(request: ApiRequest) -> Reply:
    anonymise(request.state, _existing(request.state, request.params["externalId"]))
    return Reply(204)


def anonymise(state: SpotlerState, contact: Contact) -> None:
    """Irreversible: properties cleared, every bit and the channel off, the externalId let go."""
    state.attach(contact, None)
    state.set_values(contact, {})
    contact.anonymised = True
    contact.sets = {name: dict.fromkeys(bits, False) for name, bits in contact.sets.items()}
    contact.email_channel = False
    contact.test_group = False
    state.touch(contact)


def search_contacts(request: ApiRequest) -> Reply:
    """``contact/search?MPSearchQuery=<property>=<value>``: contacts with an externalId whose property equals the
    value (e-mail addresses case-insensitively)."""
    name, found, value = (request.query.get("MPSearchQuery") or "").partition("=")
    if not found or request.state.catalogue.get(name) is None:
        raise invalid_params("Invalid MPSearchQuery: expected <property>=<value>")
    state = request.state
    if name == "email":
        matches = [c for c in state.holders(value) if c.external_id is not None]
    else:
        matches = [c for c in state.by_external.values() if str(c.values.get(name, "")) == value]
    views = [contact_view(state.catalogue, contact) for contact in matches]
    return Reply(200, request.paged("contacts", views, size_required=True))


def _existing(state: SpotlerState, external_id: str) -> Contact:
    contact = state.by_external.get(external_id)
    if contact is None:
        raise contact_not_found()
    return contact


def _has_external_id(sent: dict[str, Any]) -> bool:
    return isinstance(sent.get("externalId"), str) and sent["externalId"] != ""


def _write_request(request: ApiRequest, key: str) -> tuple[bool, bool, Any]:
    body = request.json_object()
    flags = [body.get(name, False) for name in ("update", "purge")]
    if not all(isinstance(flag, bool) for flag in flags):
        raise invalid_params("update and purge must be true or false")
    if key not in body:
        raise invalid_params(f"{key} is required")
    return flags[0], flags[1], body[key]


def _single(outcome: writes.Outcome) -> Reply:
    if outcome.code != writes.OK:
        status, error_type = _SINGLE_ERRORS[outcome.code]
        raise SpotlerError(status, error_type, outcome.message)
    return Reply(204)


ROUTES = [  # literal paths first: /contact/list and /contact/search would match /contact/{externalId}
    ("GET", "/contact/properties/list", list_properties),
    ("POST", "/contact/list", insert_contacts),
    ("GET", "/contact/search", search_contacts),
    ("PUT", "/contact/anonymize/{externalId}", anonymize_contact),
    ("POST", "/contact", insert_contact),
    ("GET", "/contact/{externalId}", get_contact),
    ("PUT", "/contact/{externalId}", update_contact),
]
