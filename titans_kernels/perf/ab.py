"""The regression gate without a baseline: the base commit against the working tree, in one session.

A baseline holds for the machine that recorded it (gate.py); on any other machine there is
nothing to compare with. `titans-kernels bench ab` checks the base commit out into a temporary
git worktree and runs the same benchmarks there and in the working tree, interleaved (base,
head, head, base, ...), each run in its own process with its own matmul timing, so that both
sides see the same machine in the same minutes. Per benchmark each side keeps its best ratio to
the matmul rate over its runs (noise on a shared machine only ever slows a run), and the gate
fails when the head's ratio is more than `threshold` below the base's.
"""
from __future__ import annotations

import contextlib
import os
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Callable, Iterator

from .. import settings
from ..errors import InputError
from .gate import Change, change_lines
from .results import load
from .stats import round_order

SUITES = ["benchmarks/", "-m", "not peer"]
PYTEST_FLAGS = ["-q", "-p", "no:cacheprovider", "--benchmark-only"]


def _git(root: Path, *args: str) -> str:
    proc = subprocess.run(["git", "-C", str(root), *args], capture_output=True, text=True)
    if proc.returncode != 0:
        raise InputError(f"git {' '.join(args)} failed in {root}: {proc.stderr.strip().splitlines()[-1:]}")
    return proc.stdout.strip()


def resolve_base(root: Path, base: str) -> str:
    """The commit to compare with: `base`, or for "auto" HEAD when the working tree has changes to
    tracked files (the change under test) and HEAD~1 when it has none (the last commit is)."""
    if base == "auto":
        dirty = _git(root, "status", "--porcelain", "--untracked-files=no")
        base = "HEAD" if dirty else "HEAD~1"
    try:
        return _git(root, "rev-parse", "--verify", f"{base}^{{commit}}")
    except InputError:
        raise InputError(f"--base {base}: not a commit of the repository at {root}; pass a commit, branch or "
                         f"tag (e.g. --base HEAD~1)") from None


@contextlib.contextmanager
def worktree(root: Path, commit: str) -> Iterator[Path]:
    """A temporary detached git worktree of `commit`, removed afterwards."""
    tmp = Path(tempfile.mkdtemp(prefix="titans-ab-"))
    path = tmp / "base"
    _git(root, "worktree", "add", "--detach", "--quiet", str(path), commit)
    try:
        yield path
    finally:
        subprocess.run(["git", "-C", str(root), "worktree", "remove", "--force", str(path)], capture_output=True)
        subprocess.run(["git", "-C", str(root), "worktree", "prune"], capture_output=True)


def run_side(tree: Path, out: Path, pytest_args: list[str], env: dict | None = None) -> Path:
    """One benchmark run of the package in `tree` (its own sources first on the path), results to
    `out`. Raises InputError with the run's last lines when it fails."""
    environ = dict(settings.environ() if env is None else env)
    environ["PYTHONPATH"] = os.pathsep.join([str(tree), *filter(None, [environ.get("PYTHONPATH")])])
    environ.setdefault("TITANS_BENCH_THREADS", "1")
    cmd = [sys.executable, "-m", "pytest", *PYTEST_FLAGS, *pytest_args, f"--benchmark-json={out}"]
    proc = subprocess.run(cmd, cwd=tree, env=environ, capture_output=True, text=True)
    if proc.returncode != 0 or not out.exists():
        tail = "\n".join((proc.stdout + proc.stderr).strip().splitlines()[-5:])
        raise InputError(f"benchmark run in {tree} failed (exit {proc.returncode}):\n{tail}")
    return out


def interleave(sides: dict[str, tuple[Path, dict | None]], rounds: int, pytest_args: list[str], out_dir: Path,
               progress: Callable[[str], None] | None = None) -> dict[str, list[Path]]:
    """Run every side `rounds` times, alternating which goes first each round. sides: name ->
    (tree, environment or None for this process's). Returns name -> result files."""
    names = list(sides)
    runs: dict[str, list[Path]] = {name: [] for name in names}
    for r in range(rounds):
        for name in round_order(names, r):
            tree, env = sides[name]
            if progress:
                progress(f"round {r + 1}/{rounds}: {name} ({tree})")
            runs[name].append(run_side(tree, out_dir / f"{name}-{r}.json", pytest_args, env))
    return runs


def best_ratios(paths: list[Path]) -> dict[str, float]:
    """Per benchmark, the highest ratio to the matmul rate over the runs."""
    best: dict[str, float] = {}
    for path in paths:
        for row in load(path):
            if row.ratio is not None:
                best[row.name] = max(row.ratio, best.get(row.name, 0.0))
    return best


def judge(base: list[Path], head: list[Path], threshold: float = 0.10, label: str = "base",
          show_all: bool = False) -> tuple[bool, list[Change], list[str]]:
    """(passed, changes beyond threshold/2, lines) of the head's runs against the base's
    (`show_all`: a row for every benchmark)."""
    a, b = best_ratios(base), best_ratios(head)
    common = sorted(set(a) & set(b))
    if not common:
        raise InputError("the base and the working tree share no gated benchmark; nothing to compare")
    changes = [Change(name, a[name], b[name]) for name in common]
    header = (f"compared {len(changes)} benchmark(s), working tree against {label}, best of "
              f"{len(head)} interleaved run(s) each (fail below -{threshold:.0%})")
    return change_lines(changes, threshold, header, base_name=label[:8], show_all=show_all)


def ab(root: Path, base: str = "auto", rounds: int = 2, threshold: float = 0.10,
       pytest_args: list[str] | None = None, progress: Callable[[str], None] | None = None,
       show_all: bool = False):
    """The whole A/B gate: (passed, changes, lines)."""
    commit = resolve_base(root, base)
    args = pytest_args or SUITES
    with worktree(root, commit) as tree, tempfile.TemporaryDirectory(prefix="titans-ab-results-") as tmp:
        runs = interleave({"base": (tree, None), "head": (root, None)}, rounds, args, Path(tmp), progress)
        return judge(runs["base"], runs["head"], threshold, label=commit[:12], show_all=show_all)
