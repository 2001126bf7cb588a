"""`titans-kernels report`: the latest benchmark results as a Markdown table and PNG plots
(tokens/s against sequence length per backend; peak memory against sequence length)."""
from __future__ import annotations

from collections import defaultdict
from pathlib import Path

from .fingerprint import fingerprint
from .results import Row, load


def _table(rows: list[Row]) -> list[str]:
    out = []
    groups: dict[str, list[Row]] = defaultdict(list)
    for r in rows:
        groups[r.group].append(r)
    for group, members in groups.items():
        out += [f"### {group}", "", "| benchmark | tokens/s | GFLOP/s | vs matmul | peak memory |",
                "|---|---:|---:|---:|---:|"]
        for r in members:
            i = r.info
            tps = f"{i['tokens_per_s']:,.0f}" if i.get("tokens_per_s") else "-"
            gf = f"{i['gflops']:.1f}" if i.get("gflops") else "-"
            ratio = f"{r.ratio:.1%}" if r.ratio is not None else "-"
            mem = f"{i['peak_gb']:.2f} GB" if "peak_gb" in i else "-"
            out.append(f"| `{r.name}` | {tps} | {gf} | {ratio} | {mem} |")
        out.append("")
    return out


def _plot(series: dict[str, list[tuple[int, float]]], ylabel: str, title: str, path: Path,
          log_x: bool = True) -> bool:
    if not series:
        return False
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6, 4))
    for label, points in sorted(series.items()):
        points.sort()
        ax.plot([p[0] for p in points], [p[1] for p in points], marker="o", label=label)
    if log_x:
        ax.set_xscale("log", base=2)
    ax.set_xlabel("sequence length T (tokens)")
    ax.set_ylabel(ylabel)
    ax.set_title(title)
    ax.grid(alpha=0.3)
    ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return True


def render(results: str | Path, out_dir: str | Path) -> list[Path]:
    """Write report.md (and throughput.png / memory.png where the results have those series)."""
    rows = load(results)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    throughput: dict[str, list[tuple[int, float]]] = defaultdict(list)
    memory: dict[str, list[tuple[int, float]]] = defaultdict(list)
    for r in rows:
        i = r.info
        if "scaling" in r.group and "seq" in i:
            throughput[f"{i.get('backend', '?')} ({i.get('dtype', '')})"].append((int(i["seq"]), i["tokens_per_s"]))
        if "peak_gb" in i and "seq" in i:
            memory[f"forward+backward ({i.get('memory', '')})"].append((int(i["seq"]), i["peak_gb"]))
    written = []
    fp = fingerprint()
    device = rows[0].info.get("device", fp["device"]) if rows else fp["device"]
    md = ["# Benchmark report", "",
          f"Device: {device}; torch {fp['torch']}, triton {fp['triton'] or '-'}, tilelang {fp['tilelang'] or '-'}.",
          "`vs matmul` is achieved FLOP/s over the FLOP/s of a 1024^3 matrix product of the same dtype "
          "timed in the same run (fastest rounds of both).", ""]
    if _plot(throughput, "tokens/s", "rule forward (titans_mlp2, B=2, H=4, D=64)", out / "throughput.png"):
        md += ["![tokens/s against sequence length](throughput.png)", ""]
        written.append(out / "throughput.png")
    if _plot(memory, "peak memory (GB)", "forward+backward peak memory (titans_mlp2, B=2, H=4, D=64)",
             out / "memory.png", log_x=False):
        md += ["![peak memory against sequence length](memory.png)", ""]
        written.append(out / "memory.png")
    md += _table(rows)
    (out / "report.md").write_text("\n".join(md) + "\n")
    written.insert(0, out / "report.md")
    return written
