"""Finding and reading spec files. YAML is read with `yaml.safe_load` only."""
from __future__ import annotations

import os
import re
from pathlib import Path

import yaml

from .. import settings
from ..errors import SpecError
from .schema import MemorySpec, short, validate

_SHIPPED = Path(__file__).resolve().parent.parent / "specs"
MAX_BYTES = 1 << 20   # a spec is a few hundred bytes; anything near this is not one
MAX_DEPTH = 16        # the schema nests two levels
# YAML 1.2 floats: `1e-3` reads as a number (YAML 1.1, safe_load's default, reads it as a string)
_FLOAT_12 = re.compile(r"^[-+]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][-+]?[0-9]+)?$")


class _SpecLoader(yaml.SafeLoader):
    """safe_load's loader with bounded work: aliases are refused (a few hundred bytes of them
    expand to gigabytes), nesting is bounded, a key given twice in one mapping is refused (naming
    both lines), and YAML 1.2 floats such as 1e-3 are numbers."""

    def __init__(self, stream):
        super().__init__(stream)
        self._depth = 0

    def compose_node(self, parent, index):
        if self.check_event(yaml.AliasEvent):
            event = self.peek_event()
            raise yaml.composer.ComposerError(None, None, f"aliases (*{str(event.anchor)[:40]}) are not allowed "
                                              "in a spec; write the value out", event.start_mark)
        self._depth += 1
        try:
            if self._depth > MAX_DEPTH:
                raise yaml.composer.ComposerError(None, None, f"nested deeper than {MAX_DEPTH} levels",
                                                  self.peek_event().start_mark)
            return super().compose_node(parent, index)
        finally:
            self._depth -= 1

    def construct_mapping(self, node, deep=False):
        first: dict = {}
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=deep)
            try:
                line = first.setdefault(key, key_node.start_mark.line)
            except TypeError:      # an unhashable key: the base class names it
                continue
            if line != key_node.start_mark.line:
                raise yaml.constructor.ConstructorError(
                    None, None, f"duplicate key {short(key, 40)} (lines {line + 1} and {key_node.start_mark.line + 1}); "
                    "keep one", key_node.start_mark)
        return super().construct_mapping(node, deep)


_SpecLoader.add_implicit_resolver("tag:yaml.org,2002:float", _FLOAT_12, list("-+0123456789."))


def spec_search_dirs() -> list[Path]:
    """Directories searched for `NAME.yaml`: $TITANS_SPEC_PATH (os.pathsep-separated), then shipped."""
    return settings.spec_path() + [_SHIPPED]


def list_specs() -> dict[str, Path]:
    """Name -> file of every spec on the search path (earlier directories win)."""
    found: dict[str, Path] = {}
    for folder in spec_search_dirs():
        if folder.is_dir():
            for file in sorted(folder.glob("*.yaml")):
                found.setdefault(file.stem, file)
    return found


def parse_spec(text: str, source: str = "<memory>") -> MemorySpec:
    """Validate YAML text into a `MemorySpec`."""
    if not isinstance(text, str):
        raise SpecError(f"{source}: expected the spec's YAML text (a str), got {type(text).__name__}")
    if len(text) > MAX_BYTES:
        raise SpecError(f"{source}: {len(text)} characters; a spec is at most {MAX_BYTES} (a few hundred is usual)")
    try:
        data = yaml.load(text, Loader=_SpecLoader)   # safe: _SpecLoader is a SafeLoader
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise SpecError(f"{source}: not valid YAML{where}: {problem}") from None
    return validate(data, source)


def load_spec(name_or_path: str | os.PathLike | MemorySpec) -> MemorySpec:
    """Load a shipped spec by name (e.g. "titans_mlp2") or any spec file by path."""
    if isinstance(name_or_path, MemorySpec):
        return name_or_path
    if not isinstance(name_or_path, (str, os.PathLike)):
        raise SpecError(f"expected a spec name or a path to a .yaml file, got {type(name_or_path).__name__}")
    text = str(name_or_path)
    path = Path(text)
    looks_like_path = path.suffix in (".yaml", ".yml") or os.sep in text or "/" in text
    if not looks_like_path:
        specs = list_specs()
        if text not in specs:
            import difflib
            close = difflib.get_close_matches(text[:100], list(specs), n=1, cutoff=0.5)
            hint = f"did you mean '{close[0]}'? " if close else ""
            raise SpecError(f"unknown spec {short(text)}: {hint}known: {', '.join(specs)}; "
                            f"or pass a path to a .yaml file")
        path = specs[text]
    shown = short(str(path), 120)
    try:
        is_file = path.is_file()
        size = path.stat().st_size if is_file else 0
    except (OSError, ValueError) as exc:   # a name too long for the file system, a NUL byte
        raise SpecError(f"{shown}: not a usable path ({exc.__class__.__name__}); pass a shipped name or "
                        f"an existing .yaml path") from None
    if not is_file:
        raise SpecError(f"{shown}: no such spec file; pass a shipped name (`titans-kernels specs list`) "
                        f"or an existing .yaml path")
    if size > MAX_BYTES:
        raise SpecError(f"{shown}: {size} bytes; a spec is at most {MAX_BYTES} (a few hundred is usual)")
    try:
        content = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise SpecError(f"{path}: cannot read spec file ({exc.__class__.__name__}: {exc})") from None
    return parse_spec(content, source=str(path))
