"""Spec language: shipped specs load; every malformed spec is one clear line."""
from __future__ import annotations

import copy
import string
from pathlib import Path

import pytest
import yaml
from hypothesis import given
from hypothesis import strategies as st

import titans_kernels as tk
from titans_kernels.spec.schema import SCHEMA, Field

BASE = {
    "name": "my_rule",
    "description": "test",
    "memory": {"depth": 2, "expansion": 4, "activation": "silu", "residual": False},
    "loss": {"kind": "l2"},
    "update": {"lr": "per_token", "momentum": "per_token", "decay": "per_token", "read": "after_update"},
    "chunk_size": 64,
}
REQUIRED_SHIPPED = {"titans_mlp2", "titans_linear", "titans_mlp2_chunkgates", "titans_mlp2_nomomentum",
                    "titans_mlp3", "titans_mlp2_residual", "yaad_huber"}


def write(tmp_path: Path, data, name="rule.yaml") -> Path:
    path = tmp_path / name
    path.write_text(data if isinstance(data, str) else yaml.safe_dump(data))
    return path


def one_line_error(path: Path) -> str:
    with pytest.raises(tk.SpecError) as info:
        tk.load_spec(path)
    msg = str(info.value)
    assert "\n" not in msg, msg
    assert str(path) in msg, msg
    return msg


def test_shipped_specs_present_and_valid():
    specs = tk.list_specs()
    assert REQUIRED_SHIPPED <= set(specs)
    for name in specs:
        spec = tk.load_spec(name)
        assert spec.name == name
        assert tk.load_spec(specs[name]) == spec


def test_shipped_default_matches_issue_example():
    s = tk.load_spec("titans_mlp2")
    assert (s.memory.depth, s.memory.expansion, s.memory.activation, s.memory.residual) == (2, 4, "silu", False)
    assert (s.update.lr, s.update.momentum, s.update.decay, s.update.read) == (
        "per_token", "per_token", "per_token", "after_update")
    assert s.chunk_size == 64 and s.loss.kind == "l2"


def test_defaults_filled_and_hash_stable(tmp_path):
    minimal = write(tmp_path, {"name": "tiny"})
    spec = tk.load_spec(minimal)
    assert spec.memory.depth == 2 and spec.update.read == "after_update"
    renamed = write(tmp_path, {"name": "other", "description": "x"}, "b.yaml")
    assert tk.load_spec(renamed).hash == spec.hash  # name/description do not change the function
    changed = write(tmp_path, {"name": "tiny", "memory": {"depth": 3}}, "c.yaml")
    assert tk.load_spec(changed).hash != spec.hash


@pytest.mark.parametrize("mutate, expect", [
    (lambda d: d.update(colour="red"), ["colour", "unknown field", "allowed here"]),
    (lambda d: d["memory"].update(dept=2), ["memory.dept", "unknown field", "did you mean 'depth'"]),
    (lambda d: d["memory"].update(activation="slu"), ["memory.activation", "'slu'", "silu, gelu, relu, identity",
                                                      "did you mean 'silu'"]),
    (lambda d: d["memory"].update(depth=0), ["memory.depth", "0", "out of range", "[1, 4]"]),
    (lambda d: d["memory"].update(depth=9), ["memory.depth", "9", "[1, 4]"]),
    (lambda d: d["memory"].update(depth="two"), ["memory.depth", "'two'", "a string", "an integer"]),
    (lambda d: d["memory"].update(depth=2.5), ["memory.depth", "2.5", "an integer"]),
    (lambda d: d["memory"].update(residual="maybe"), ["memory.residual", "'maybe'", "true or false"]),
    (lambda d: d["memory"].update(expansion=True), ["memory.expansion", "True", "an integer"]),
    (lambda d: d["update"].update(momentum="per_tokn"), ["update.momentum", "did you mean 'per_token'"]),
    (lambda d: d["update"].update(lr="none"), ["update.lr", "per_token, per_chunk"]),
    (lambda d: d["update"].update(read="before"), ["update.read", "after_update, chunk_start"]),
    (lambda d: d["loss"].update(kind="hubr"), ["loss.kind", "did you mean 'huber'"]),
    (lambda d: d["loss"].update(delta=1.0), ["loss.delta", "only to loss.kind huber"]),
    (lambda d: d["loss"].update(kind="huber", delta=-1), ["loss.delta", "out of range"]),
    (lambda d: d["loss"].update(p=3.0), ["loss.p", "only to loss.kind lp"]),
    (lambda d: d["loss"].update(kind="lp", p=1.0), ["loss.p", "out of range", "a number in (1.0, 4.0]"]),
    (lambda d: d["loss"].update(kind="lp", p=4.5), ["loss.p", "out of range"]),
    (lambda d: d.update(chunk_size=0), ["chunk_size", "out of range"]),
    (lambda d: d.update(name="Bad-Name"), ["name", "'Bad-Name'", "identifier"]),
    (lambda d: d.pop("name"), ["name", "required field is missing"]),
    (lambda d: d.update(memory=[1, 2]), ["memory", "expected a mapping"]),
    (lambda d: d.update(schema=2), ["schema", "one of 1"]),
])
def test_invalid_field_gives_one_line(tmp_path, mutate, expect):
    data = copy.deepcopy(BASE)
    mutate(data)
    msg = one_line_error(write(tmp_path, data))
    for piece in expect:
        assert piece in msg, (piece, msg)


