"""Reading pytest-benchmark JSON files into flat rows."""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

from ..errors import InputError


@dataclass
class Row:
    name: str                 # pytest node name, e.g. test_rule_forward[titans_mlp2-torch-float32]
    group: str
    median_s: float
    min_s: float
    info: dict = field(default_factory=dict)

    @property
    def ratio(self) -> float | None:
        """Achieved FLOP/s over the same run's matmul FLOP/s (None when not gated)."""
        if self.info.get("gated") is False:
            return None
        value = self.info.get("fraction_of_matmul")
        return float(value) if value else None


def load(path: str | Path) -> list[Row]:
    """Rows of a `pytest --benchmark-json` file; one clear error when it is not one."""
    path = Path(path)
    try:
        data = json.loads(path.read_text())
        rows = [Row(b["name"], b.get("group") or "", float(b["stats"]["median"]), float(b["stats"]["min"]),
                    dict(b.get("extra_info") or {})) for b in data["benchmarks"]]
    except FileNotFoundError:
        raise InputError(f"no benchmark results at {path}; run `make bench` first") from None
    except (ValueError, KeyError, TypeError) as exc:
        raise InputError(f"{path} is not a pytest-benchmark JSON file ({type(exc).__name__}: {exc}); "
                         f"re-run `make bench`") from None
    return rows
