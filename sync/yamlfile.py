"""Read a YAML file and remember where each key stands, so errors can name file, line and the nearest key.

Files are read defensively: a size limit, UTF-8 only, no explicit tags (``!!python/object`` and friends),
a nesting limit and a limit on what aliases expand to (a "billion laughs" file is refused before it is
built). The checks walk the parser's events once, without building anything.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, get_args, get_origin

from pydantic import BaseModel
from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.error import MarkedYAMLError, YAMLError
from ruamel.yaml.events import (
    AliasEvent,
    CollectionEndEvent,
    CollectionStartEvent,
    NodeEvent,
)
from ruamel.yaml.reader import ReaderError

from sync.errors import ConfigError, Problem, ProblemsFound

MAX_FILE_BYTES = 2 * 1024 * 1024  # a mapping for hundreds of fields is well under 100 kB
MAX_DEPTH = 64  # nesting of mappings and lists
MAX_NODES = 200_000  # values in the document once every alias is expanded


@dataclass(frozen=True)
class YamlDocument:
    """A parsed YAML file: plain Python data plus the line of every key."""

    path: Path
    tree: Any

    @property
    def data(self) -> Any:
        """The document as plain dicts, lists and scalars."""
        return _plain(self.tree)

    def line_of(self, location: tuple[str | int, ...]) -> int | None:
        """1-based line of the deepest key of ``location`` that exists in the file."""
        node, line = self.tree, None
        for part in location:
            if isinstance(node, CommentedMap) and part in node:
                line = node.lc.key(part)[0] + 1
                node = node[part]
            elif isinstance(node, CommentedSeq) and isinstance(part, int) and part < len(node):
                line = node.lc.item(part)[0] + 1
                node = node[part]
            else:
                break
        return line


def read_yaml(path: Path) -> YamlDocument:
    """Parse ``path``; a missing, oversized, hostile or malformed file is a ConfigError naming file and line."""
    text = read_text_file(path)
    try:
        check_safe_yaml(text, str(path))
        tree = YAML(typ="rt").load(text)
    except MarkedYAMLError as error:
        mark = error.problem_mark or error.context_mark
        line = mark.line + 1 if mark else None
        raise ProblemsFound(
            [Problem(str(path), line, "(yaml)", f"not valid YAML: {error.problem or error.context}")]
        ) from None
    except YAMLError as error:  # a character YAML does not allow (NUL, other control characters)
        raise ProblemsFound([reader_problem(error, text, str(path))]) from None
    return YamlDocument(path, tree if tree is not None else CommentedMap())


def read_text_file(path: Path, max_bytes: int = MAX_FILE_BYTES) -> str:
    """The UTF-8 text of a settings-like file; missing, too large or not UTF-8 is a ConfigError naming it."""
    try:
        with path.open("rb") as file:
            raw = file.read(max_bytes + 1)
    except FileNotFoundError:
        raise ConfigError(f"{path}: file not found") from None
    except OSError as error:
        raise ConfigError(f"{path}: cannot read it ({error.strerror})") from None
    if len(raw) > max_bytes:
        raise ConfigError(f"{path}: the file is larger than {max_bytes // 1024} kB; this is not a settings "
                          "or mapping file crm-sync can use (is it the right file?)")
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as error:
        line = raw[:error.start].count(b"\n") + 1
        raise ProblemsFound([Problem(str(path), line, "(file)", f"not UTF-8 text (byte 0x{raw[error.start]:02x}); "
                                     "save the file as UTF-8")]) from None


def reader_problem(error: YAMLError, text: str, file: str) -> Problem:
    """The problem of a YAML error without a mark: for a character YAML refuses, the line it is on."""
    if isinstance(error, ReaderError) and isinstance(error.position, int):
        character = error.character if isinstance(error.character, int) else ord(error.character)
        return Problem(file, text[:error.position].count("\n") + 1, "(yaml)",
                       f"not valid YAML: character #x{character:04x} is not allowed in a YAML file")
    return Problem(file, None, "(yaml)", f"not valid YAML: {error}")


def check_safe_yaml(text: str, file: str) -> None:
    """Refuse explicit tags, deep nesting and alias expansion beyond the limits, from the parser's events."""
    depth = 0
    open_sizes: list[int] = []  # values inside each open collection, aliases expanded
    open_anchors: list[str | None] = []
    anchored: dict[str, int] = {}  # expanded size of each anchored node
    total = 0
    for event in YAML(typ="rt").parse(text):
        line = event.start_mark.line + 1
        if isinstance(event, NodeEvent) and not isinstance(event, AliasEvent) and _explicit_tag(event):
            tag = getattr(event, "tag", "")
            _refuse(file, line, f"the tag {tag} is not allowed: crm-sync files hold plain values only")
        if isinstance(event, AliasEvent):
            size = anchored.get(event.anchor, 1)
        elif isinstance(event, CollectionStartEvent):
            depth += 1
            if depth > MAX_DEPTH:
                _refuse(file, line, f"nested more than {MAX_DEPTH} levels deep")
            open_sizes.append(1)
            open_anchors.append(event.anchor)
            continue
        elif isinstance(event, CollectionEndEvent):
            depth -= 1
            size, anchor = open_sizes.pop(), open_anchors.pop()
            if anchor:
                anchored[anchor] = size
        elif isinstance(event, NodeEvent):
            size = 1
            if event.anchor:
                anchored[event.anchor] = 1
        else:
            continue
        total += size
        if open_sizes:
            open_sizes[-1] += size
        if total > MAX_NODES:
            _refuse(file, line, f"expands to more than {MAX_NODES:,} values (aliases repeating aliases?)")


def _explicit_tag(event: NodeEvent) -> bool:
    tag = getattr(event, "tag", None)
    if tag is None or tag == "!":
        return False
    implicit = getattr(event, "implicit", True)
    return not (implicit is True or (isinstance(implicit, tuple) and implicit[0]))


def _refuse(file: str, line: int, message: str) -> None:
    raise ProblemsFound([Problem(file, line, "(yaml)", message)])


def dotted(location: tuple[str | int, ...]) -> str:
    """``("crm", "url")`` -> ``"crm.url"``."""
    return ".".join(str(part) for part in location)


def _plain(node: Any) -> Any:
    if isinstance(node, dict):
        return {str(key): _plain(value) for key, value in node.items()}
    if isinstance(node, list):
        return [_plain(value) for value in node]
    return node


def model_keys(root: Any, location: tuple | list) -> list[str]:
    """The keys the pydantic model found at ``location`` under ``root`` accepts (dict keys in the path skipped).

    Used to suggest the nearest valid key for a typo in a YAML file.
    """
    annotation: Any = root
    for part in location:
        if isinstance(annotation, type) and issubclass(annotation, BaseModel):
            info = annotation.model_fields.get(str(part))
            if info is None:
                return []
            annotation = info.annotation
        elif get_origin(annotation) is dict:
            annotation = get_args(annotation)[1]
        else:
            return []
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return list(annotation.model_fields)
    return []
