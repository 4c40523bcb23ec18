"""Spotler Mail+ through the real console command, configured by environment alone: the online mapping check
that lists the properties to make by hand, a push, and a wrong secret."""

from __future__ import annotations

from sync.connectors.spotler.demo import DEMO_SPOTLER_PROPERTIES
from sync.demo.crm.generate import create_demo_crm
from sync.errors import EXIT_CONFIG, EXIT_OK
from sync.sandbox.spotler import SpotlerSandbox
from tests.cli.run import crm_sync, project_copy

WITHOUT_CUSTOM = [p for p in DEMO_SPOTLER_PROPERTIES if p["name"] not in ("loyaltyTier", "memberSince")]


def spotler_env(tmp_path, sandbox: SpotlerSandbox) -> dict[str, str]:
    crm_url = f"sqlite:///{tmp_path / 'crm.db'}"
    create_demo_crm(crm_url, contacts=120, seed=5)
    return {"CRM_SYNC_CRM__URL": crm_url, "CRM_SYNC_STATE__URL": f"sqlite:///{tmp_path / 'state.db'}",
            "CRM_SYNC_SPOTLER__CONSUMER_KEY": sandbox.consumer_key,
            "CRM_SYNC_SPOTLER__CONSUMER_SECRET": sandbox.consumer_secret,
            "CRM_SYNC_SPOTLER__BASE_URL": sandbox.base_url, "CRM_SYNC_SPOTLER__REQUESTS_PER_SECOND": "0",
            "CRM_SYNC_AUDIENCES__NEWSLETTER__PROVIDER": "spotler",
            "CRM_SYNC_AUDIENCES__NEWSLETTER__PERMISSION_BITS": "[1]"}


def test_online_check_lists_the_properties_to_add_in_mail_plus_with_their_types(tmp_path):
    project = project_copy(tmp_path)
    with SpotlerSandbox(properties=WITHOUT_CUSTOM) as sandbox:
        result = crm_sync("mapping", "check", "--online", cwd=project, env=spotler_env(tmp_path, sandbox))
        assert sandbox.request_count(method="POST") + sandbox.request_count(method="PUT") == 0
    assert result.code == EXIT_CONFIG, result.out + result.err
    assert "audience newsletter (spotler)" in result.out
    by_hand = [line for line in result.out.splitlines() if "must be added in Mail+" in line]
    assert len(by_hand) == 2 and "loyaltyTier" in by_hand[0] + by_hand[1] and "memberSince" in by_hand[0] + by_hand[1]
    assert any("memberSince" in line and "date" in line for line in by_hand)
    assert "not sent to Spotler (no spotler: property): FULLNAME" in result.out


def test_with_every_property_made_the_check_passes_and_the_push_runs(tmp_path):
    project = project_copy(tmp_path)
    with SpotlerSandbox(properties=DEMO_SPOTLER_PROPERTIES) as sandbox:
        env = spotler_env(tmp_path, sandbox)
        checked = crm_sync("mapping", "check", "--online", cwd=project, env=env)
        assert checked.code == EXIT_OK, checked.out + checked.err
        assert "must be added in Mail+" not in checked.out
        pushed = crm_sync("push", cwd=project, env=env)
        assert pushed.code == EXIT_OK, pushed.err
        assert "Audience newsletter: pushed" in pushed.out and len(sandbox.contacts()) > 40


def test_a_wrong_secret_names_the_setting_and_never_the_secret(tmp_path):
    project = project_copy(tmp_path)
    with SpotlerSandbox(properties=DEMO_SPOTLER_PROPERTIES) as sandbox:
        env = {**spotler_env(tmp_path, sandbox), "CRM_SYNC_SPOTLER__CONSUMER_SECRET": "s3cr3t-but-wrong"}
        result = crm_sync("push", cwd=project, env=env)
    assert result.code == EXIT_CONFIG
    assert "CRM_SYNC_SPOTLER__CONSUMER_SECRET" in result.err and "s3cr3t-but-wrong" not in result.err + result.out
