"""The fake EspoCRM's seed: the data set of the recorded fixtures (13 contacts, 3 leads, 2 accounts, 2 target
lists, 2 campaigns, 4 custom Contact fields) and the field metadata EspoCRM 9.1.7 answers for Contact."""

from __future__ import annotations

from typing import Any

ADMIN = "6b034364bac38370f"
SYNCBOT = "6b03436f71d1b768f"
MULLER, BLOEMEN = "6b0346cfa25530ad6", "6b0346cfbb8034503"
NEWSLETTER, VIP = "6b0346d164f9fa35a", "6b0346d17a0ba376d"
SPRING, AUTUMN = "6b0346d1d2f107b1a", "6b0346d1e87797837"

ACCOUNTS = [
    {"id": MULLER, "name": "Müller & Söhne GmbH", "billingAddressCity": "München",
     "createdAt": "2025-03-01 09:00:00", "modifiedAt": "2026-01-10 10:00:00"},
    {"id": BLOEMEN, "name": "Van den Berg Bloemen B.V.", "billingAddressCity": "Aalsmeer",
     "createdAt": "2025-05-20 09:00:00", "modifiedAt": "2025-05-20 09:00:00"},
]

# (id, first, last, addresses (primary first), account, tier, language, member since, number, created, modified,
#  flags of the primary address)
_C = [
    ("6b0346cfd2769ad19", "José", "Müller", ["jose.muller@example.com"], MULLER, "Gold", "Deutsch", "2019-03-14",
     "C-10001", "2025-03-14 09:12:05", "2026-02-03 14:22:10", ""),
    ("6b0346cfea8d9e314", "Zoë", "van den Berg", ["zoe.vandenberg@bloemen.example.com"], BLOEMEN, "Silver",
     "Nederlands", "2021-06-01", "C-10002", "2025-06-01 08:00:41", "2026-09-18 07:45:33", ""),
    ("6b0346d00de0a2364", "François", "Lefèvre", ["francois.lefevre@example.org"], None, "Bronze", "Français",
     "2023-01-20", "C-10003", "2025-07-22 16:30:00", "2026-03-01 10:00:00", ""),
    ("6b0346d0238d7f12f", "Søren", "Østergaard", ["soren.ostergaard@example.net"], None, "Silver", "English",
     "2020-11-02", "C-10004", "2025-08-02 11:11:11", "2026-10-05 12:00:00", "optOut"),
    ("6b0346d039acf4681", "Ana María", "Núñez", ["ana.nunez@example.com"], None, "Gold", "Español", "2018-09-09",
     "C-10005", "2025-09-09 09:09:09", "2026-06-15 08:30:00", ""),
    ("6b0346d04fbac446b", "Łukasz", "Wiśniewski", ["lukasz.wisniewski@example.com"], None, None, "English", None,
     "C-10006", "2025-10-10 10:10:10", "2026-06-15 08:30:00", ""),
    ("6b0346d0659c40310", "Chloé", "Dubois", ["famille.dubois@example.org"], None, "Bronze", "Français",
     "2024-02-29", "C-10007", "2025-11-29 15:00:00", "2026-07-01 09:15:27", ""),
    ("6b0346d07bad79a5b", "Marc", "Dubois", ["famille.dubois@example.org"], None, None, "Français", None,
     "C-10008", "2025-11-29 15:01:12", "2026-07-01 09:15:27", ""),
    ("6b0346d0920f80e44", "Björn", "Andersson", ["bjorn.andersson@example.com"], None, "Bronze", "English",
     "2022-05-17", "C-10009", "2026-01-17 13:45:00", "2026-08-20 17:05:49", "invalid"),
    ("6b0346d0a9505fc95", "Siobhán", "O'Connor", ["siobhan.oconnor@example.net"], None, None, "English",
     "2017-12-24", "C-10010", "2026-02-24 18:20:00", "2026-10-31 23:59:59", "optOut"),
    ("6b0346d0c02e3ac7f", "Mehmet", "Yılmaz", ["mehmet.yilmaz@example.com"], MULLER, "Silver", "Deutsch",
     "2025-08-01", "C-10011", "2026-04-01 07:30:00", "2026-11-02 11:42:00", ""),
    ("6b0346d0d88a01a63", "Hans-Peter", "Schäfer", ["hp.schaefer@example.com",
                                                   "hans-peter.schaefer@muller-soehne.example.com"], MULLER, "Gold",
     "Deutsch", "2016-04-11", "C-10012", "2026-04-11 12:00:00", "2026-11-10 16:20:05", ""),
    ("6b0346d0f06ac865e", "Émilie", "Rousseau", [], None, None, "Français", None, "C-10013",
     "2026-05-05 05:05:05", "2026-05-05 05:05:05", ""),
]
_L = [
    ("6b0346d1133ed6d38", "Inès", "Gómez", ["ines.gomez@example.org"], "New", "2026-09-01 10:00:00",
     "2026-09-01 10:00:00", ""),
    ("6b0346d130f7c1994", "Aoife", "Byrne", ["aoife.byrne@example.net"], "Assigned", "2026-09-15 14:30:00",
     "2026-10-20 09:00:00", "optOut"),
    ("6b0346d14a36bb960", "Tomáš", "Novák", ["tomas.novak@example.com"], "In Process", "2026-10-01 08:15:00",
     "2026-11-12 13:37:00", ""),
]
IDS = {row[1]: row[0] for row in _C} | {row[1]: row[0] for row in _L}
LISTS: list[dict[str, Any]] = [
    {"id": NEWSLETTER, "name": "Newsletter Subscribers", "createdAt": "2026-11-22 19:47:29",
     "contacts": [IDS[name] for name in ("José", "Zoë", "François", "Søren", "Ana María", "Chloé", "Marc", "Björn",
                                         "Siobhán")],
     "leads": [IDS["Inès"]]},
    {"id": VIP, "name": "VIP Gold Members", "createdAt": "2026-11-22 19:47:29",
     "contacts": [IDS[name] for name in ("José", "Ana María", "Hans-Peter")], "leads": []},
]
CAMPAIGNS = [
    {"id": SPRING, "name": "Spring Newsletter 2026", "status": "Active", "type": "Newsletter",
     "createdAt": "2026-11-22 19:47:29"},
    {"id": AUTUMN, "name": "Autumn Offers 2026", "status": "Planning", "type": "Email",
     "createdAt": "2026-11-22 19:47:29"},
]


