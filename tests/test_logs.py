"""Logging: text and JSON lines, quiet third-party loggers, and secrets masked wherever they hide in a record."""

from __future__ import annotations

import io
import json
import logging
import os
import re
from datetime import UTC, datetime

import pytest

from sync.logs import QUIET_LOGGERS, configure_logging, secrets_in
from sync.settings import load_settings

API_KEY = "0123456789abcdef0123456789abcdef-us21"
PASSWORD = "Tr0ub4dor&3"


@pytest.fixture(autouse=True)
def restore_logging():
    """configure_logging changes the process's root logger; put it back so other tests are unaffected."""
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    quiet_levels = {name: logging.getLogger(name).level for name in QUIET_LOGGERS}
    yield
    for handler in [h for h in root.handlers if h not in handlers]:
        root.removeHandler(handler)
        handler.close()
    root.setLevel(level)
    for name, quiet_level in quiet_levels.items():
        logging.getLogger(name).setLevel(quiet_level)


def configured(log_format: str, secrets=(), verbose: bool = False) -> io.StringIO:
    stream = io.StringIO()
    configure_logging(log_format, verbose, secrets=secrets, stream=stream)
    return stream


def json_lines(stream: io.StringIO) -> list[dict]:
    return [json.loads(line) for line in stream.getvalue().splitlines()]


def test_json_lines_carry_time_level_logger_message_and_extras():
    stream = configured("json")
    log = logging.getLogger("sync.push.executor")
    log.info("pushed %d of %s", 3, "newsletter", extra={"audience": "newsletter", "run_id": 7,
                                                         "counts": {"create": 2, "update": 1}})
    log.warning("second line")
    first, second = json_lines(stream)
    assert (first["level"] == "INFO" and first["logger"] == "sync.push.executor"
            and first["message"] == "pushed 3 of newsletter")
    assert first["audience"] == "newsletter" and first["run_id"] == 7 and first["counts"] == {"create": 2, "update": 1}
    assert first["ts"].endswith("Z")
    stamp = datetime.fromisoformat(first["ts"])
    assert stamp.utcoffset().total_seconds() == 0 and abs((datetime.now(UTC) - stamp).total_seconds()) < 60
    assert second["level"] == "WARNING" and "exception" not in second


def test_json_exception_is_one_field_of_one_line():
    stream = configured("json")
    try:
        raise ValueError("the CRM said no")
    except ValueError:
        logging.getLogger("sync.runner").exception("audience %s failed", "newsletter")
    [record] = json_lines(stream)
    assert record["message"] == "audience newsletter failed"
    assert record["exception"].startswith("Traceback") and "ValueError: the CRM said no" in record["exception"]


def test_text_lines_are_short_and_human():
    stream = configured("text")
    logging.getLogger("sync.connectors.mailchimp.audience").info("retrying in %ss", 2, extra={"audience": "newsletter"})
    line = stream.getvalue()
    assert re.fullmatch(r"\d\d:\d\d:\d\d INFO +mailchimp: retrying in 2s audience=newsletter\n", line), line


def test_text_exception_follows_its_message_line():
    stream = configured("text")
    try:
        raise KeyError("tier")
    except KeyError:
        logging.getLogger("sync.mapping").exception("mapping failed", extra={"audience": "a"})
    message_line, *traceback = stream.getvalue().splitlines()
    assert message_line.endswith("mapping: mapping failed audience=a")
    assert traceback[0] == "Traceback (most recent call last):" and traceback[-1] == "KeyError: 'tier'"


@pytest.mark.parametrize("text, secret", [
    (f"calling with key {API_KEY}", API_KEY.split("-")[0]),
    ("state store postgresql+psycopg://crm:s3cr%40t@db.example/state", "s3cr%40t"),
    ("raw password: mysql+pymysql://root:p@ss/w0rd@db:3306/crm", "p@ss/w0rd"),
    ("header Authorization: Basic YW55c3RyaW5nOmtleQ==", "YW55c3RyaW5nOmtleQ=="),
    ("headers {'Authorization': 'Bearer eyJhbGciOi.abc.def', 'Accept': 'json'}", "eyJhbGciOi.abc.def"),
    ("authorization=apikey 9f8e7d6c", "9f8e7d6c"),
])
@pytest.mark.parametrize("log_format", ["text", "json"])
def test_secret_patterns_are_masked_without_being_told_the_secret(log_format, text, secret):
    stream = configured(log_format)
    logging.getLogger("sync.test").info("%s", text)
    output = stream.getvalue()
    assert secret not in output and "***" in output
    if log_format == "json":
        assert len(json_lines(stream)) == 1