@pytest.mark.parametrize("text, expect", [
    ("name: [unclosed", "not valid YAML at line"),
    ("- just\n- a list\n", "the document: expected a mapping"),
    ("!!python/object/apply:os.system ['echo hacked']", "not valid YAML"),
    ("", "name: required field is missing"),
])
def test_malformed_documents(tmp_path, text, expect):
    assert expect in one_line_error(write(tmp_path, text))


def test_unknown_name_suggests_closest():
    with pytest.raises(tk.SpecError, match="did you mean 'titans_mlp2'"):
        tk.load_spec("titans_mpl2")
    with pytest.raises(tk.SpecError, match="no such spec file"):
        tk.load_spec("missing/file.yaml")


def test_spec_path_env(tmp_path, monkeypatch):
    write(tmp_path, dict(BASE, name="from_env"), "from_env.yaml")
    monkeypatch.setenv("TITANS_SPEC_PATH", str(tmp_path))
    assert "from_env" in tk.list_specs()
    assert tk.load_spec("from_env").name == "from_env"


def _leaf_paths(table, prefix=""):
    for key, rule in table.items():
        if isinstance(rule, dict):
            yield from _leaf_paths(rule, prefix + key + ".")
        else:
            yield prefix + key, rule


LEAVES = dict(_leaf_paths(SCHEMA))
junk = st.one_of(st.text(string.printable, max_size=12), st.integers(-10**6, 10**6),
                 st.floats(allow_nan=False), st.booleans(), st.none(), st.lists(st.integers(), max_size=2))


def _is_valid(rule: Field, value) -> bool:
    if rule.kind is float:
        ok = isinstance(value, (int, float)) and not isinstance(value, bool)
    else:
        ok = isinstance(value, rule.kind) and (rule.kind is bool or not isinstance(value, bool))
    if not ok:
        return False
    if rule.choices is not None:
        return value in rule.choices
    if rule.pattern is not None:
        return bool(rule.pattern.match(value))
    if rule.kind in (int, float):
        low_ok = rule.low is None or (value > rule.low if rule.kind is float else value >= rule.low)
        low_ok = low_ok and (rule.floor is None or value >= rule.floor)
        return low_ok and (rule.high is None or value <= rule.high)
    return True


@given(path=st.sampled_from(sorted(LEAVES)), value=junk)
def test_hypothesis_broken_field_is_one_line_naming_path(tmp_path_factory, path, value):
    """Any value put at any field is either accepted, or rejected naming that field."""
    rule = LEAVES[path]
    data = copy.deepcopy(BASE)
    if path == "loss.delta":
        data["loss"]["kind"] = "huber"
    if path == "loss.p":
        data["loss"]["kind"] = "lp"
    node = data
    *parents, leaf = path.split(".")
    for p in parents:
        node = node[p]
    node[leaf] = value
    file = write(tmp_path_factory.mktemp("h"), data)
    if _is_valid(rule, value):
        tk.load_spec(file)
    else:
        msg = one_line_error(file)
        assert msg.startswith(f"{file}: {path}"), msg


@given(key=st.text(string.ascii_letters + "_", min_size=1, max_size=10))
def test_hypothesis_unknown_keys_rejected(tmp_path_factory, key):
    data = copy.deepcopy(BASE)
    if key in SCHEMA["memory"]:   # a real field (one BASE leaves out, say), not an unknown one
        return
    data["memory"][key] = 1
    msg = one_line_error(write(tmp_path_factory.mktemp("k"), data))
    assert f"memory.{key}: unknown field" in msg