def contacts() -> list[dict[str, Any]]:
    """The seed contacts as records (``addresses``: (address, flag) pairs, primary first)."""
    return [{"id": ident, "firstName": first, "lastName": last, "accountId": account, "cLoyaltyTier": tier,
             "cPreferredLanguage": language, "cMemberSince": since, "cCustomerNumber": number, "createdAt": created,
             "modifiedAt": modified, "addresses": [(address, flag if index == 0 else "")
                                                   for index, address in enumerate(addresses)]}
            for ident, first, last, addresses, account, tier, language, since, number, created, modified, flag in _C]


def leads() -> list[dict[str, Any]]:
    return [{"id": ident, "firstName": first, "lastName": last, "status": status, "createdAt": created,
             "modifiedAt": modified, "addresses": [(address, flag) for address in addresses]}
            for ident, first, last, addresses, status, created, modified, flag in _L]


CONTACT_FIELDS: dict[str, dict[str, Any]] = {
    'name': {'type': 'personName'},
    'salutationName': {'type': 'enum', 'options': ['', 'Mr.', 'Ms.', 'Mrs.', 'Dr.']},
    'firstName': {'type': 'varchar', 'maxLength': 100},
    'lastName': {'type': 'varchar', 'maxLength': 100},
    'accountAnyId': {'type': 'varchar', 'notStorable': True},
    'title': {'type': 'varchar', 'notStorable': True, 'maxLength': 100},
    'description': {'type': 'text'},
    'emailAddress': {'type': 'email'},
    'phoneNumber': {'type': 'phone'},
    'doNotCall': {'type': 'bool'},
    'address': {'type': 'address'},
    'addressStreet': {'type': 'text', 'maxLength': 255},
    'addressCity': {'type': 'varchar', 'maxLength': 100},
    'addressState': {'type': 'varchar', 'maxLength': 100},
    'addressCountry': {'type': 'varchar', 'maxLength': 100},
    'addressPostalCode': {'type': 'varchar', 'maxLength': 40},
    'account': {'type': 'link'},
    'accounts': {'type': 'linkMultiple'},
    'accountRole': {'type': 'varchar', 'notStorable': True},
    'accountIsInactive': {'type': 'bool', 'notStorable': True},
    'accountType': {'type': 'foreign'},
    'opportunityRole': {'type': 'enum', 'options': ['', 'Decision Maker', 'Evaluator', 'Influencer'],
                        'notStorable': True},
    'acceptanceStatus': {'type': 'varchar', 'notStorable': True},
    'acceptanceStatusMeetings': {'type': 'enum', 'notStorable': True},
    'acceptanceStatusCalls': {'type': 'enum', 'notStorable': True},
    'campaign': {'type': 'link'},
    'createdAt': {'type': 'datetime'},
    'modifiedAt': {'type': 'datetime'},
    'createdBy': {'type': 'link'},
    'modifiedBy': {'type': 'link'},
    'assignedUser': {'type': 'link'},
    'teams': {'type': 'linkMultiple'},
    'targetLists': {'type': 'linkMultiple'},
    'targetList': {'type': 'link', 'notStorable': True},
    'portalUser': {'type': 'linkOne', 'notStorable': True},
    'hasPortalUser': {'type': 'bool', 'notStorable': True},
    'originalLead': {'type': 'linkOne'},
    'targetListIsOptedOut': {'type': 'bool', 'notStorable': True},
    'originalEmail': {'type': 'link', 'notStorable': True},
    'cLoyaltyTier': {'type': 'enum', 'options': ['Bronze', 'Silver', 'Gold'], 'isCustom': True, 'maxLength': 100},
    'cPreferredLanguage': {'type': 'enum', 'options': ['English', 'Nederlands', 'Deutsch', 'Français', 'Español'],
                           'isCustom': True, 'maxLength': 100, 'default': 'English'},
    'cMemberSince': {'type': 'date', 'isCustom': True},
    'cCustomerNumber': {'type': 'varchar', 'isCustom': True, 'maxLength': 20},
    'middleName': {'type': 'varchar', 'maxLength': 100},
    'emailAddressIsOptedOut': {'type': 'bool', 'notStorable': True},
    'emailAddressIsInvalid': {'type': 'bool', 'notStorable': True},
    'phoneNumberIsOptedOut': {'type': 'bool', 'notStorable': True},
    'phoneNumberIsInvalid': {'type': 'bool', 'notStorable': True},
    'addressMap': {'type': 'map', 'notStorable': True},
    'streamUpdatedAt': {'type': 'datetime'},
}
LEAD_FIELDS: dict[str, dict[str, Any]] = {
    name: spec for name, spec in CONTACT_FIELDS.items()
    if not name.startswith("c") or name in ("createdAt", "createdBy", "campaign")
} | {"status": {"type": "enum", "options": ["New", "Assigned", "In Process", "Converted", "Recycled", "Dead"]},
     "accountName": {"type": "varchar", "maxLength": 255}}
