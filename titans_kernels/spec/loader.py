"""Finding and reading spec files. YAML is read with `yaml.safe_load` only."""
from __future__ import annotations

import os
from pathlib import Path

import yaml

from .. import settings
from ..errors import SpecError
from .schema import MemorySpec, validate

_SHIPPED = Path(__file__).resolve().parent.parent / "specs"


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
    try:
        data = yaml.safe_load(text)
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
    text = str(name_or_path)
    path = Path(text)
    looks_like_path = path.suffix in (".yaml", ".yml") or os.sep in text or "/" in text
    if not looks_like_path:
        specs = list_specs()
        if text not in specs:
            import difflib
            close = difflib.get_close_matches(text, list(specs), n=1, cutoff=0.5)
            hint = f"did you mean '{close[0]}'? " if close else ""
            raise SpecError(f"unknown spec '{text}': {hint}known: {', '.join(specs)}; "
                            f"or pass a path to a .yaml file")
        path = specs[text]
    if not path.is_file():
        raise SpecError(f"{path}: no such spec file; pass a shipped name ({', '.join(list_specs())}) "
                        f"or an existing .yaml path")
    try:
        content = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise SpecError(f"{path}: cannot read spec file ({exc.__class__.__name__}: {exc})") from None
    return parse_spec(content, source=str(path))
