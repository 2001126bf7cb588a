"""titans_models: shapes, causality, streaming equals whole, MAC order, checkpoints, gradients."""
from __future__ import annotations

import io

import pytest
import torch

import titans_kernels as tk
from titans_models import (NeuralMemory, TitansConfig, TitansLMM, TitansMAC, TitansMAG, TitansMAL)
from titans_kernels.testing import rel_error
from titans_models.blocks import BlockCache

MODELS = [TitansMAC, TitansMAG, TitansMAL, TitansLMM]


def small_config(**kw) -> TitansConfig:
    base = dict(vocab_size=40, dim=32, layers=2, heads=2, mem_heads=2, mem_dim_head=16, chunk_size=8,
                segment_len=16, window=12, persistent_tokens=2, backend="torch")
    base.update(kw)
    return TitansConfig(**base)


def model(cls, seed=0, **kw):
    torch.manual_seed(seed)
    return cls(small_config(**kw)).eval()


@pytest.mark.parametrize("cls", MODELS)
def test_shapes_and_finite(cls):
    m = model(cls)
    tokens = torch.randint(0, 40, (3, 37))
    logits, cache = m(tokens)
    assert logits.shape == (3, 37, 40) and torch.isfinite(logits).all()
    assert len(cache) == 2 and all(c.pos == 37 for c in cache)


def _tensors(x):
    """Every tensor inside nested dataclasses, lists and tuples."""
    import dataclasses
    if isinstance(x, torch.Tensor):
        yield x
    elif dataclasses.is_dataclass(x):
        for f in dataclasses.fields(x):
            yield from _tensors(getattr(x, f.name))
    elif isinstance(x, (list, tuple)):
        for y in x:
            yield from _tensors(y)


@pytest.mark.parametrize("cls", MODELS)
def test_cache_owns_its_tensors(cls):
    """No cache tensor is a view: a view of this call's inputs would keep them alive between
    streaming steps, and FSDP2 warns about modules that return views."""
    m = model(cls)
    _, cache = m(torch.randint(0, 40, (2, 21)))
    _, cache = m(torch.randint(0, 40, (2, 5)), cache)
    tensors = list(_tensors(cache))
    assert len(tensors) >= 8
    assert not [tuple(t.shape) for t in tensors if t._is_view()]


@pytest.mark.parametrize("cls", MODELS)
def test_causal(cls):
    """Perturbing token t changes no output before t (and does change outputs from t on)."""
    m = model(cls)
    tokens = torch.randint(0, 40, (2, 40))
    t = 21
    other = tokens.clone()
    other[:, t] = (other[:, t] + 7) % 40
    with torch.no_grad():
        a, _ = m(tokens)
        b, _ = m(other)
    assert torch.equal(a[:, :t], b[:, :t])
    assert (a[:, t:] - b[:, t:]).abs().max() > 1e-4


@pytest.mark.parametrize("cls", MODELS)
@pytest.mark.parametrize("splits", [(5,), (16, 32), (1, 2, 3, 30), (8, 24, 33)])
def test_pieces_equal_whole(cls, splits):
    m = model(cls)
    tokens = torch.randint(0, 40, (2, 45))
    with torch.no_grad():
        whole, _ = m(tokens)
        cache, outs, lo = None, [], 0
        for hi in list(splits) + [45]:
            out, cache = m(tokens[:, lo:hi], cache)
            outs.append(out)
            lo = hi
    assert (torch.cat(outs, 1) - whole).abs().max() < 1e-5


def test_generate_matches_greedy_full_pass():
    m = model(TitansMAC)
    prompt = torch.randint(0, 40, (2, 10))
    out = m.generate(prompt, 6)
    assert out.shape == (2, 16) and torch.equal(out[:, :10], prompt)
    with torch.no_grad():
        logits, _ = m(out[:, :-1])
    assert torch.equal(logits[:, 9:].argmax(-1), out[:, 10:])


