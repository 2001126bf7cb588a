"""`titans-kernels report` and `titans-kernels bench save|compare`: benchmark results to a report,
and the per-machine regression gate."""
from __future__ import annotations

DEFAULT_RESULTS = "benchmarks/results/latest.json"


def add_parser(sub) -> None:
    r = sub.add_parser("report", help="render benchmark results as Markdown + PNG plots")
    r.add_argument("--results", default=DEFAULT_RESULTS, help=f"pytest-benchmark JSON (default {DEFAULT_RESULTS})")
    r.add_argument("--out", default="docs/perf", help="output folder (default docs/perf)")
    r.set_defaults(func=cmd_report)

    b = sub.add_parser("bench", help="save this machine's baseline, or compare results with it")
    bs = b.add_subparsers(dest="bench_command", metavar="ACTION", required=True)
    save = bs.add_parser("save", help="record RESULTS as this machine's baseline")
    save.add_argument("results", nargs="?", default=DEFAULT_RESULTS)
    save.add_argument("--baselines", default="benchmarks/baselines")
    save.add_argument("--reset", action="store_true", help="start the baseline afresh (default: fold this run in, "
                                                            "keeping each benchmark's lowest ratio)")
    save.set_defaults(func=cmd_save)
    cmp_ = bs.add_parser("compare", help="fail when a ratio dropped more than --threshold below the baseline")
    cmp_.add_argument("results", nargs="?", default=DEFAULT_RESULTS)
    cmp_.add_argument("--baselines", default="benchmarks/baselines")
    cmp_.add_argument("--threshold", type=float, default=0.10, help="allowed relative drop (default 0.10)")
    cmp_.add_argument("--all", action="store_true", dest="show_all",
                      help="list every benchmark's ratios, not only those that moved")
    cmp_.set_defaults(func=cmd_compare)
    ab = bs.add_parser("ab", help="run the benchmarks of a base commit (temporary git worktree) and of the working "
                                  "tree interleaved in one session and compare their ratios; needs no baseline")
    ab.add_argument("--base", default="auto",
                    help="commit to compare with (default auto: HEAD when tracked files changed, else HEAD~1)")
    ab.add_argument("--rounds", type=int, default=2, help="runs per side, interleaved (default 2)")
    ab.add_argument("--threshold", type=float, default=0.10, help="allowed relative drop (default 0.10)")
    ab.add_argument("--all", action="store_true", dest="show_all",
                    help="list every benchmark's ratios, not only those that moved")
    ab.add_argument("pytest_args", nargs="*",
                    help="what to run (after --), e.g. -- benchmarks/test_rules.py -k titans_mlp2; "
                         "default: benchmarks/ -m 'not peer'")
    ab.set_defaults(func=cmd_ab)
    has = bs.add_parser("has-baseline", help="exit 0 when this machine has a baseline, 1 when not")
    has.add_argument("--baselines", default="benchmarks/baselines")
    has.set_defaults(func=cmd_has_baseline)


def cmd_report(args) -> int:
    from ..perf.report import render
    for path in render(args.results, args.out):
        print(f"wrote {path}")
    return 0


def cmd_save(args) -> int:
    from ..perf.gate import save
    path, n = save(args.results, args.baselines, reset=args.reset)
    print(f"saved {n} ratio(s) to {path}")
    return 0


def cmd_compare(args) -> int:
    from ..perf.gate import compare
    ok, _, lines = compare(args.results, args.baselines, args.threshold, show_all=args.show_all)
    print("\n".join(lines))
    return 0 if ok else 1


def cmd_ab(args) -> int:
    from pathlib import Path

    from ..errors import InputError
    from ..perf.ab import ab
    if args.rounds < 1:
        raise InputError(f"--rounds {args.rounds}: expected 1 or more")
    root = Path.cwd()
    ok, _, lines = ab(root, args.base, args.rounds, args.threshold, args.pytest_args or None,
                      progress=lambda text: print(text, flush=True), show_all=args.show_all)
    print("\n".join(lines))
    return 0 if ok else 1


def cmd_has_baseline(args) -> int:
    from ..perf.gate import baseline_path
    path = baseline_path(args.baselines)
    print(path if path.exists() else f"no baseline {path}")
    return 0 if path.exists() else 1
