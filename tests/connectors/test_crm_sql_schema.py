"""Schema descriptions: file:line:key errors on load, missing tables/columns on connect, unreachable databases."""

from __future__ import annotations

import os

import pytest
from sqlalchemy import make_url

from sync.connectors.sql.crm import open_crm
from sync.connectors.sql.schema import EMBEDDED_SCHEMA, load_schema_description
from sync.demo.crm.generate import create_demo_crm
from sync.errors import ConfigError, ConnectionFailed, ProblemsFound
from tests.databases import SERVER_ENV

SHIPPED = EMBEDDED_SCHEMA.read_text(encoding="utf-8")


def line_of(text: str, fragment: str) -> int:
    return next(number for number, line in enumerate(text.splitlines(), 1) if fragment in line)


def edited(tmp_path, old: str, new: str):
    assert old in SHIPPED
    text = SHIPPED.replace(old, new, 1)
    path = tmp_path / "crm-schema.yaml"
    path.write_text(text, encoding="utf-8")
    return path, text


def test_shipped_description_names_every_table_and_knows_its_lines():
    description = load_schema_description()
    tables = {table for _, table, _ in description.column_refs()}
    assert tables == {"contacts", "organisations", "custom_fields", "contacts_cf", "target_lists",
                      "target_list_members", "activities"}
    assert description.where(("contacts", "fields", "birthday", "column")) == line_of(SHIPPED, "birthday: {")
    assert description.file == str(EMBEDDED_SCHEMA)


def test_a_misspelt_key_is_named_with_file_line_and_a_suggestion(tmp_path):
    path, text = edited(tmp_path, "  modified_at: modified_at        # naive UTC", "  modifed_at: modified_at")
    with pytest.raises(ProblemsFound) as raised:
        load_schema_description(path)
    messages = [str(problem) for problem in raised.value.problems]
    line = line_of(text, "modifed_at:")
    assert f"{path}:{line}: contacts.modifed_at: unknown key (did you mean 'modified_at'?)" in messages
    assert any(m.startswith(f"{path}:") and "contacts.modified_at: missing key" in m for m in messages)


def test_a_wrong_value_is_named_with_its_line(tmp_path):
    path, text = edited(tmp_path, "first_name: {column: first_name, label: First name, type: text}",
                        "first_name: {column: first_name, label: First name, type: txt}")
    with pytest.raises(ProblemsFound) as raised:
        load_schema_description(path)
    (problem,) = raised.value.problems
    assert (problem.file, problem.line, problem.key) == (str(path), line_of(text, "first_name: {"),
                                                         "contacts.fields.first_name.type")
    assert "'text'" in problem.message and "'txt'" in problem.message


def test_a_column_name_that_is_not_an_sql_name_is_refused(tmp_path):
    path, text = edited(tmp_path, "  email: email\n", "  email: e mail\n")
    with pytest.raises(ProblemsFound, match=rf"{path}:{line_of(text, 'email: e mail')}: contacts.email: .*pattern"):
        load_schema_description(path)


def test_a_missing_section_and_a_wrong_version_are_both_reported(tmp_path):
    path, _ = edited(tmp_path, "version: 1", "version: 2")
    text = path.read_text(encoding="utf-8")
    start = text.index("activities:")
    path.write_text(text[:start], encoding="utf-8")
    with pytest.raises(ProblemsFound) as raised:
        load_schema_description(path)
    keys = {problem.key: problem.message for problem in raised.value.problems}
    assert keys["activities"] == "missing key" and "version" in keys


def test_a_field_name_used_twice_is_refused(tmp_path):
    path, text = edited(tmp_path, "organisation_name: {column: name", "city: {column: name")
    line = line_of(text, "city: {column: name")
    with pytest.raises(ProblemsFound, match=rf":{line}: organisations.fields.city: a contact field has this name"):
        load_schema_description(path)


def test_yaml_syntax_errors_and_missing_files_are_config_errors(tmp_path):
    path = tmp_path / "broken.yaml"
    path.write_text("version: 1\ncontacts:\n  table: [contacts\n", encoding="utf-8")
    with pytest.raises(ProblemsFound, match=rf"{path}:\d+: \(yaml\): not valid YAML"):
        load_schema_description(path)
    with pytest.raises(ConfigError, match="file not found"):
        load_schema_description(tmp_path / "absent.yaml")
    path.write_text("- just\n- a list\n", encoding="utf-8")
    with pytest.raises(ProblemsFound, match="must be a mapping"):
        load_schema_description(path)


def test_missing_tables_and_columns_are_named_on_connect(database_url, tmp_path):
    create_demo_crm(database_url, contacts=10, seed=1)
    path, text = edited(tmp_path, "  table: target_lists\n", "  table: target_list\n")
    text = text.replace("invalid_reason: email_invalid_reason", "invalid_reason: email_invalid_reson")
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ProblemsFound) as raised:
        open_crm(database_url, path)
    messages = [str(problem) for problem in raised.value.problems]
    assert messages == [
        f"{path}:{line_of(text, 'invalid_reason:')}: contacts.consent.invalid_reason: table 'contacts' has no "
        "column 'email_invalid_reson' (did you mean 'email_invalid_reason'?)",
        f"{path}:{line_of(text, 'table: target_list')}: target_lists.table: table 'target_list' does not exist "
        "in the database (did you mean 'target_lists'?)",
    ]


def test_an_empty_database_gets_a_hint(database_url):
    with pytest.raises(ProblemsFound, match="none of the described tables.*crm-sync demo init"):
        open_crm(database_url)


@pytest.mark.parametrize("url", [
    "postgresql+psycopg://crm:s3cret@127.0.0.1:1/crm",
    "mysql+pymysql://crm:s3cret@127.0.0.1:1/crm",
])
def test_an_unreachable_database_is_connection_failed_without_the_password(url):
    with pytest.raises(ConnectionFailed) as raised:
        open_crm(url)
    message = str(raised.value)
    assert "s3cret" not in message and "crm:***@127.0.0.1:1" in message and "Check" in message


@pytest.mark.parametrize("backend", ["postgresql", "mariadb"])
def test_a_refused_login_is_connection_failed_without_the_password(backend):
    server = os.environ.get(SERVER_ENV[backend])
    if not server:
        pytest.skip(f"needs {SERVER_ENV[backend]}")
    url = make_url(server).set(username="nobody", password="s3cret").render_as_string(hide_password=False)
    with pytest.raises(ConnectionFailed) as raised:
        open_crm(url)
    assert "s3cret" not in str(raised.value) and "nobody:***@" in str(raised.value)


def test_a_malformed_url_is_a_config_error():
    with pytest.raises(ConfigError, match="is not a database URL") as raised:
        open_crm("crm.example:5432 user=admin password=s3cret")
    assert "s3cret" not in str(raised.value)
