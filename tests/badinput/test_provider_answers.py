"""Provider answers that are wrong or missing: error statuses with and without a body, HTML and truncated JSON
under any status, Retry-After beyond the retry budget, dropped connections, slow answers, a closed port.

Every case is a `crm-sync run` of two audiences, ``newsletter`` (Mailchimp) and ``nieuwsbrief`` (Spotler), with
one provider misbehaving through its sandbox's fault plan. A lasting fault ends that audience with a clear
error (exit 3 when a setting must change, else 4) while the other audience is still pushed in full and pulled;
a passing fault is retried and costs nothing.
"""

from __future__ import annotations

import pytest

from tests.badinput.harness import Case, param
from tests.badinput.worlds import WRITTEN

LASTING = 10_000
BUDGET = "Set CRM_SYNC_{}__RETRY_SECONDS"


def other_synced(broken: str):
    """The audience that is not ``broken`` was pushed in full and pulled; returns the members it synced."""
    def check(workspace, result) -> int:
        good = "nieuwsbrief" if broken == "newsletter" else "newsletter"
        members = (len(workspace.spotler.contacts()) if good == "nieuwsbrief"
                   else workspace.mailchimp.member_count(workspace.list_id))
        assert members == WRITTEN, result.text
        outcomes = {(kind, outcome) for kind, audience, outcome, _ in workspace.runs() if audience == good}
        assert outcomes == {("push", "ok"), ("pull", "ok")}, workspace.runs()
        assert f"audience {broken}: push failed" in result.err and f"audience {broken}: pull failed" in result.err
        return members
    return check


def both_synced(workspace, result) -> int:
    """A passing fault: both audiences pushed in full and pulled."""
    assert workspace.mailchimp.member_count(workspace.list_id) == len(workspace.spotler.contacts()) == WRITTEN
    assert [outcome for _, _, outcome, _ in workspace.runs()] == ["ok"] * 4, workspace.runs()
    return 2 * WRITTEN


def mailchimp(name: str, code: int, *expect: str, env=None, **fault) -> Case:
    """Every Mailchimp request answered by the fault (``n`` of them: passing, then the case exits 0)."""
    n = fault.pop("n", LASTING)
    return Case(f"mailchimp {name}", ("run",), code=code, expect=expect, network=True, env=env or {},
                setup=lambda ws: _fault(ws.mailchimp.faults, n, fault),
                still=both_synced if code == 0 else other_synced("newsletter"))


def spotler(name: str, code: int, *expect: str, env=None, **fault) -> Case:
    n = fault.pop("n", LASTING)
    return Case(f"spotler {name}", ("run",), code=code, expect=expect, network=True, env=env or {},
                setup=lambda ws: _fault(ws.spotler.faults, n, fault),
                still=both_synced if code == 0 else other_synced("nieuwsbrief"))


def _fault(faults, n: int, fault: dict) -> None:
    kind = fault.pop("kind", "fail")
    if kind == "drop":
        faults.drop_next(n)
    elif kind == "slow":
        faults.slow_next(n, fault["seconds"])
    else:
        faults.fail_next(n, fault.pop("status"), body=fault.pop("body", "empty"), **fault)


SHORT_TIMEOUT = {"CRM_SYNC_MAILCHIMP__TIMEOUT_SECONDS": "0.5", "CRM_SYNC_SPOTLER__TIMEOUT_SECONDS": "0.5"}
CLOSED = {"CRM_SYNC_MAILCHIMP__BASE_URL": "http://127.0.0.1:1/3.0",
          "CRM_SYNC_SPOTLER__BASE_URL": "http://127.0.0.1:1/integrationservice-1.1.0"}

MC = "audience newsletter: push failed: Mailchimp "
SP = "audience nieuwsbrief: push failed: Spotler "
GAVE_UP = "it asked to be retried after 3600 s, more than the 3 s left of retry_seconds (3 s), so crm-sync gave up"
NOT_JSON = "Check the base_url setting if it lasts"

