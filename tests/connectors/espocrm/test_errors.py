"""How the EspoCRM connector reports what EspoCRM refuses (fake and live), and opening it from settings."""

from __future__ import annotations

import pytest
from pydantic import SecretStr

from sync.connectors.crm_registry import open_crm
from sync.connectors.espocrm.client import EspoClient, Gone
from sync.connectors.espocrm.crm import EspoCrm
from sync.errors import ConfigError, RecordError, TransientError
from sync.settings import CrmSettings
from tests.connectors.espocrm.test_history import event


def test_hmac_authentication_reads_like_the_api_key(espo):
    with_key = [contact.id for contact in espo.crm().iter_contacts()]
    assert [contact.id for contact in espo.crm(espo.hmac_key, espo.hmac_secret).iter_contacts()] == with_key


def test_wrong_credentials_are_a_config_error_that_shows_no_secret(espo):
    for crm, secret in ((espo.crm(api_key="0" * 32), "0" * 32),
                        (espo.crm(espo.hmac_key, "f" * 32), "f" * 32)):
        with pytest.raises(ConfigError, match="401.*crm.api_key") as raised:
            crm.describe_fields()
        assert secret not in str(raised.value) and espo.api_key not in str(raised.value)


def test_a_role_without_campaign_access_names_the_missing_permission(espo):
    crm = espo.crm(api_key=espo.nocamp_key)
    assert crm.existing_contacts([espo.ids["José"]]) == {espo.ids["José"]}  # Contact: allowed
    with pytest.raises(ConfigError, match=r"403.*Campaign \(which governs CampaignLogRecord\)"):
        crm.write_activities([event(espo.ids["José"], 0, "open")])


def test_a_refused_record_names_the_record_and_the_reason(espo):
    client = espo.crm().client
    jose = espo.ids["José"]
    with pytest.raises(RecordError) as raised:
        client.call("PUT", f"Contact/{jose}", body={"cLoyaltyTier": "Platinum"}, record=f"Contact {jose}")
    assert raised.value.record_id == f"Contact {jose}" and raised.value.reason_code == "espocrm_400"
    assert "field: cLoyaltyTier, type: valid" in raised.value.detail
    with pytest.raises(Gone):
        client.get("Contact/00000000000000000", record="Contact 00000000000000000")
    with pytest.raises(ConfigError, match="403 Max size should not exceed 200"):
        client.get("Contact", {"maxSize": 201})


def test_an_address_that_is_not_espocrm_is_a_base_url_error(espo):
    crm = EspoCrm(EspoClient(f"{espo.base_url}/not-espocrm", espo.api_key, retry_seconds=1))
    with pytest.raises(ConfigError, match="crm.base_url"):
        crm.describe_fields()
    with pytest.raises(ConfigError, match="crm.entity"):
        EspoCrm(EspoClient(espo.base_url, espo.api_key), "Account")


def test_server_errors_are_retried_then_given_up(fake):
    fake.sandbox.fail("GET Contact", 503, count=2)
    assert len(list(fake.crm(retry_seconds=10).iter_contacts())) == 13
    fake.sandbox.fail("GET Contact", 500, count=1000)
    with pytest.raises(TransientError, match="500"):
        list(fake.crm(retry_seconds=1).iter_contacts())


def test_the_registry_opens_espocrm_and_names_a_missing_setting(fake):
    with pytest.raises(ConfigError, match="crm.base_url"):
        open_crm(CrmSettings(kind="espocrm"))
    with pytest.raises(ConfigError, match="crm.api_key"):
        open_crm(CrmSettings(kind="espocrm", base_url=fake.base_url))
    with open_crm(CrmSettings(kind="espocrm", base_url=fake.base_url + "/api/v1/", api_key=SecretStr(fake.api_key),
                              entity="Lead")) as crm:
        assert crm.count_contacts() == 3
    with open_crm(CrmSettings(kind="espocrm", base_url=fake.base_url, api_key=SecretStr(fake.hmac_key),
                              api_secret=SecretStr(fake.hmac_secret))) as crm:
        assert crm.count_contacts() == 13
