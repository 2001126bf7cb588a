"""The regression gate: per-machine baselines of the matmul ratios, and the comparison.

A baseline is benchmarks/baselines/<fingerprint slug>.json: {"fingerprint": ..., "ratios":
{benchmark name: ratio}, "runs": {benchmark name: how many runs it has seen}}. Saving again keeps
the lowest ratio each benchmark has shown (the slowest honest run), so a baseline recorded over
two or three runs absorbs this machine's run-to-run spread; `--reset` starts afresh. `compare`
fails when a ratio drops by more than `threshold` (default 10%) below its baseline, and returns a
table of every benchmark that moved by more than half of it.
"""
from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path

from ..errors import InputError
from .fingerprint import fingerprint, slug
from .results import load

DEFAULT_DIR = Path("benchmarks") / "baselines"


def baseline_path(directory: str | Path = DEFAULT_DIR, fp: dict | None = None) -> Path:
    return Path(directory) / f"{slug(fp or fingerprint())}.json"


def _read(path: Path) -> dict:
    try:
        data = json.loads(path.read_text())
        return {"ratios": dict(data["ratios"]), "runs": dict(data.get("runs", {}))}
    except (ValueError, KeyError, TypeError) as exc:
        raise InputError(f"baseline {path} is unreadable ({exc}); delete it and run `make bench-save`") from None


def save(results: str | Path, directory: str | Path = DEFAULT_DIR, fp: dict | None = None,
         reset: bool = False) -> tuple[Path, int]:
    """Fold one run into this machine's baseline (per benchmark the lowest ratio seen)."""
    fp = fp or fingerprint()
    path = baseline_path(directory, fp)
    new = {r.name: r.ratio for r in load(results) if r.ratio is not None}
    old = _read(path) if path.exists() and not reset else {"ratios": {}, "runs": {}}
    ratios, runs = old["ratios"], old["runs"]
    for name, value in new.items():
        ratios[name] = min(value, ratios.get(name, value))
        runs[name] = runs.get(name, 0) + 1
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(f".tmp{os.getpid()}")
    tmp.write_text(json.dumps({"fingerprint": fp, "ratios": ratios, "runs": runs}, indent=1, sort_keys=True))
    os.replace(tmp, path)
    return path, len(new)


@dataclass
class Change:
    name: str
    baseline: float
    now: float

    @property
    def rel(self) -> float:
        return self.now / self.baseline - 1.0


def compare(results: str | Path, directory: str | Path = DEFAULT_DIR, threshold: float = 0.10,
            fp: dict | None = None, show_all: bool = False) -> tuple[bool, list[Change], list[str]]:
    """(passed, changes beyond threshold/2, lines to print; `show_all`: every benchmark's row)."""
    fp = fp or fingerprint()
    path = baseline_path(directory, fp)
    if not path.exists():
        raise InputError(f"no baseline for this machine ({slug(fp)}) in {directory}; run `make bench-save` "
                         f"to record one, or `titans-kernels bench ab` to compare with the base commit")
    base = _read(path)["ratios"]
    rows = [r for r in load(results) if r.ratio is not None and r.name in base]
    if not rows:
        raise InputError(f"no benchmark in {results} has a baseline in {path}; run the same suites as the baseline")
    changes = [Change(r.name, float(base[r.name]), r.ratio) for r in rows]
    return change_lines(changes, threshold, f"compared {len(changes)} benchmark(s) with {path.name} "
                                            f"(fail below -{threshold:.0%})", show_all=show_all)


def change_lines(changes: list[Change], threshold: float, header: str, base_name: str = "baseline",
                 show_all: bool = False) -> tuple[bool, list[Change], list[str]]:
    """(passed, changes beyond threshold/2 sorted worst first, lines to print): the gate's verdict
    on a list of ratio changes, shared by the baseline and the A/B comparisons. The table lists
    the changes beyond threshold/2, or with `show_all` every benchmark (worst first)."""
    failed = [c for c in changes if c.rel < -threshold]
    moved = sorted((c for c in changes if abs(c.rel) > threshold / 2), key=lambda c: c.rel)
    shown = sorted(changes, key=lambda c: c.rel) if show_all else moved
    lines = [header]
    if shown:
        width = max(len(c.name) for c in shown)
        lines.append(f"{'benchmark':{width}s}  {base_name:>8s}  {'now':>8s}  {'change':>7s}")
        for c in shown:
            flag = "  REGRESSION" if c in failed else ""
            lines.append(f"{c.name:{width}s}  {c.baseline:8.1%}  {c.now:8.1%}  {c.rel:+7.1%}{flag}")
    if not moved:
        lines.append("nothing moved by more than half the threshold")
    lines.append(f"{'FAIL' if failed else 'ok'}: {len(failed)} regression(s)")
    return not failed, moved, lines
