"""`crm-sync segment push` as a marketer runs it: the preview and a question first, nothing sent on "no", the
post part written, and a push SIGKILLed after the provider took the segment's members finished by the re-run
without recording anything twice."""

from __future__ import annotations

import signal
import time

import pytest
from sqlalchemy import create_engine, select

from sync.demo.crm.schema import crm_tables
from sync.sandbox.mailchimp import MailchimpSandbox
from tests.cli.run import crm_sync, project_copy, sandbox_env, start
from tests.segments.test_push import SEGMENTS


@pytest.fixture
def sandbox():
    with MailchimpSandbox() as running:
        yield running
        assert running.internal_errors == []


@pytest.fixture
def project(tmp_path, sandbox):
    folder = project_copy(tmp_path)
    (folder / "config" / "segments.yaml").write_text(SEGMENTS)
    env = sandbox_env(folder, sandbox, "Newsletter", contacts=300, seed=11)
    return folder, env


def writes(sandbox: MailchimpSandbox) -> int:
    return sum(sandbox.request_count(method) for method in ("POST", "PUT", "PATCH", "DELETE"))


def segment_entries(folder) -> list[str]:
    """The external keys of the CRM's segment history entries, straight from SQL."""
    activities = crm_tables().activities
    engine = create_engine(f"sqlite:///{folder / 'crm.db'}")
    with engine.connect() as connection:
        keys = [row[0] for row in connection.execute(select(activities.c.external_key).where(
            activities.c.kind == "segment_added"))]
    engine.dispose()
    return keys


def test_the_marketer_sees_the_preview_and_no_sends_nothing(project, sandbox):
    folder, env = project
    result = crm_sync("segment", "push", "spenders", cwd=folder, env=env, input="n\n")
    assert result.code == 1 and "Aborted" in result.err
    assert "Segment spenders (audience newsletter, mailing 'Thank you 2027')" in result.out
    assert "e-mail recipient(s) to audience newsletter" in result.out
    assert writes(sandbox) == 0 and segment_entries(folder) == []


def test_yes_pushes_marks_records_and_writes_the_post_part(project, sandbox):
    folder, env = project
    result = crm_sync("segment", "push", "by-post", "--yes", cwd=folder, env=env)
    assert result.code == 0, result.out + result.err
    assert "provider segment 'crm-sync: by-post' (created)" in result.out
    assert (folder / "segment-by-post-post.csv").read_text().startswith("contact_id,name,organisation,street")
    assert "post part:" in result.out and "CRM history:" in result.out
    keys = segment_entries(folder)
    assert keys and len(keys) == len(set(keys))
    again = crm_sync("segment", "push", "by-post", "--yes", cwd=folder, env=env)
    assert again.code == 0 and "0 joined, 0 left" in again.out and "0 entries written" in again.out
    assert sorted(segment_entries(folder)) == sorted(keys)


def test_a_push_killed_after_the_provider_took_the_segment_is_finished_by_the_rerun(project, sandbox):
    folder, env = project
    # The answers to the ownership-tag request and then to the marking are held: the process is killed while
    # the marking's answer is on its way back (the tag request also goes to a /segments/ route).
    sandbox.faults.hold_answer_next(5, 8, method="POST", path_contains="/segments/")
    process = start(folder, env, "segment", "push", "spenders", "--yes")
    deadline = time.monotonic() + 60
    list_id = env["CRM_SYNC_AUDIENCES__NEWSLETTER__AUDIENCE_ID"]
    while not sandbox.segment_emails(list_id, "crm-sync: spenders") and time.monotonic() < deadline:
        time.sleep(0.02)  # the marking took effect; its answer is held
    process.send_signal(signal.SIGKILL)
    process.wait(timeout=10)
    marked = set(sandbox.segment_emails(list_id, "crm-sync: spenders"))
    assert marked and segment_entries(folder) == []  # the provider took them; the CRM heard nothing yet
    result = crm_sync("segment", "push", "spenders", "--yes", cwd=folder, env=env)
    assert result.code == 0, result.out + result.err
    assert "0 joined, 0 left" in result.out
    assert set(sandbox.segment_emails(list_id, "crm-sync: spenders")) == marked
    keys = segment_entries(folder)
    assert len(keys) == len(set(keys)) > len(marked)  # every recipient and organisation, once
    status = crm_sync("status", cwd=folder, env=env)
    assert "segment" in status.out
