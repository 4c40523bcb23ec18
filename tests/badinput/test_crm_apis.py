"""Bad settings for the CRMs reached over their APIs (EspoCRM, vtiger; their fakes): a wrong key, user or URL,
a server that is not the CRM, a mapped field the CRM lacks. Each is a clear error naming the setting (never
echoing a key), before any provider request; a CRM that fails a few requests is retried and the run goes on."""

from __future__ import annotations

import pytest

from sync.sandbox.espocrm import EspoSandbox
from sync.sandbox.vtiger import VtigerSandbox
from tests.badinput.harness import Case, param

VTIGER = {"CRM_SYNC_CRM__KIND": "vtiger", "CRM_SYNC_CRM__BASE_URL": "$vt", "CRM_SYNC_CRM__API_USER": "admin",
          "CRM_SYNC_CRM__API_KEY": "$vtkey", "CRM_SYNC_CRM__RETRY_SECONDS": "2"}
ESPOCRM = {"CRM_SYNC_CRM__KIND": "espocrm", "CRM_SYNC_CRM__BASE_URL": "$es", "CRM_SYNC_CRM__API_KEY": "$eskey",
           "CRM_SYNC_CRM__RETRY_SECONDS": "2"}
CHECK = ("mapping", "check")


def vtiger_fails(statuses: tuple[int, ...]):
    return lambda workspace: workspace.vtiger.fail_next(*statuses)


CRM_API_CASES = [
    Case("vtiger wrong access key", CHECK, env=VTIGER | {"CRM_SYNC_CRM__API_KEY": "Wr0ngAcc3ssK3y"},
         expect=("vtiger refused the login of crm.api_user 'admin'", "check crm.api_key"),
         forbid=("Wr0ngAcc3ssK3y",)),
    Case("vtiger unknown user", CHECK, env=VTIGER | {"CRM_SYNC_CRM__API_USER": "nobody"},
         expect=("vtiger does not know crm.api_user 'nobody'",)),
    Case("vtiger closed port", CHECK, code=4, env=VTIGER | {"CRM_SYNC_CRM__BASE_URL": "http://127.0.0.1:9"},
         expect=("vtiger at http://127.0.0.1:9/webservice.php could not be reached",)),
    Case("vtiger URL of another server", CHECK, env=VTIGER | {"CRM_SYNC_CRM__BASE_URL": "$es"},
         expect=("crm.base_url",)),
    Case("vtiger without its user", CHECK, env=VTIGER | {"CRM_SYNC_CRM__API_USER": None},
         expect=("crm.api_user is required for crm.kind vtiger",)),
    Case("vtiger mapping names a field it lacks", CHECK, env=VTIGER,
         expect=("config/mapping.yaml:", "no CRM field named 'first_name'")),
    Case("vtiger fails a few requests with 503", CHECK, env=VTIGER, setup=vtiger_fails((503, 502)),
         expect=("no CRM field named 'first_name'",)),
    Case("espocrm wrong API key", CHECK, env=ESPOCRM | {"CRM_SYNC_CRM__API_KEY": "0123wrongkey"},
         expect=("EspoCRM refused the credentials (401): check crm.api_key",), forbid=("0123wrongkey",)),
    Case("espocrm wrong HMAC secret", CHECK, env=ESPOCRM | {"CRM_SYNC_CRM__API_SECRET": "n0tTheS3cret"},
         expect=("EspoCRM refused the credentials (401)",), forbid=("n0tTheS3cret",)),
    Case("espocrm closed port", CHECK, code=4, env=ESPOCRM | {"CRM_SYNC_CRM__BASE_URL": "http://127.0.0.1:9"},
         expect=("EspoCRM at http://127.0.0.1:9 did not answer",)),
    Case("espocrm URL of another server", CHECK, env=ESPOCRM | {"CRM_SYNC_CRM__BASE_URL": "$vt"},
         expect=("crm.base_url",)),
    Case("espocrm without a key", CHECK, env=ESPOCRM | {"CRM_SYNC_CRM__API_KEY": None},
         expect=("crm.api_key",)),
    Case("espocrm mapping names a field it lacks", CHECK, env=ESPOCRM,
         expect=("config/mapping.yaml:", "no CRM field named 'customer_number' (did you mean 'cCustomerNumber'?)")),
    Case("unknown crm.kind", CHECK, env={"CRM_SYNC_CRM__KIND": "salesforce"},
         expect=("crm.kind: unknown CRM kind 'salesforce'; known: espocrm, sql, vtiger",)),
]


@pytest.fixture(scope="module")
def fake_crms():
    with VtigerSandbox() as vtiger, EspoSandbox() as espocrm:
        yield vtiger, espocrm


@pytest.mark.parametrize("case", [param(case) for case in CRM_API_CASES])
def test_a_bad_crm_api_setting(pushed, fake_crms, case):
    vtiger, espocrm = fake_crms
    pushed.more_names.update({"vt": vtiger.base_url, "vtkey": vtiger.access_key, "es": espocrm.base_url,
                              "eskey": espocrm.api_key})
    pushed.vtiger = vtiger
    pushed.run("crm apis", case)