def test_mac_retrieves_with_the_state_from_before_the_segment():
    """Segment s is read with the memory as it was after segment s-1: never with an update made
    by segment s's own attention output (which only reaches the output through the final read)."""
    m = model(TitansMAC, layers=1)
    block = m.blocks[0]
    x = torch.randn(2, 48, 32)
    with torch.no_grad():
        _, cache = block(x, BlockCache(trace=True))
        used = cache.debug["retrieval_states"]
        assert len(used) == 3  # one read state per segment of 16
        # independent: the memory after segments 0..s-1, by running the block on the prefix
        for s in range(3):
            if s == 0:
                expect = block.memory.initial_state(2).memory.weights
            else:
                _, prefix = block(x[:, : 16 * s])
                expect = prefix.memory.memory.weights
            for a, b in zip(used[s].memory.weights, expect):
                assert torch.allclose(a, b, atol=1e-6)
        after = cache.memory.memory.weights  # after the last segment's update: must differ
        assert any((a - b).abs().max() > 1e-5 for a, b in zip(used[2].memory.weights, after))


def test_neural_memory_streaming_and_gradients():
    torch.manual_seed(0)
    mem = NeuralMemory(32, heads=2, dim_head=16, spec="titans_mlp2", chunk_size=8, backend="torch")
    x = torch.randn(2, 30, 32, requires_grad=True)
    y, _ = mem(x)
    with torch.no_grad():
        state, parts, lo = None, [], 0
        for hi in (3, 11, 19, 30):
            p, state = mem(x[:, lo:hi], state)
            parts.append(p)
            lo = hi
    assert (torch.cat(parts, 1) - y).abs().max() < 1e-5
    y.square().mean().backward()
    assert x.grad is not None and float(x.grad.norm()) > 0
    assert all(w.grad is not None and float(w.grad.norm()) > 0 for w in mem.w0)
    assert float(mem.to_gates.weight.grad.norm()) > 0


@pytest.mark.parametrize("spec", ["titans_mlp2_chunkgates", "titans_mlp2_nomomentum", "yaad_huber"])
def test_neural_memory_other_specs_stream(spec):
    torch.manual_seed(1)
    mem = NeuralMemory(32, heads=2, dim_head=16, spec=spec, chunk_size=8, backend="torch")
    x = torch.randn(1, 27, 32)
    with torch.no_grad():
        y, _ = mem(x)
        a, st = mem(x[:, :13])
        b, _ = mem(x[:, 13:], st)
    assert (torch.cat([a, b], 1) - y).abs().max() < 1e-5


def test_checkpoint_round_trip():
    m = model(TitansMAG)
    tokens = torch.randint(0, 40, (1, 20))
    buf = io.BytesIO()
    torch.save({"config": m.cfg.to_dict(), "state": m.state_dict()}, buf)
    buf.seek(0)
    blob = torch.load(buf)
    m2 = TitansMAG(TitansConfig(**blob["config"])).eval()
    m2.load_state_dict(blob["state"])
    with torch.no_grad():
        assert torch.equal(m(tokens)[0], m2(tokens)[0])


def test_training_step_reduces_loss():
    m = model(TitansMAL)
    m.train()
    opt = torch.optim.Adam(m.parameters(), lr=3e-3)
    tokens = torch.randint(0, 40, (4, 24))
    losses = []
    for _ in range(15):
        logits, _ = m(tokens[:, :-1])
        loss = torch.nn.functional.cross_entropy(logits.reshape(-1, 40), tokens[:, 1:].reshape(-1))
        opt.zero_grad()
        loss.backward()
        opt.step()
        losses.append(float(loss.detach()))
    assert losses[-1] < 0.8 * losses[0]


def test_config_validation():
    with pytest.raises(ValueError, match="segment_len=20 must be a multiple of chunk_size=8"):
        small_config(segment_len=20)
    with pytest.raises(ValueError, match="unknown block kind"):
        from titans_models import TitansLM
        TitansLM(small_config(), kind="xyz")
    assert tk.compile("titans_mlp2", backend="auto").backend == "auto"


def test_chunk_lr_budget_bounds_each_chunk_and_stays_causal():
    from titans_kernels.ir import GateMode
    from titans_models.memory import chunk_lr_budget
    g = torch.Generator().manual_seed(3)
    raw = 50.0 * torch.rand(2, 3, 70, generator=g, dtype=torch.float64)   # rates far beyond 1
    theta = chunk_lr_budget(raw, 16, GateMode.PER_TOKEN)
    assert theta.shape == raw.shape and (theta > 0).all()
    sums = torch.nn.functional.pad(theta, (0, 10)).view(2, 3, 5, 16).sum(-1)
    assert sums.max() < 1.0
    first = raw[..., ::16] / (1 + raw[..., ::16])            # a chunk's first token: raw / (1 + raw)
    assert torch.allclose(theta[..., ::16], first)
    later = raw.clone()
    later[..., 40:] = 0.123                                  # changing later tokens changes no earlier rate
    assert torch.equal(chunk_lr_budget(later, 16, GateMode.PER_TOKEN)[..., :40], theta[..., :40])
    small = torch.full((1, 1, 16), 1e-4, dtype=torch.float64)   # small rates pass nearly unchanged
    assert torch.allclose(chunk_lr_budget(small, 16, GateMode.PER_TOKEN), small, rtol=4e-3)  # 1 - 2 R
    per_chunk = chunk_lr_budget(raw[..., :5], 16, GateMode.PER_CHUNK)
    assert (16 * per_chunk).max() < 1.0


