"""The tuning database: one record per (spec hash, backend, arch, dtype, shape bucket).

Stored as JSON in the user cache directory ($TITANS_TUNE_DIR or --cache-dir overrides it),
written atomically under a file lock so concurrent tuners never corrupt it, validated on read:
a corrupt or foreign file is reported once and ignored (never crashes a model), and is moved
aside, not overwritten, when new records are saved. Shipped defaults (defaults.json, in the
package) are used where no local record exists.
"""
from __future__ import annotations

import json
import os
import sys
import time
from dataclasses import asdict, dataclass, field
from functools import lru_cache
from pathlib import Path

from filelock import FileLock

FORMAT = "titans-kernels-tuning"
VERSION = 1
TUNE_DIR_ENV = "TITANS_TUNE_DIR"
SHIPPED = Path(__file__).with_name("defaults.json")
_warned: set[str] = set()
_READ_CACHE: dict[Path, tuple[tuple, list]] = {}   # path -> ((mtime_ns, size, inode), records)


def default_dir() -> Path:
    env = os.environ.get(TUNE_DIR_ENV)
    if env:
        return Path(env)
    from platformdirs import user_cache_dir
    return Path(user_cache_dir("titans-kernels"))


@dataclass
class Record:
    spec_hash: str
    spec: str
    backend: str
    arch: str
    gpu: str
    dtype: str
    bucket: str                      # e.g. "D64-b64"
    config: dict
    tuner: str                       # "predicted" | "measured" | "default"
    time_s: float | None = None      # predicted or measured seconds of the benchmark shape
    candidates: int = 0
    pruned: int = 0
    versions: dict = field(default_factory=dict)
    created: float = field(default_factory=time.time)

    @property
    def key(self) -> tuple:
        return (self.spec_hash, self.backend, self.arch, self.dtype, self.bucket)


REQUIRED = {f for f in Record.__dataclass_fields__ if f not in ("time_s", "candidates", "pruned", "versions", "created")}


def bucket(head_dim: int, chunk: int) -> str:
    return f"D{head_dim}-b{chunk}"


def _warn(msg: str) -> None:
    if msg not in _warned:
        _warned.add(msg)
        print(f"titans-kernels: {msg}", file=sys.stderr)


def _parse(text: str, source: str) -> list[Record] | None:
    """Records of a database file, or None (with a one-line warning) when it is not valid."""
    try:
        data = json.loads(text)
        if not isinstance(data, dict) or data.get("format") != FORMAT:
            raise ValueError("not a titans-kernels tuning file")
        if data.get("version") != VERSION:
            raise ValueError(f"version {data.get('version')} (this build reads {VERSION})")
        records = []
        for row in data["records"]:
            missing = REQUIRED - set(row)
            if missing:
                raise ValueError(f"record without {', '.join(sorted(missing))}")
            records.append(Record(**{k: row[k] for k in Record.__dataclass_fields__ if k in row}))
        return records
    except (ValueError, KeyError, TypeError) as exc:
        _warn(f"ignoring tuning database {source}: {exc}; re-run `titans-kernels autotune` to rebuild it")
        return None


@lru_cache(maxsize=1)
def _shipped() -> tuple:
    """The shipped defaults, parsed once (they are part of the installed package)."""
    if not SHIPPED.exists():
        return ()
    return tuple(_parse(SHIPPED.read_text(), str(SHIPPED)) or [])


class TuningDB:
    def __init__(self, directory: str | os.PathLike | None = None):
        self.dir = Path(directory) if directory else default_dir()
        self.path = self.dir / "tuning.json"
        self.lock = FileLock(str(self.path) + ".lock", timeout=60)

    # -- reading ------------------------------------------------------------------------
    def records(self) -> list[Record]:
        """The local records; parsed once per version of the file (run-time lookups happen on
        every kernel call)."""
        try:
            st = self.path.stat()
        except FileNotFoundError:
            return []
        except OSError as exc:
            _warn(f"cannot read tuning database {self.path}: {exc}")
            return []
        stamp = (st.st_mtime_ns, st.st_size, st.st_ino)
        cached = _READ_CACHE.get(self.path)
        if cached is not None and cached[0] == stamp:
            return list(cached[1])
        try:
            text = self.path.read_text()
        except OSError as exc:
            _warn(f"cannot read tuning database {self.path}: {exc}")
            return []
        parsed = _parse(text, str(self.path)) or []
        _READ_CACHE[self.path] = (stamp, parsed)
        return list(parsed)

    @staticmethod
    def shipped() -> list[Record]:
        return list(_shipped())

    def lookup(self, spec_hash: str, backend: str, arch: str, dtype: str, bucket_name: str) -> Record | None:
        """Local record first, then the shipped default; None when neither exists."""
        key = (spec_hash, backend, arch, dtype, bucket_name)
        for source in (self.records(), self.shipped()):
            for rec in source:
                if rec.key == key:
                    return rec
        return None

    # -- writing ------------------------------------------------------------------------
    def save(self, new: list[Record]) -> None:
        """Insert or replace records (by key), atomically, under the lock."""
        self.dir.mkdir(parents=True, exist_ok=True)
        with self.lock:
            current: list[Record] = []
            if self.path.exists():
                parsed = _parse(self.path.read_text(), str(self.path))
                if parsed is None:  # keep the unreadable file for the user, never overwrite it
                    aside = self.path.with_name(f"tuning.json.corrupt-{int(time.time())}")
                    os.replace(self.path, aside)
                    _warn(f"moved the unreadable tuning database to {aside}")
                else:
                    current = parsed
            keys = {r.key for r in new}
            merged = [r for r in current if r.key not in keys] + list(new)
            self._write(merged)

    def clear(self, arch: str | None = None) -> int:
        with self.lock:
            current = self.records()
            keep = [r for r in current if arch is not None and r.arch != arch]
            self._write(keep)
            return len(current) - len(keep)

    def export(self, target: str | os.PathLike) -> int:
        recs = self.records()
        Path(target).write_text(json.dumps(self._doc(recs), indent=1))
        return len(recs)

    def import_file(self, source: str | os.PathLike) -> int:
        parsed = _parse(Path(source).read_text(), str(source))
        if parsed is None:
            raise ValueError(f"{source} is not a valid tuning file")
        self.save(parsed)
        return len(parsed)

    @staticmethod
    def _doc(records: list[Record]) -> dict:
        return {"format": FORMAT, "version": VERSION, "records": [asdict(r) for r in records]}

    def _write(self, records: list[Record]) -> None:
        tmp = self.path.with_name(f"tuning.json.tmp{os.getpid()}")
        tmp.write_text(json.dumps(self._doc(records), indent=1))
        os.replace(tmp, self.path)
