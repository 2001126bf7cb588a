"""The tuning database: one record per (spec hash, backend, arch, dtype, shape bucket).

Stored as JSON in the user cache directory ($TITANS_TUNE_DIR or --cache-dir overrides it),
written atomically under a file lock so concurrent tuners never corrupt it, validated on read,
record by record (launch configs included): an unusable record is reported once and skipped, a
file that cannot be read is reported once and ignored (neither ever crashes a model), and such a
file is kept as tuning.json.corrupt-<time> before the next write. Shipped defaults (defaults.json, in the
package) are used where no local record exists.
"""
from __future__ import annotations

import json
import os
import re
import sys
import time
from dataclasses import asdict, dataclass, field
from functools import lru_cache
from pathlib import Path

from filelock import FileLock

from .. import settings

FORMAT = "titans-kernels-tuning"
VERSION = 1
SHIPPED = Path(__file__).with_name("defaults.json")
_warned: set[str] = set()
_READ_CACHE: dict[Path, tuple[tuple, list]] = {}   # path -> ((mtime_ns, size, inode), records)


def default_dir() -> Path:
    return settings.tune_dir()


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
        """What a record is stored under: one record per GPU model (two models of one
        architecture keep their own), found at run time by model, else by architecture."""
        return (self.spec_hash, self.backend, self.arch, self.dtype, self.bucket, self.gpu)


REQUIRED = {f for f in Record.__dataclass_fields__ if f not in ("time_s", "candidates", "pruned", "versions", "created")}


def bucket(head_dim: int, chunk_size: int) -> str:
    return f"D{head_dim}-b{chunk_size}"


def _warn(msg: str) -> None:
    if msg not in _warned:
        _warned.add(msg)
        print(f"titans-kernels: {msg}", file=sys.stderr)


_TEXT_FIELDS = ("spec_hash", "spec", "arch", "gpu")
_CHOICES = {"backend": ("triton", "tilelang"), "dtype": ("float32", "bfloat16", "float16"),
            "tuner": ("predicted", "measured", "default")}
_BUCKET = re.compile(r"D\d+-b\d+")


def _number(value) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def record_problem(row: dict) -> str | None:
    """Why one stored record cannot be used (a missing field, or one of the wrong type or out of
    range, its launch config included), or None."""
    missing = REQUIRED - set(row)
    if missing:
        return f"no {', '.join(sorted(missing))}"
    for name in _TEXT_FIELDS:
        if not isinstance(row[name], str) or not row[name]:
            return f"{name}={repr(row[name])[:40]} is not a name"
        if len(row[name]) > 100 or not row[name].isprintable():   # no terminal escapes reach a print
            return f"{name}={row[name][:40]!r} holds control characters or is too long"
    for name, allowed in _CHOICES.items():
        if row[name] not in allowed:
            return f"{name}={row[name]!r} unknown; expected one of {', '.join(allowed)}"
    if not isinstance(row["bucket"], str) or not _BUCKET.fullmatch(row["bucket"]):
        return f"bucket={row['bucket']!r} is not of the form D64-b64"
    time_s = row.get("time_s")
    if time_s is not None and (not _number(time_s) or not time_s >= 0):
        return f"time_s={time_s!r} is not a time in seconds"
    if not isinstance(row["config"], dict):
        return f"config={row['config']!r} is not a mapping"
    from ..backends.launch_config import LaunchConfig as TritonConfig
    from ..errors import InputError
    known = TritonConfig.__dataclass_fields__
    try:   # fields a newer release added are left out, as at run time
        TritonConfig(**{k: v for k, v in row["config"].items() if k in known})
    except InputError as exc:
        return str(exc)
    return None


@dataclass
class Parsed:
    """A database file's usable records, and one line per record that is not (index and why)."""

    records: list[Record]
    problems: list[str]


def _parse(text: str, source: str) -> Parsed:
    """The records of a database file; raises ValueError (one line) when the file as a whole is
    not one (not JSON, another format or version)."""
    try:
        data = json.loads(text)
    except ValueError as exc:
        raise ValueError(f"{source} is not JSON ({exc})") from None
    except RecursionError:
        raise ValueError(f"{source} is nested too deeply to be a tuning file") from None
    if not isinstance(data, dict) or data.get("format") != FORMAT or not isinstance(data.get("records"), list):
        raise ValueError(f"{source} is not a titans-kernels tuning file")
    if data.get("version") != VERSION:
        raise ValueError(f"{source} has version {data.get('version')!r} (this build reads {VERSION})")
    parsed = Parsed([], [])
    for i, row in enumerate(data["records"]):
        problem = record_problem(row) if isinstance(row, dict) else "not a mapping"
        if problem is None:
            parsed.records.append(Record(**{k: row[k] for k in Record.__dataclass_fields__ if k in row}))
        else:
            name = f" ({row.get('spec')}, {row.get('arch')})" if isinstance(row, dict) else ""
            parsed.problems.append(f"record {i}{name}: {problem}")
    return parsed