@pytest.mark.parametrize("cls", [TitansMAC, TitansMAG])
def test_flex_attention_matches_sdpa(cls):
    """The flex-attention path (block mask from the same window / segment mask) gives the
    scaled_dot_product_attention outputs."""
    from titans_models.attention import flex_available
    if not flex_available():
        pytest.skip("this torch has no flex attention")
    cfg = TitansConfig(vocab_size=40, dim=32, layers=1, heads=2, mem_heads=2, mem_dim_head=16, chunk_size=8,
                       segment_len=16, window=8, persistent_tokens=2, backend="torch", attention="sdpa")
    torch.manual_seed(0)
    ref = cls(cfg)
    flex = cls(TitansConfig(**{**cfg.to_dict(), "attention": "flex"}))
    flex.load_state_dict(ref.state_dict())
    x = torch.randint(0, 40, (2, 37), generator=torch.Generator().manual_seed(2))
    with torch.no_grad():  # flex attention has no CPU backward; CUDA training uses its compiled kernel
        a, b = ref(x)[0], flex(x)[0]
    assert torch.isfinite(b).all()
    assert (a - b).abs().max() < 1e-4 * a.abs().max()


def test_unknown_attention_impl_is_one_line():
    with pytest.raises(ValueError, match="attention='fast' unknown; choose auto, sdpa or flex"):
        TitansConfig(attention="fast")


@pytest.mark.parametrize("kind", ["product", "silu", "sigmoid"])
def test_branch_gate_formula(kind):
    from titans_models.layers import BranchGate
    torch.manual_seed(0)
    gate = BranchGate(8, kind)
    with torch.no_grad():
        for norm in (gate.y_norm, gate.m_norm):
            norm.weight.uniform_(0.5, 1.5)
    y, m = torch.randn(2, 5, 8) * 3, torch.randn(2, 5, 8) * 0.1
    rms = lambda t, w: t / t.pow(2).mean(-1, keepdim=True).add(1e-6).sqrt() * w  # noqa: E731
    mn = rms(m, gate.m_norm.weight)
    expect = {"product": mn, "silu": torch.nn.functional.silu(mn),
              "sigmoid": torch.sigmoid(gate.proj(mn)) if gate.proj is not None else None}[kind]
    assert torch.allclose(gate(y, m), rms(y, gate.y_norm.weight) * expect, atol=1e-6)


def test_unknown_gate_is_one_line():
    with pytest.raises(ValueError, match="gate='max' unknown; choose one of product, silu, sigmoid"):
        TitansConfig(gate="max")


def test_mal_attention_reads_the_stream_the_memory_wrote():
    """MAL = x + M(norm x), then + attn(norm .), then the FF: with the memory's output projection
    zeroed it is exactly the attention-only block with the same weights (its short convolution
    zeroed too); with it, it differs."""
    from titans_models.blocks import MALBlock, SWABlock
    cfg = small_config(layers=1)
    torch.manual_seed(0)
    mal, swa = MALBlock(cfg).eval(), SWABlock(cfg).eval()
    swa.attn.load_state_dict(mal.attn.state_dict())
    swa.ff.load_state_dict(mal.ff.state_dict())
    swa.norm1.load_state_dict(mal.mid_norm.state_dict())
    swa.norm2.load_state_dict(mal.norm2.state_dict())
    x = torch.randn(2, 40, cfg.dim)
    with torch.no_grad():
        swa.conv.conv.weight.zero_()
        swa.conv.conv.bias.zero_()
        with_memory = mal(x)[0]
        mal.memory.out_proj.weight.zero_()
        assert torch.allclose(mal(x)[0], swa(x)[0], atol=1e-6)
        assert (with_memory - swa(x)[0]).abs().max() > 1e-3


