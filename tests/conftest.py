"""Shared helpers: random rule inputs, and calling a rule with a list of leaf tensors."""
from __future__ import annotations

import os

# Triton kernels run on CPU tensors through Triton's interpreter; it must be chosen before
# any kernel module is imported. Ahead-of-time compilation switches it off in a subprocess.
os.environ.setdefault("TRITON_INTERPRET", "1")
# The torch backend's steps run eager unless a test asks for the compiled path (test_compiled.py),
# whatever the default: a compile per shape (tens of seconds here) the other tests need not pay.
os.environ.setdefault("TITANS_TORCH_COMPILE", "off")

import pytest  # noqa: E402
import torch  # noqa: E402
from hypothesis import settings  # noqa: E402

import titans_kernels as tk  # noqa: E402
from titans_kernels.backends.launch_config import gpu_problem  # noqa: E402
from titans_kernels.testing import random_inputs, rel_error  # noqa: E402

settings.register_profile("ci", max_examples=60, deadline=None)
settings.register_profile("dev", max_examples=25, deadline=None)
settings.load_profile("ci" if os.environ.get("CI") else "dev")

SHIPPED = sorted(tk.list_specs())
# the shipped specs the GPU kernels (Triton, TileLang) express; the others are one clear line there
GPU_SPECS = [n for n in SHIPPED if gpu_problem(tk.lower(tk.load_spec(n))) is None]
# The rules a per-spec case runs on by default where running every shipped rule is slow: the
# linear memory, the default deep memory and a non-MSE loss. The rest run in `make test-full`.
REPRESENTATIVE = ("titans_linear", "titans_mlp2_normalized", "yaad_huber")


def representative(values, default=REPRESENTATIVE) -> list:
    """Parametrize values: those in `default` run in the default suite, the others are marked slow."""
    return [v if v in default else pytest.param(v, marks=pytest.mark.slow) for v in values]


@pytest.fixture(params=SHIPPED)
def spec_name(request) -> str:
    return request.param


def make_case(name: str, B: int, H: int, T: int, D: int, chunk: int, seed: int,
              dtype=torch.float64, momentum_state: bool = True, steep: bool = False):
    """Fresh inputs and a random initial state (with non-zero momentum) for a shipped spec.
    steep: keys growing from 0.5 to 3 in norm and doubled weights, so that the normalized step's
    curvature bounds range from about 1 to 100."""
    rule = tk.compile(name, backend="reference")
    g = torch.Generator().manual_seed(seed)
    inputs = random_inputs(rule.ir, B, H, T, D, chunk, dtype=dtype, generator=g)
    state = rule.init_state(B, H, D, dtype=dtype, generator=g)
    if state.momentum and momentum_state:
        state.momentum = [0.05 * torch.randn(s.shape, generator=g, dtype=dtype) for s in state.momentum]
    if state.anchor:  # an anchor distinct from the starting weights
        state.anchor = [a + 0.1 * torch.randn(a.shape, generator=g, dtype=dtype) for a in state.anchor]
    if steep:
        inputs.k = inputs.k * torch.linspace(0.5, 3.0, T, dtype=dtype)[:, None]
        state.weights = [2.0 * w for w in state.weights]
    return inputs, state


def call_with_leaves(rule, leaves: list[torch.Tensor], gate_mask: list[bool], depth: int, chunk: int):
    """Unpack [q, k, v, *present gates, *weights, *momentum, *anchor] and call `rule`."""
    it = iter(leaves)
    q, k, v = next(it), next(it), next(it)
    gates = [next(it) if present else None for present in gate_mask]
    rest = list(it)
    n_mom = depth if rule.ir.gates.has_momentum else 0
    state = tk.MemoryState(rest[:depth], rest[depth:depth + n_mom] or None, rest[depth + n_mom:] or None)
    return rule(q, k, v, *gates, state=state, chunk_size=chunk)


def flat_inputs(inputs, state) -> tuple[list[torch.Tensor], list[bool]]:
    gates = [inputs.lr, inputs.momentum, inputs.decay]
    leaves = ([inputs.q, inputs.k, inputs.v] + [g for g in gates if g is not None] + state.tensors()
              + (state.anchor or []))
    return leaves, [g is not None for g in gates]