PROVIDER_CASES = [
    mailchimp("401 problem", 3, MC + "refused the credentials (401 API Key Invalid",
              "Check CRM_SYNC_MAILCHIMP__API_KEY (key mailchimp.api_key)", status=401, body="problem"),
    mailchimp("403 problem", 3, MC + "refused the credentials (403 Forbidden", status=403, body="problem"),
    mailchimp("403 without a body", 4, MC + "answered 403 (no body)", "attempt 1 failed: Mailchimp answered 403",
              status=403),
    mailchimp("404 problem", 3, MC + "has no audience '$list' at $mc: check the audience_id setting",
              status=404, body="problem"),
    mailchimp("429 lasting", 4, MC + "answered 429 (no body)", "(gives up at ", status=429),
    mailchimp("429 Retry-After 3600", 4, MC + "answered 429 (no body); " + GAVE_UP, status=429, retry_after=3600),
    mailchimp("500 problem", 4, MC + "answered 500 Internal Server Error", status=500, body="problem"),
    mailchimp("502 HTML page", 4, MC + "answered 502", status=502, body="html"),
    mailchimp("503 without a body", 4, MC + "answered 503 (no body)", status=503),
    mailchimp("504 truncated JSON", 4, MC + "answered 504", status=504, body="truncated"),
    mailchimp("200 HTML page", 4, MC + "answered 200 with a page that is not JSON ('<html><head><title>Request "
              "Blocked", NOT_JSON, status=200, body="html"),
    mailchimp("200 truncated JSON", 4, MC + 'answered 200 with a page that is not JSON (\'{"title": "OK"', NOT_JSON,
              status=200, body="truncated"),
    mailchimp("dropped connections", 4, MC + "could not be reached: ('Connection aborted.'", kind="drop"),
    mailchimp("answers slower than the timeout", 4, MC + "could not be reached: ", "Read timed out. (read timeout=0.5)",
              kind="slow", seconds=2, env=SHORT_TIMEOUT),
    Case("mailchimp closed port", ("run",), code=4, network=True,
         env={"CRM_SYNC_MAILCHIMP__BASE_URL": CLOSED["CRM_SYNC_MAILCHIMP__BASE_URL"]},
         expect=(MC + "could not be reached: HTTPConnectionPool(host='127.0.0.1', port=1)",),
         still=other_synced("newsletter")),
    mailchimp("two 503s then answers", 0, "attempt 2 failed: Mailchimp answered 503 (no body); retrying in",
              n=2, status=503),
    mailchimp("a 429 with Retry-After 1", 0, "attempt 1 failed: Mailchimp answered 429 (no body); retrying in 1.0 s",
              n=1, status=429, retry_after=1),
    mailchimp("two HTML pages under 200", 0, "attempt 2 failed: Mailchimp answered 200 with a page that is not JSON",
              n=2, status=200, body="html"),
    mailchimp("two truncated JSON answers", 0, "attempt 2 failed: Mailchimp answered 200 with a page that is not "
              "JSON", n=2, status=200, body="truncated"),
    mailchimp("two dropped connections", 0, "attempt 2 failed: Mailchimp could not be reached", n=2, kind="drop"),
    spotler("401 JSON", 3, SP + "refused the credentials (401 NOT_AUTHORIZED", "Check CRM_SYNC_SPOTLER__CONSUMER_KEY "
            "and CRM_SYNC_SPOTLER__CONSUMER_SECRET", status=401, body="json"),
    spotler("403 JSON", 3, SP + "refused the credentials (403 ", status=403, body="json"),
    Case("spotler 404 JSON", ("run",), code=3, network=True, expect=(SP,), still=other_synced("nieuwsbrief"),
         setup=lambda ws: _fault(ws.spotler.faults, LASTING, {"status": 404, "body": "json"})),
    spotler("429 Retry-After 3600", 4, SP + "answered 429 (no body); " + GAVE_UP, status=429, retry_after=3600),
    spotler("500 JSON", 4, SP + "answered 500 BACKEND_EXCEPTION", status=500, body="json"),
    spotler("502 HTML page", 4, SP + "answered 502", status=502, body="html"),
    spotler("503 without a body", 4, SP + "answered 503 (no body)", status=503),
    spotler("200 HTML page", 4, SP + "answered 200 with a page that is not JSON ('<html><head><title>502 Bad "
            "Gateway", NOT_JSON, status=200, body="html"),
    spotler("200 truncated JSON", 4, SP + 'answered 200 with a page that is not JSON (\'{"errorType"', NOT_JSON,
            status=200, body="truncated"),
    spotler("dropped connections", 4, SP + "could not be reached", kind="drop"),
    spotler("answers slower than the timeout", 4, SP + "could not be reached", kind="slow", seconds=2,
            env=SHORT_TIMEOUT),
    Case("spotler closed port", ("run",), code=4, network=True,
         env={"CRM_SYNC_SPOTLER__BASE_URL": CLOSED["CRM_SYNC_SPOTLER__BASE_URL"]},
         expect=(SP + "could not be reached: ConnectionError",), still=other_synced("nieuwsbrief")),
    spotler("two 503s then answers", 0, "attempt 2 failed: Spotler answered 503 (no body); retrying in",
            n=2, status=503),
    spotler("a 429 with Retry-After 1", 0, "attempt 1 failed: Spotler answered 429 (no body); retrying in 1.0 s",
            n=1, status=429, retry_after=1),
    spotler("two HTML pages under 200", 0, "attempt 2 failed: Spotler answered 200 with a page that is not JSON",
            n=2, status=200, body="html"),
    spotler("two truncated JSON answers", 0, "attempt 2 failed: Spotler answered 200 with a page that is not JSON",
            n=2, status=200, body="truncated"),
]


@pytest.mark.parametrize("case", [param(case) for case in PROVIDER_CASES])
def test_a_bad_provider_answer(fresh, case):
    fresh.run("provider answers", case)