def test_causal_conv_equals_padded_depthwise_conv1d():
    """The shifted multiply-adds compute the depthwise Conv1d over [history | x]."""
    from titans_models.layers import CausalDepthwiseConv
    torch.manual_seed(0)
    conv = CausalDepthwiseConv(6, 4)
    x, hist = torch.randn(2, 9, 6), torch.randn(2, 3, 6)
    ref = torch.nn.functional.conv1d(torch.cat([hist, x], 1).transpose(1, 2), conv.conv.weight, conv.conv.bias,
                                     groups=6).transpose(1, 2)
    assert torch.allclose(conv(x, hist), ref, atol=1e-6)
    zero = torch.nn.functional.conv1d(torch.nn.functional.pad(x.transpose(1, 2), (3, 0)), conv.conv.weight,
                                      conv.conv.bias, groups=6).transpose(1, 2)
    assert torch.allclose(conv(x), zero, atol=1e-6)


def test_causal_conv_gradients_equal_conv1d():
    """The in-place multiply-adds keep autograd exact: gradients of x, history, taps and bias."""
    from titans_models.layers import CausalDepthwiseConv
    torch.manual_seed(1)
    conv = CausalDepthwiseConv(6, 4)
    x, hist = torch.randn(2, 9, 6, requires_grad=True), torch.randn(2, 3, 6, requires_grad=True)
    w = torch.randn(2, 9, 6)
    (conv(x, hist) * w).sum().backward()
    ours = [t.grad.clone() for t in (x, hist, conv.conv.weight, conv.conv.bias)]
    for t in (x, hist, conv.conv.weight, conv.conv.bias):
        t.grad = None
    ref = torch.nn.functional.conv1d(torch.cat([hist, x], 1).transpose(1, 2), conv.conv.weight, conv.conv.bias,
                                     groups=6).transpose(1, 2)
    (ref * w).sum().backward()
    for mine, t in zip(ours, (x, hist, conv.conv.weight, conv.conv.bias)):
        assert torch.allclose(mine, t.grad, atol=1e-5), (mine - t.grad).abs().max()


BAD_MODEL_CALLS = [
    ("1-d tokens", lambda m: m(torch.randint(0, 40, (16,))),
     r"tokens: expected shape \(batch, time\), got \(16,\) \(add a batch dimension: tokens\[None\]\)"),
    ("float tokens", lambda m: m(torch.rand(1, 16)), "tokens: expected integer token ids, got torch.float32"),
    ("id past the vocabulary", lambda m: m(torch.full((1, 16), 40)),
     r"tokens: id 40 is outside the vocabulary \[0, 40\) of this model"),
    ("negative id", lambda m: m(torch.full((1, 16), -1)), r"tokens: id -1 is outside the vocabulary"),
    ("cache of another batch", lambda m: m(torch.randint(0, 40, (2, 8)), m(torch.randint(0, 40, (1, 8)))[1]),
     "cache holds a stream of batch 1, got input of batch 2: continue with the same batch"),
    ("cache of another model kind", lambda m: m(torch.randint(0, 40, (1, 8)),
                                                TitansMAG(m.cfg)(torch.randint(0, 40, (1, 8)))[1]),
     "cache comes from a 'mag' block, not 'mac': pass back the cache this model returned"),
    ("cache of the wrong length", lambda m: m(torch.randint(0, 40, (1, 8)), [BlockCache()]),
     "cache: expected the list of 2 block caches this model returned, got 1 entries"),
    ("negative max_new_tokens", lambda m: m.generate(torch.randint(0, 40, (1, 4)), -1),
     "max_new_tokens=-1: expected an integer >= 0"),
    ("negative temperature", lambda m: m.generate(torch.randint(0, 40, (1, 4)), 2, temperature=-0.5),
     "temperature=-0.5: expected a number >= 0"),
]


@pytest.mark.parametrize("case, call, match", BAD_MODEL_CALLS, ids=[c[0] for c in BAD_MODEL_CALLS])
def test_bad_model_calls_are_one_line(case, call, match):
    """Each is one tk.InputError line naming the argument, never an error from deep inside torch
    (an out-of-vocabulary id on a GPU would otherwise be a device-side assert)."""
    m = model(TitansMAC, layers=2)
    with pytest.raises(tk.InputError, match=match) as info:
        call(m)
    assert "\n" not in str(info.value)


