"""Schema descriptions: which tables and columns of a SQL CRM hold contacts, consent, custom fields,
target lists and activities.

A description is a YAML file (``schemas/embedded.yaml`` describes the embedded demo CRM). Loading
validates it; binding it to a database checks by reflection that every named table and column exists.
Every problem names the file, the line and the key.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    PrivateAttr,
    StringConstraints,
    ValidationError,
)
from sqlalchemy import Boolean, Column, Engine, MetaData, Table, inspect
from sqlalchemy.types import NullType

from sync.errors import Problem, ProblemsFound
from sync.records import CrmFieldType
from sync.yamlfile import YamlDocument, dotted, model_keys, read_yaml

EMBEDDED_SCHEMA = Path(__file__).with_name("schemas") / "embedded.yaml"

_SQL_NAME = StringConstraints(pattern=r"^[A-Za-z_][A-Za-z0-9_$]*$", max_length=64)
_IS_COLUMN = "column"  # marks the fields below whose value is a column of the section's table

TableName = Annotated[str, _SQL_NAME]
ColumnName = Annotated[str, _SQL_NAME, _IS_COLUMN]
OptionalColumn = Annotated[ColumnName | None, _IS_COLUMN]
FieldName = Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_]*$", max_length=64)]


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class StandardField(_Section):
    """A contact column exposed as a CRM field."""

    column: ColumnName
    label: str = Field(min_length=1, max_length=100)
    type: CrmFieldType


class ConsentColumns(_Section):
    """Contact columns holding consent and deliverability flags."""

    email_opt_in: ColumnName
    email_opt_out: ColumnName
    email_invalid: ColumnName
    invalid_reason: ColumnName
    postal_opt_in: ColumnName


class ContactsSection(_Section):
    table: TableName
    id: ColumnName
    email: ColumnName
    # Optional: a column the CRM keeps equal to the address as sync/addresses.py normalises it, with an index.
    # When named, look-ups by address use it; without it they read the addresses and normalise them in Python.
    email_key: OptionalColumn = None
    modified_at: ColumnName
    deleted: ColumnName
    organisation_id: ColumnName
    fields: dict[FieldName, StandardField] = Field(min_length=1)
    consent: ConsentColumns


class OrganisationsSection(_Section):
    table: TableName
    id: ColumnName
    mailing_locked: ColumnName
    # Optional: when an organisation last changed (naive UTC). Named, an incremental push re-reads the contacts
    # of organisations changed since the last run (a mailing lock set); without it only a full run sees them.
    modified_at: OptionalColumn = None
    fields: dict[FieldName, StandardField] = {}  # organisation columns offered as contact fields


class CustomFieldValues(_Section):
    """The wide table with one column per custom field, keyed by contact."""

    table: TableName
    contact_id: ColumnName


class CustomFieldsSection(_Section):
    """The custom-field metadata table, one row per field."""

    table: TableName
    name: ColumnName
    label: ColumnName
    type: ColumnName
    choices: ColumnName
    column: ColumnName
    type_map: dict[str, CrmFieldType] = Field(min_length=1)  # the CRM's type names -> ours
    values: CustomFieldValues


class MembersSection(_Section):
    table: TableName
    list_id: ColumnName
    contact_id: ColumnName


class TargetListsSection(_Section):
    table: TableName
    id: ColumnName
    name: ColumnName
    members: MembersSection


class ActivitiesSection(_Section):
    table: TableName
    external_key: ColumnName
    contact_id: ColumnName
    organisation_id: ColumnName
    kind: ColumnName
    subject: ColumnName
    body: ColumnName
    first_at: ColumnName
    last_at: ColumnName
    details: ColumnName
    created_at: ColumnName
    modified_at: ColumnName


class SchemaDescription(_Section):
    """A validated schema description; ``where(path)`` says where a key stands in its file."""

    version: Literal[1]
    contacts: ContactsSection
    organisations: OrganisationsSection
    custom_fields: CustomFieldsSection
    target_lists: TargetListsSection
    activities: ActivitiesSection

    _file: str = PrivateAttr("")
    _lines: dict[tuple, int] = PrivateAttr(default_factory=dict)

    @property
    def file(self) -> str:
        return self._file

    def where(self, path: tuple[str, ...]) -> int | None:
        """1-based line of ``path`` (e.g. ``("contacts", "email")``) in the file, if known."""
        return self._lines.get(path)

    def standard_fields(self) -> Iterator[tuple[str, str, StandardField]]:
        """(field name, table, spec) of every standard field: contact columns, then organisation columns."""
        for name, spec in self.contacts.fields.items():
            yield name, self.contacts.table, spec
        for name, spec in self.organisations.fields.items():
            yield name, self.organisations.table, spec

    def column_refs(self) -> Iterator[tuple[tuple[str, ...], str, str | None]]:
        """Every (key path, table, column) the description names; column None for a table key."""
        for name in ("contacts", "organisations", "custom_fields", "target_lists", "activities"):
            yield from _refs(getattr(self, name), None, (name,))


def _refs(section: BaseModel, outer_table: str | None, path: tuple[str, ...]
          ) -> Iterator[tuple[tuple[str, ...], str, str | None]]:
    table = getattr(section, "table", outer_table)
    if table is None:  # every column sits in a section that names its table, or inside one
        raise ValueError(f"{'.'.join(path)}: no table")
    if "table" in type(section).model_fields:
        yield path + ("table",), table, None
    for name, info in type(section).model_fields.items():
        value = getattr(section, name)
        if _IS_COLUMN in info.metadata:
            if value is not None:  # an optional column left out
                yield path + (name,), table, value
        elif isinstance(value, BaseModel):
            yield from _refs(value, table, path + (name,))
        elif isinstance(value, dict):
            for key, item in value.items():
                if isinstance(item, BaseModel):
                    yield from _refs(item, table, path + (name, key))


def load_schema_description(path: Path | None = None) -> SchemaDescription:
    """Read and validate a schema description (default: the embedded CRM's).

    Raises ProblemsFound naming file, line and key for a syntax error, an unknown or missing key, or a
    wrong value.
    """
    path = path or EMBEDDED_SCHEMA
    document = read_yaml(path)
    data = document.data
    if not isinstance(data, dict):
        raise ProblemsFound([Problem(str(path), 1, "(top)", "a schema description must be a mapping of sections")])
    try:
        description = SchemaDescription.model_validate(data)
    except ValidationError as error:
        problems = [_problem(item, document) for item in error.errors()]
        raise ProblemsFound(sorted(problems, key=lambda problem: problem.line or 0)) from None
    clashes = [name for name in description.organisations.fields if name in description.contacts.fields]
    if clashes:
        raise ProblemsFound([
            Problem(str(path), document.line_of(("organisations", "fields", name)), f"organisations.fields.{name}",
                    "a contact field has this name already; field names must be unique")
            for name in clashes
        ])
    description._file = str(path)
    description._lines = {ref: line for ref, _, _ in description.column_refs()
                          if (line := document.line_of(ref)) is not None}
    return description


def _problem(item: Mapping[str, Any], document: YamlDocument) -> Problem:
    location = tuple(item["loc"])
    line = document.line_of(location) or 1
    if item["type"] == "extra_forbidden":
        allowed = _allowed_keys(location[:-1])
        close = difflib.get_close_matches(str(location[-1]), allowed, n=1)
        return Problem(str(document.path), line, dotted(location), "unknown key",
                       close[0] if close else None)
    if item["type"] == "missing":
        return Problem(str(document.path), line, dotted(location), "missing key")
    value = item.get("input")
    shown = f" (got {value!r})" if isinstance(value, (str, int, float, bool)) else ""
    return Problem(str(document.path), line, dotted(location), f"{item['msg']}{shown}")


def _allowed_keys(location: tuple) -> list[str]:
    return model_keys(SchemaDescription, location)


@dataclass(frozen=True)
class BoundSchema:
    """A description checked against one database, with its tables reflected."""

    description: SchemaDescription
    tables: Mapping[str, Table]

    def column(self, table: str, column: str) -> Column:
        return self.tables[table].c[column]


_MAX_PROBLEMS = 10


def bind_schema(description: SchemaDescription, engine: Engine) -> BoundSchema:
    """Reflect the described tables; ProblemsFound names each missing table or column (the first ten)."""
    existing = set(inspect(engine).get_table_names())
    wanted = {table for _, table, _ in description.column_refs()}
    if not wanted & existing:
        key = ("contacts", "table")
        raise ProblemsFound([Problem(
            description.file, description.where(key), dotted(key),
            f"the database has none of the described tables ({', '.join(sorted(wanted))}); is the URL right? "
            "`crm-sync demo init` creates the demo CRM",
        )])
    metadata = MetaData()
    metadata.reflect(bind=engine, only=sorted(wanted & existing), resolve_fks=False)  # missing ones: below
    _read_booleans_raw(metadata)
    problems = []
    for path, table, column in description.column_refs():
        if table not in existing:
            if column is None:
                problems.append(Problem(description.file, description.where(path), dotted(path),
                                        f"table '{table}' does not exist in the database",
                                        _closest(table, existing)))
        elif column is not None and column not in metadata.tables[table].c:
            problems.append(Problem(description.file, description.where(path), dotted(path),
                                    f"table '{table}' has no column '{column}'",
                                    _closest(column, metadata.tables[table].c.keys())))
    if problems:
        raise ProblemsFound(problems[:_MAX_PROBLEMS])
    return BoundSchema(description, {name: metadata.tables[name] for name in wanted})


def _read_booleans_raw(metadata: MetaData) -> None:
    """Boolean columns hand back what they hold: SQLAlchemy would turn any text in them ('nee') into True,
    and consent must only ever be read from a clear yes (sync/connectors/sql/read.py decides)."""
    for table in metadata.tables.values():
        for column in table.columns:
            if isinstance(column.type, Boolean):
                column.type = NullType()


def _closest(name: str, candidates) -> str | None:
    close = difflib.get_close_matches(name, list(candidates), n=1)
    return close[0] if close else None
