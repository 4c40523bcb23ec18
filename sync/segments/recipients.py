"""The recipients CSV files: the preview's export, the marketer's edited copy read back, the post part.

Every exported cell that a spreadsheet would take for a formula (starting with ``=``, ``+``, ``-``, ``@``, a
tab or a carriage return) is prefixed with ``'``; reading the file back removes that prefix again.

An edited file can only take recipients out (send "no"); it never adds or sends anyone the rules leave out.
A row that names a contact outside the selection, changes an address, says "yes" for a contact the rules
leave out, repeats a contact or has an unreadable send value is a problem naming its line; the contact of
such a row is left out, and the problems are reported (the push refuses to send while there are any).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, replace
from pathlib import Path

from sync.addresses import normalise_email
from sync.errors import ConfigError
from sync.segments.rules import NOT_IN_FILE, TAKEN_OUT
from sync.segments.selection import Candidate, SegmentSelection
from sync.yamlfile import read_text_file

COLUMNS = ("organisation_id", "organisation", "contact_id", "name", "email", "channel", "send", "reason", "status")
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
MAX_CSV_BYTES = 64 * 1024 * 1024
FILE_PROBLEM = "recipients_file_problem"
YES = frozenset({"yes", "y", "ja", "j", "true", "1", "x"})
NO = frozenset({"no", "n", "nee", "false", "0", ""})


def neutralise(value: object) -> str:
    """A cell a spreadsheet shows as text, never evaluates."""
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(FORMULA_STARTS) else text


def restore(text: str) -> str:
    """The value of a cell ``neutralise`` made."""
    return text[1:] if text.startswith("'") and text[1:].startswith(FORMULA_STARTS) else text


def status(candidate: Candidate) -> str:
    if candidate.send:
        return "post" if candidate.by_post else "e-mail"
    return "taken out" if candidate.reason == TAKEN_OUT else "left out"


def write_export(path: Path, candidates: Iterable[Candidate]) -> int:
    """One row per candidate (COLUMNS); how many rows were written."""
    count = 0
    with _open_for_writing(path) as file:
        writer = csv.writer(file)
        writer.writerow(COLUMNS)
        for candidate in candidates:
            writer.writerow([neutralise(value) for value in (
                candidate.organisation_id, candidate.organisation, candidate.contact_id, candidate.name,
                candidate.email, candidate.channel.value, "yes" if candidate.send else "no", candidate.reason,
                status(candidate))])
            count += 1
    return count


def write_post_export(path: Path, candidates: Iterable[Candidate], fields: Sequence[str],
                      values: dict[str, dict[str, object]]) -> int:
    """The post part as a mail-merge file: contact id, name, organisation and the given address ``fields``."""
    count = 0
    with _open_for_writing(path) as file:
        writer = csv.writer(file)
        writer.writerow(["contact_id", "name", "organisation", *fields])
        for candidate in candidates:
            own = values.get(candidate.contact_id, {})
            writer.writerow([neutralise(value) for value in (
                candidate.contact_id, candidate.name, candidate.organisation, *(own.get(name) for name in fields))])
            count += 1
    return count


def _open_for_writing(path: Path) -> io.TextIOWrapper:
    try:
        return path.open("w", encoding="utf-8", newline="")
    except OSError as error:
        raise ConfigError(f"{path}: cannot write it ({error.strerror})") from None


@dataclass(frozen=True, slots=True)
class RecipientRow:
    """One row of an edited recipients file."""

    line: int
    contact_id: str
    email: str | None
    send: str


def read_recipients(path: Path) -> list[RecipientRow]:
    """The rows of an edited export (comma or semicolon separated, as spreadsheets save them)."""
    text = read_text_file(path, MAX_CSV_BYTES).removeprefix("\ufeff")
    header = text.split("\n", 1)[0]
    delimiter = ";" if header.count(";") > header.count(",") else ","
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    try:
        names = [name.strip().lower() for name in next(reader)]
    except StopIteration:
        raise ConfigError(f"{path}: the file is empty; pass the file `segment preview --export` wrote") from None
    missing = [name for name in ("contact_id", "email", "send") if name not in names]
    if missing:
        raise ConfigError(f"{path}:1: the header lacks {', '.join(missing)}; keep the columns of the exported file")
    where = {name: names.index(name) for name in ("contact_id", "email", "send")}
    return list(_rows(reader, where, path))


def _rows(reader: Iterator[list[str]], where: dict[str, int], path: Path) -> Iterator[RecipientRow]:
    try:
        for cells in reader:
            if not any(cell.strip() for cell in cells):
                continue
            cells = cells + [""] * (max(where.values()) + 1 - len(cells))
            yield RecipientRow(reader.line_num, restore(cells[where["contact_id"]].strip()),  # type: ignore[attr-defined]
                               normalise_email(restore(cells[where["email"]])), cells[where["send"]].strip().lower())
    except csv.Error as error:
        raise ConfigError(f"{path}:{reader.line_num}: not a readable CSV row ({error})") from None  # type: ignore[attr-defined]


def apply_recipients(selection: SegmentSelection, rows: Sequence[RecipientRow], file: str) -> SegmentSelection:
    """The selection after the marketer's file: only takes recipients out; problems are listed, never obeyed."""
    by_id = {candidate.contact_id: candidate for candidate in selection.candidates}
    problems: list[str] = []
    decided: dict[str, Candidate] = {}
    seen: set[str] = set()
    for row in rows:
        where = f"{file}:{row.line}"
        candidate = by_id.get(row.contact_id)
        if candidate is None:
            problems.append(f"{where}: contact {row.contact_id!r} is not in the segment's selection; a recipients "
                            "file can only take recipients out, not add them (not obeyed)")
            continue
        if row.contact_id in seen:
            problems.append(f"{where}: contact {row.contact_id} is listed twice; the contact is left out")
            decided[row.contact_id] = _problem(candidate, where)
            continue
        seen.add(row.contact_id)
        if row.email != candidate.email:
            problems.append(f"{where}: contact {row.contact_id}'s address was changed in the file ({candidate.email} "
                            f"-> {row.email}); change addresses in the CRM. The contact is left out (not obeyed)")
            decided[row.contact_id] = _problem(candidate, where)
        elif row.send not in YES | NO:
            problems.append(f"{where}: send must be yes or no, not {row.send!r}; the contact is left out")
            decided[row.contact_id] = _problem(candidate, where)
        elif row.send in YES and not candidate.send:
            problems.append(f"{where}: contact {row.contact_id} has send 'yes' but the rules leave it out "
                            f"({candidate.reason}); it is not sent (not obeyed)")
        elif row.send in NO and candidate.send:
            decided[row.contact_id] = replace(candidate, reason=TAKEN_OUT, detail=f"send is 'no' on {where}")
    result = []
    for candidate in selection.candidates:
        if candidate.contact_id in decided:
            candidate = decided[candidate.contact_id]
        elif candidate.contact_id not in seen and candidate.send:
            candidate = replace(candidate, reason=NOT_IN_FILE, detail=f"no row in {file}")
        result.append(candidate)
    return replace(selection, candidates=result, file_problems=selection.file_problems + problems)


def _problem(candidate: Candidate, where: str) -> Candidate:
    if not candidate.send:
        return candidate
    return replace(candidate, reason=FILE_PROBLEM, detail=f"see the problem on {where}")
