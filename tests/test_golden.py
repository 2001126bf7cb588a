"""Generated kernel sources against their golden files (tests/golden/): any change to what the
code generators emit shows here, and in the diff, until `make golden` refreshes them."""
from __future__ import annotations

import difflib

import pytest

from golden.cases import cases, path, render


@pytest.mark.parametrize("backend, spec, kind", cases(), ids=lambda x: x)
def test_generated_source_matches_golden(backend, spec, kind):
    want = path(backend, spec, kind)
    got = render(backend, spec, kind)
    assert want.exists(), f"no golden file {want.name}; run `make golden`"
    if got != want.read_text():
        diff = "".join(list(difflib.unified_diff(want.read_text().splitlines(True), got.splitlines(True),
                                                 str(want), "generated"))[:60])
        pytest.fail(f"{backend} {kind} source of {spec} changed; if intended, run `make golden`\n{diff}")