def compare_backends(name: str, backend: str, B: int, H: int, T: int, D: int, chunk: int, seed: int,
                     dtype=torch.float32, tol: float = 1e-5, other: str = "torch", steep: bool = False,
                     device: str = "cpu", **options) -> None:
    """`backend` (compiled with `options`) against `other` on fresh inputs: every output element
    finite, per-token and overall relative error of the output and of the end state within `tol`."""
    inputs, state = make_case(name, B, H, T, D, chunk, seed=seed, dtype=torch.float64, steep=steep)
    args = [x.to(device, dtype) if x is not None else None for x in inputs.args()]
    st = state.to(torch.float32).to(device)
    ref, ref_state = tk.compile(name, backend=other)(*args, state=st, chunk_size=chunk)
    out, out_state = tk.compile(name, backend=backend, **options)(*args, state=st, chunk_size=chunk)
    assert out.dtype == dtype and out.shape == ref.shape
    assert torch.isfinite(out.float()).all()
    per_token = (out.float() - ref.float()).norm(dim=-1) / ref.float().norm(dim=-1).clamp_min(1e-12)
    assert per_token.max() < 10 * tol, per_token.max()
    assert rel_error(out, ref) < tol
    for a, b in zip(out_state.tensors(), ref_state.tensors()):
        assert a.dtype == torch.float32 and torch.isfinite(a).all()
        assert rel_error(a, b) < tol


def compare_gradients(name: str, backend: str, T: int = 56, chunk: int = 16, steep: bool = False,
                      D: int = 16, device: str = "cpu", tol: float = 1e-5, dtype=torch.float32,
                      **options) -> None:
    """Gradients of every input and the initial state (loss: random projections of the output and
    the end state), `backend` (compiled with `options`) against the torch backend. dtype: that of
    q, k, v (the torch backend runs on float32 copies of the same values)."""
    inputs, state = make_case(name, 1, 2, T, D, chunk, seed=6, dtype=torch.float64, steep=steep)
    leaves, mask = flat_inputs(inputs, state)
    leaves = [x.to(device, dtype if i < 3 else torch.float32) for i, x in enumerate(leaves)]
    depth = len(state.weights)

    def grads(rule, upcast=False):
        xs = [x.clone().requires_grad_() for x in leaves]
        out, st = call_with_leaves(rule, [x.float() for x in xs] if upcast else xs, mask, depth, chunk)
        g = torch.Generator().manual_seed(0)
        probe = lambda t: torch.randn(t.shape, generator=g, dtype=torch.float64).to(t.device, torch.float32)  # noqa: E731
        loss = (out * probe(out)).sum() + sum((t * probe(t)).sum() for t in st.tensors())
        return torch.autograd.grad(loss, xs)

    ref = grads(tk.compile(name, backend="torch"), upcast=True)
    got = grads(tk.compile(name, backend=backend, **options))
    for i, (a, b) in enumerate(zip(got, ref)):
        assert a.dtype == leaves[i].dtype and torch.isfinite(a).all() and float(b.norm()) > 0
        assert rel_error(a, b) < tol, (i, rel_error(a, b))


def hostile_spec(tmp_path) -> str:
    """titans_mlp2 under another name, with code-like text in its free-form fields."""
    import copy

    import yaml
    data = copy.deepcopy(yaml.safe_load(open(tk.list_specs()["titans_mlp2"])))
    data["name"] = "evil_rule"
    data["description"] = "'); import os; os.system('echo pwned') #"
    path = tmp_path / "evil_rule.yaml"
    path.write_text(yaml.safe_dump(data))
    return str(path)


def loopback_interface() -> str | None:
    """The loopback interface's name ('lo' on Linux, 'lo0' on macOS), or None if none is listed:
    gloo pinned to it cannot hang on an unreachable host address."""
    import socket
    try:
        names = [name for _, name in socket.if_nameindex()]
    except OSError:
        return None
    return next((n for n in names if n.startswith("lo")), None)