def test_pattern_masking_keeps_what_is_not_secret():
    stream = configured("json")
    logging.getLogger("sync.test").info("key %s at postgresql://crm:pw@db.example/state for a@example.com", API_KEY)
    [record] = json_lines(stream)
    assert record["message"] == "key ***-us21 at postgresql://crm:***@db.example/state for a@example.com"


@pytest.mark.parametrize("log_format", ["text", "json"])
def test_passed_secrets_are_masked_in_message_args_extras_and_tracebacks(log_format):
    stream = configured(log_format, secrets=[PASSWORD, "opaque-token-42", ""])
    log = logging.getLogger("sync.test")
    log.info("connecting with " + PASSWORD)
    log.info("password %s, token %r", PASSWORD, "opaque-token-42")
    log.info("url-encoded: %s", "Tr0ub4dor%263")
    log.info("extras", extra={"detail": f"pw={PASSWORD}", "nested": {"token": ["opaque-token-42"]},
                              "thing": ValueError(PASSWORD)})
    try:
        raise RuntimeError(f"login failed for password {PASSWORD}")
    except RuntimeError:
        log.exception("cannot connect")
    log.info("stack", stack_info=True)  # the stack shows this source line: Tr0ub4dor&3
    output = stream.getvalue()
    assert PASSWORD not in output and "opaque-token-42" not in output and "Tr0ub4dor%263" not in output
    assert output.count("***") >= 8 and "login failed for password ***" in output
    if log_format == "json":
        records = json_lines(stream)
        assert len(records) == 6 and records[3]["nested"] == {"token": ["***"]}
        assert "RuntimeError: login failed for password ***" in records[4]["exception"]


def test_other_root_handlers_see_the_masked_record_too():
    before = io.StringIO()
    root = logging.getLogger()
    earlier = logging.StreamHandler(before)
    root.addHandler(earlier)  # added before configure_logging, as a test runner's or error tracker's would be
    try:
        configured("text", secrets=[PASSWORD])
        logging.getLogger("sync.test").info("pw %s", PASSWORD)
    finally:
        root.removeHandler(earlier)
    assert before.getvalue() == "pw ***\n"


def test_bad_format_arguments_do_not_break_the_caller():
    stream = configured("json", secrets=[PASSWORD])
    logging.getLogger("sync.test").info("two %s %s", PASSWORD)  # noqa: PLE1206 - the mistake under test
    [record] = json_lines(stream)
    assert PASSWORD not in record["message"] and "two %s %s" in record["message"]


@pytest.mark.parametrize("verbose", [False, True])
def test_third_party_detail_and_debug_only_when_verbose(verbose):
    stream = configured("json", verbose=verbose)
    logging.getLogger("alembic.runtime.migration").info("Context impl SQLiteImpl.")
    logging.getLogger("urllib3.connectionpool").debug("Starting new HTTP connection (1)")
    logging.getLogger("mailchimp_marketing.rest").info("response body")
    logging.getLogger("sync.push.executor").debug("batch 3 sent")
    logging.getLogger("sync.push.executor").info("pushed")
    logging.getLogger("urllib3.connectionpool").warning("Connection pool is full")
    loggers = [record["logger"] for record in json_lines(stream)]
    quiet = ["sync.push.executor", "urllib3.connectionpool"]
    chatty = ["alembic.runtime.migration", "urllib3.connectionpool", "mailchimp_marketing.rest", "sync.push.executor",
              "sync.push.executor", "urllib3.connectionpool"]
    assert loggers == (chatty if verbose else quiet)


def test_configuring_again_replaces_the_handler():
    first = configured("text")
    second = configured("json")
    logging.getLogger("sync.test").info("once")
    assert first.getvalue() == "" and [record["message"] for record in json_lines(second)] == ["once"]


def test_unknown_format_is_refused():
    with pytest.raises(ValueError, match="text, json"):
        configure_logging("xml", verbose=False, stream=io.StringIO())


def test_secrets_in_settings_are_the_api_key_and_database_passwords(monkeypatch, tmp_path):
    for name in list(os.environ):
        if name.startswith("CRM_SYNC_"):
            monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("CRM_SYNC_MAILCHIMP__API_KEY", API_KEY)
    monkeypatch.setenv("CRM_SYNC_CRM__URL", "postgresql+psycopg://crm:s3cr%40t@db.example/crm")
    monkeypatch.setenv("CRM_SYNC_STATE__URL", "sqlite:///data/state.db")
    secrets = secrets_in(load_settings())
    assert sorted(secrets) == sorted([API_KEY, "s3cr%40t", "s3cr@t"])


def test_secrets_in_a_malformed_url_are_still_found(monkeypatch, tmp_path):
    for name in list(os.environ):
        if name.startswith("CRM_SYNC_"):
            monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("CRM_SYNC_STATE__URL", "postgresql://u:pw@host:notaport/db")
    assert secrets_in(load_settings()) == ["pw"]