BAD_MEMORY_CALLS = [
    ("wrong feature size", lambda mem: mem(torch.randn(2, 10, 31)), r"expected shape \(batch, time, 32\), got \(2, 10, 31\)"),
    ("2-d input", lambda mem: mem(torch.randn(10, 32)), r"expected shape \(batch, time, 32\), got \(10, 32\)"),
    ("integer input", lambda mem: mem(torch.ones(2, 10, 32, dtype=torch.long)), "expected a floating-point tensor, got torch.int64"),
    ("state of another batch", lambda mem: mem(torch.randn(3, 10, 32), mem(torch.randn(2, 10, 32))[1]),
     "state holds a stream of batch 2, got input of batch 3"),
    ("not a state", lambda mem: mem(torch.randn(2, 10, 32), {"memory": None}), "state: expected the NeuralMemoryState"),
]


@pytest.mark.parametrize("case, call, match", BAD_MEMORY_CALLS, ids=[c[0] for c in BAD_MEMORY_CALLS])
def test_bad_memory_calls_are_one_line(case, call, match):
    mem = NeuralMemory(32, heads=2, dim_head=16, spec="titans_mlp2", chunk_size=8, backend="torch")
    with pytest.raises(tk.InputError, match=match):
        call(mem)


@pytest.mark.parametrize("fields, match", [
    (dict(window=0), "window=0: expected an integer >= 1"),
    (dict(layers=2.5), "layers=2.5: expected an integer >= 1"),
    (dict(persistent_tokens=-1), "persistent_tokens=-1: expected an integer >= 0"),
    (dict(max_lr=0), "max_lr=0: expected a number > 0"),
    (dict(max_lr=float("inf")), "max_lr=inf: expected a number > 0, finite"),
    (dict(dim=30, heads=4), "dim=30 must be divisible by heads=4"),
    (dict(gate="tanh"), "gate='tanh' unknown; choose one of product, silu, sigmoid"),
])
def test_bad_configs_are_one_line(fields, match):
    with pytest.raises(tk.InputError, match=match):
        TitansConfig(**fields)
    with pytest.raises(tk.InputError, match="heads=0: expected an integer >= 1"):
        NeuralMemory(32, heads=0)


def test_mac_keeps_no_retrieval_trace_unless_asked():
    """A streaming cache does not grow with the stream: the per-piece retrieval states are kept
    only for a cache made with trace=True."""
    m = model(TitansMAC, layers=1)
    cache = None
    with torch.no_grad():
        for _ in range(6):
            _, cache = m(torch.randint(0, 40, (1, 8)), cache)
    assert cache[0].debug == {}


def test_zero_tokens_are_one_line():
    model = TitansMAG(TitansConfig(vocab_size=32, dim=32, layers=1, heads=2, window=16, segment_len=16,
                                   chunk_size=16))
    with pytest.raises(tk.InputError, match="tokens: no tokens"):
        model(torch.zeros(2, 0, dtype=torch.long))
    with pytest.raises(tk.InputError, match="no tokens"):
        NeuralMemory(32, heads=2)(torch.zeros(2, 0, 32))


def test_memory_in_bfloat16_and_under_autocast():
    """NeuralMemory converted to bf16, and called under torch.autocast: both run, keep the memory
    state in float32, follow the float32 layer within bf16 error, and give gradients."""
    torch.manual_seed(0)
    mem = NeuralMemory(64, heads=4, chunk_size=16)
    x = torch.randn(2, 40, 64)
    want, _ = mem(x)
    low = NeuralMemory(64, heads=4, chunk_size=16)
    low.load_state_dict(mem.state_dict())
    low = low.to(torch.bfloat16)
    got, state = low(x.bfloat16())
    assert got.dtype == torch.bfloat16 and all(t.dtype == torch.float32 for t in state.memory.tensors())
    assert rel_error(got, want) < 3e-2
    got.float().square().mean().backward()
    assert all(p.grad is not None and torch.isfinite(p.grad).all() for p in low.parameters() if p.requires_grad)
    with torch.autocast("cpu", dtype=torch.bfloat16):
        got, state = mem(x)
    assert all(t.dtype == torch.float32 for t in state.memory.tensors()) and rel_error(got, want) < 3e-2
    got.float().square().mean().backward()
