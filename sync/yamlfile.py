"""Read a YAML file and remember where each key stands, so errors can name file, line and the nearest key."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, get_args, get_origin

from pydantic import BaseModel
from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.error import MarkedYAMLError

from sync.errors import ConfigError, Problem, ProblemsFound


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
    """Parse ``path``; a missing file or a syntax error is a ConfigError naming file and line."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(f"{path}: file not found") from None
    except OSError as error:
        raise ConfigError(f"{path}: cannot read it ({error.strerror})") from None
    try:
        tree = YAML(typ="rt").load(text)
    except MarkedYAMLError as error:
        mark = error.problem_mark or error.context_mark
        line = mark.line + 1 if mark else None
        raise ProblemsFound(
            [Problem(str(path), line, "(yaml)", f"not valid YAML: {error.problem or error.context}")]
        ) from None
    return YamlDocument(path, tree if tree is not None else CommentedMap())


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
