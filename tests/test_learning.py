"""Learning on the associative-recall task at 4x the attention window (the README's recipe):
models with memory pass the recall targets, the attention-only baseline stays near chance.
Seeded, so each run is reproducible; the long runs are marked slow (`make test-full`): by
default one model (MAG, linear memory) is trained at half the recipe's length and window."""
from __future__ import annotations

import pytest

from titans_models.train import parse_args, train

RECIPE = ["--preset", "recall", "--eval-lengths", "128", "--eval-batches", "4", "--backend", "torch",
          "--device", "cpu", "--no-progress"]


def _accuracy(tmp_path, model: str, steps: int, *flags: str, length: int = 128) -> float:
    args = parse_args(RECIPE + ["--model", model, "--steps", str(steps), *flags,
                                "--eval-every", str(steps), "--out", str(tmp_path / model)])
    return train(args)["accuracy"][str(length)]


def test_mag_learns_recall_beyond_its_window(tmp_path):
    """T=64 at 4x a window of 16: the recall jumps from chance to 97 % between steps 300 and 600
    (measured), at half the cost per step of the recipe's T=128."""
    assert _accuracy(tmp_path, "mag", 700, "--seq-len", "64", "--window", "16", "--segment", "16",
                     "--eval-lengths", "64", length=64) >= 0.8


@pytest.mark.slow
def test_mag_learns_recall_at_the_recipe_length(tmp_path):
    assert _accuracy(tmp_path, "mag", 1000) >= 0.8


@pytest.mark.slow
def test_mag_with_the_default_deep_memory_learns_recall(tmp_path):
    assert _accuracy(tmp_path, "mag", 1000, "--spec", "titans_mlp2_normalized") >= 0.8


@pytest.mark.slow
@pytest.mark.parametrize("model, steps", [("mag", 2000), ("mal", 3000), ("mac", 4000)])
def test_memory_models_reach_90_percent_recall(tmp_path, model, steps):
    assert _accuracy(tmp_path, model, steps) >= 0.9


@pytest.mark.slow
def test_attention_only_baseline_stays_near_chance(tmp_path):
    assert _accuracy(tmp_path, "swa", 1500) <= 0.15


@pytest.mark.slow
@pytest.mark.parametrize("model, steps", [("mag", 2000), ("mac", 3000)])
def test_deep_memory_learns_recall_with_normalized_steps(tmp_path, model, steps):
    """The default deep memory (titans_mlp2_normalized) at the recipe's max_lr 2, where the plain
    gradient step diverges within the first training steps."""
    assert _accuracy(tmp_path, model, steps, "--spec", "titans_mlp2_normalized") >= 0.9
