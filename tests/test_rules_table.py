"""docs/rules.md's table of shipped rules and backends says what the code does."""
from __future__ import annotations

from pathlib import Path

import titans_kernels as tk
from titans_kernels.backends.launch_config import gpu_problem, onepass_problem

from conftest import SHIPPED

TABLE = Path(__file__).resolve().parents[1] / "docs" / "rules.md"


def _rows() -> dict[str, list[str]]:
    rows = {}
    for line in TABLE.read_text().splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) == 7 and cells[0].startswith("`"):
            rows[cells[0].strip("`")] = cells[2:]
    return rows


def test_every_shipped_rule_is_in_the_table_with_its_backends():
    rows = _rows()
    assert sorted(rows) == SHIPPED
    for name, (reference, torch_, generic, onepass, tilelang) in rows.items():
        ir = tk.lower(tk.load_spec(name))
        assert (reference, torch_) == ("yes", "yes"), name
        gpu = "yes" if gpu_problem(ir) is None else "no"
        assert (generic.split()[0], tilelang.split()[0]) == (gpu, gpu), name
        assert onepass.split()[0] == ("yes" if onepass_problem(ir) is None else "no"), name
