"""Paired comparison of two variants timed in the same rounds.

On a shared machine a round's time moves by more than the few percent a change is worth, and the
best or median of each side alone cannot separate them. Timed back to back inside one round, both
sides see the same machine, so the per-round ratio new/old cancels most of that drift: its median
over the rounds, with a bootstrap interval over the rounds, is the change's size and how sure it is.
"""
from __future__ import annotations

import random
import statistics
from dataclasses import dataclass
from typing import Sequence, TypeVar

from ..errors import InputError

T = TypeVar("T")


def round_order(sides: Sequence[T], r: int) -> list[T]:
    """The order in which round r runs the sides: as given on even rounds, reversed on odd ones,
    so that no side always runs right after another (whose heat or cache state it would inherit)."""
    return list(sides) if r % 2 == 0 else list(sides)[::-1]


@dataclass(frozen=True)
class Paired:
    """median of new/old over the rounds, and its (1 - level) bootstrap interval [lo, hi]."""

    median: float
    lo: float
    hi: float
    rounds: int

    def verdict(self) -> str:
        """'faster' / 'slower' when the interval excludes 1, else 'no change resolved'."""
        if self.hi < 1.0:
            return "faster"
        if self.lo > 1.0:
            return "slower"
        return "no change resolved"

    def to_dict(self) -> dict:
        return {"median_ratio": self.median, "ci95": [self.lo, self.hi], "rounds": self.rounds,
                "verdict": self.verdict()}


def paired_ratio(new: Sequence[float], old: Sequence[float], draws: int = 2000, level: float = 0.05,
                 seed: int = 0) -> Paired:
    """Median of new[i]/old[i] (times of round i; below 1: new is faster) and its percentile
    bootstrap interval: rounds resampled with replacement `draws` times (seeded, so a result file
    reproduces)."""
    if len(new) != len(old):
        raise InputError(f"paired times need one value per round on each side; got {len(new)} and {len(old)}")
    if not new:
        raise InputError("paired times: no rounds to compare; time at least one round of each side")
    if min(old) <= 0 or min(new) <= 0:
        raise InputError("paired times must be positive seconds; a zero or negative time was given")
    ratios = [n / o for n, o in zip(new, old)]
    rng = random.Random(seed)
    meds = sorted(statistics.median(rng.choices(ratios, k=len(ratios))) for _ in range(draws))
    cut = int(draws * level / 2)
    return Paired(statistics.median(ratios), meds[cut], meds[draws - 1 - cut], len(ratios))