def test_spec_fields_cannot_inject_code(tmp_path):
    """Only whitelisted values reach the IR; free text (description) never does."""
    payload = "silu'); import os; os.system('touch /tmp/pwned'); ('"
    data = copy.deepcopy(BASE)
    data["memory"]["activation"] = payload
    assert "memory.activation" in one_line_error(write(tmp_path, data))
    data = copy.deepcopy(BASE)
    data["name"] = "x; rm -rf /"
    assert "name" in one_line_error(write(tmp_path, data, "n.yaml"))
    data = copy.deepcopy(BASE)
    data["description"] = payload
    ir = tk.lower(tk.load_spec(write(tmp_path, data, "d.yaml")))
    assert payload not in repr(ir)


# -- hostile and careless files: bounded work, one short line, the other files still checked ------

SHIPPED_TEXT = Path(tk.list_specs()["titans_mlp2"]).read_text()


@pytest.mark.parametrize("text, expect", [
    (SHIPPED_TEXT.replace("  expansion: 4\n", "  expansion: 4\n  expansion: 2\n"),
     "duplicate key 'expansion' (lines 6 and 7)"),
    (SHIPPED_TEXT + "chunk_size: 32\n", "duplicate key 'chunk_size'"),
    ("a: &a ['lol', 'lol']\nb: &b [*a, *a]\nc: &c [*b, *b]\nname: *c\n", "aliases (*a) are not allowed"),
    ("name: " + "[" * 5000 + "]" * 5000 + "\n", "nested deeper than 16 levels"),
    (SHIPPED_TEXT.replace("kind: l2", "kind: huber\n  delta: .nan"), "loss.delta: nan is not a finite number"),
    (SHIPPED_TEXT.replace("kind: l2", "kind: huber\n  delta: .inf"), "loss.delta: inf is not a finite number"),
    (SHIPPED_TEXT.replace("name: titans_mlp2", "name: " + "a" * 500_000), "name: 'aaaa"),
    (SHIPPED_TEXT.replace("description:", "description: " + "x" * 600), "description: 6"),
])
def test_hostile_files_are_one_short_line(tmp_path, text, expect):
    """Duplicate keys, alias bombs, deep nesting, non-finite numbers and huge values: one line
    naming the problem, never echoing more than a short cut of any value."""
    msg = one_line_error(write(tmp_path, text))
    assert expect in msg and len(msg) < 400, msg[:500]


def test_yaml_12_floats_are_numbers(tmp_path):
    spec = tk.load_spec(write(tmp_path, SHIPPED_TEXT.replace("kind: l2", "kind: huber\n  delta: 1e-3")))
    assert spec.loss.delta == 0.001


@pytest.mark.parametrize("arg, expect", [
    (None, "expected a spec name or a path to a .yaml file, got NoneType"),
    (3, "got int"),
    ("a" * 5000, "unknown spec 'aaa"),
    ("d/" + "a" * 300 + ".yaml", "aaa...: "),   # the path cut short in the message
])
def test_bad_arguments_to_load_spec_are_one_line(arg, expect):
    with pytest.raises(tk.SpecError) as info:
        tk.load_spec(arg)
    msg = str(info.value)
    assert expect in msg and "\n" not in msg and len(msg) < 400, msg[:500]
    with pytest.raises(tk.SpecError, match="expected the spec's YAML text"):
        tk.parse_spec(None)


def test_batch_validate_and_list_go_on_past_a_hostile_file(tmp_path, capsys, monkeypatch):
    from titans_kernels.cli.main import main
    deep = write(tmp_path, "name: " + "[" * 3000 + "]" * 3000 + "\n", "deep.yaml")
    good = write(tmp_path, dict(BASE, name="good"), "good.yaml")
    assert main(["specs", "validate", str(deep), str(good)]) == 1
    out = capsys.readouterr()
    text = out.out + out.err
    assert "nested deeper than 16 levels" in text and "good.yaml" in text and "RecursionError" not in text
    monkeypatch.setenv("TITANS_SPEC_PATH", str(tmp_path))
    assert main(["specs", "list"]) == 0
    listed = capsys.readouterr().out
    assert "good" in listed and "titans_mlp2" in listed


def test_compile_of_a_file_compiles_that_file(tmp_path):
    """A file named like a shipped spec compiles the file's rule (its own IR reaches the
    ahead-of-time subprocess), not the shipped one."""
    from titans_kernels.backends.triton_backend import aot, codegen
    path = write(tmp_path, SHIPPED_TEXT.replace("expansion: 4", "expansion: 2"), "titans_mlp2.yaml")
    ir = tk.lower(tk.load_spec(path))
    assert ir.spec_hash != tk.lower(tk.load_spec("titans_mlp2")).spec_hash
    report = aot.compile_report(ir, "sm_90", D=32, chunk_size=32)
    assert report.kernel == codegen.kernel_name(ir, "fwd")