def _read(text: str, source: str) -> Parsed | None:
    """`_parse` for the run-time and tuner reads: None for an unreadable file, and unusable
    records left out; each reported once on stderr, never raised."""
    try:
        parsed = _parse(text, source)
    except ValueError as exc:
        _warn(f"ignoring the tuning database: {exc}; re-run `titans-kernels autotune` to rebuild it")
        return None
    if parsed.problems:
        more = f" (and {len(parsed.problems) - 1} more)" if len(parsed.problems) > 1 else ""
        _warn(f"ignoring {len(parsed.problems)} unusable record(s) in {source}: {parsed.problems[0]}{more}; "
              f"re-run `titans-kernels autotune` for them")
    return parsed


@lru_cache(maxsize=1)
def _shipped() -> tuple:
    """The shipped defaults, parsed once (they are part of the installed package)."""
    if not SHIPPED.exists():
        return ()
    parsed = _read(SHIPPED.read_text(), str(SHIPPED))
    return tuple(parsed.records) if parsed is not None else ()


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
        parsed = _read(text, str(self.path))
        records = parsed.records if parsed is not None else []
        _READ_CACHE[self.path] = (stamp, records)
        return list(records)

    @staticmethod
    def shipped() -> list[Record]:
        return list(_shipped())

    def lookup(self, spec_hash: str, backend: str, arch: str, dtype: str, bucket_name: str,
               gpu: str | None = None) -> Record | None:
        """Local record first, then the shipped default; in each, the record of GPU model `gpu`
        first, then any of the architecture; None when there is none."""
        want = (spec_hash, backend, arch, dtype, bucket_name)
        for source in (self.records(), self.shipped()):
            matches = [rec for rec in source
                       if (rec.spec_hash, rec.backend, rec.arch, rec.dtype, rec.bucket) == want]
            for rec in matches:
                if rec.gpu == gpu:
                    return rec
            if matches:
                return matches[0]
        return None

    # -- writing ------------------------------------------------------------------------
    def check_writable(self) -> None:
        """Raise ValueError (one line) unless records can be written here: checked before any
        tuning starts, so that no result is lost to a directory that cannot take it."""
        where = f"tuning database {self.path}"
        try:
            self.dir.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise ValueError(f"{where}: cannot create {self.dir} ({exc.strerror or exc}); "
                             f"pick another with --cache-dir") from None
        if self.path.exists() and not self.path.is_file():
            raise ValueError(f"{where}: is not a file; remove it or pick another --cache-dir")
        probe = self.dir / f".tuning-write-test-{os.getpid()}"
        try:
            probe.write_text("")
            probe.unlink()
        except OSError as exc:
            raise ValueError(f"{where}: cannot write in {self.dir} ({exc.strerror or exc}); "
                             f"pick another with --cache-dir") from None

    def save(self, new: list[Record]) -> None:
        """Insert or replace records (by key), atomically, under the lock."""
        self.dir.mkdir(parents=True, exist_ok=True)
        with self.lock:
            keys = {r.key for r in new}
            self._write([r for r in self._current() if r.key not in keys] + list(new))

    def clear(self, arch: str | None = None, gpu: str | None = None) -> int:
        """Remove the records of architecture `arch` and/or GPU model `gpu` (every record when
        both are None); returns how many."""
        self.dir.mkdir(parents=True, exist_ok=True)
        with self.lock:
            current = self._current()
            if arch is None and gpu is None:
                keep = []
            else:
                keep = [r for r in current if (arch is not None and r.arch != arch) or (gpu is not None and r.gpu != gpu)]
            self._write(keep)
            return len(current) - len(keep)

    def _current(self) -> list[Record]:
        """The usable records before a rewrite (under the lock). A file that cannot be read whole,
        or that holds unusable records, is first kept as tuning.json.corrupt-<time>, so a rewrite
        never loses anything the user had."""
        if not self.path.exists():
            return []
        text = self.path.read_text()
        parsed = _read(text, str(self.path))
        if parsed is not None and not parsed.problems:
            return parsed.records
        aside = self.path.with_name(f"tuning.json.corrupt-{time.time_ns()}")
        aside.write_text(text)
        _warn(f"kept a copy of the tuning database as it was in {aside}")
        return parsed.records if parsed is not None else []

    def export(self, target: str | os.PathLike) -> int:
        """Write the local records to `target`; ValueError (one line) when it cannot be written."""
        recs = self.records()
        try:
            Path(target).write_text(json.dumps(self._doc(recs), indent=1))
        except OSError as exc:
            raise ValueError(f"cannot write {target}: {exc.strerror or exc}") from None
        return len(recs)

    def import_file(self, source: str | os.PathLike) -> int:
        """Merge the records of an exported file; a file with any unusable record is refused whole
        (ValueError, one line) and nothing is written."""
        try:
            text = Path(source).read_text()
        except OSError as exc:
            raise ValueError(f"cannot read {source}: {exc.strerror or exc}") from None
        parsed = _parse(text, str(source))
        if parsed.problems:
            raise ValueError(f"{source} is not a valid tuning file: {parsed.problems[0]}")
        self.save(parsed.records)
        return len(parsed.records)

    @staticmethod
    def _doc(records: list[Record]) -> dict:
        return {"format": FORMAT, "version": VERSION, "records": [asdict(r) for r in records]}

    def _write(self, records: list[Record]) -> None:
        tmp = self.path.with_name(f"tuning.json.tmp{os.getpid()}")
        tmp.write_text(json.dumps(self._doc(records), indent=1))
        os.replace(tmp, self.path)
