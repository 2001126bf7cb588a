"""`titans-kernels tuned list|show|clear|export|import`: the tuning database (titans_kernels.tuning)."""
from __future__ import annotations

import argparse
import json
import sys
from dataclasses import asdict

from ..backends.launch_config import forward_label
from ..tuning import TuningDB, get_gpu


def add_parser(sub) -> None:
    t = sub.add_parser("tuned", help="inspect or manage the tuning database")
    t.add_argument("--cache-dir", default=None)
    ts = t.add_subparsers(dest="tuned_command", metavar="ACTION", required=True)
    # --cache-dir is taken after the action too (`tuned list --cache-dir DIR`), as autotune takes it
    after = argparse.ArgumentParser(add_help=False)
    after.add_argument("--cache-dir", default=argparse.SUPPRESS, help="tuning database directory")
    ts.add_parser("list", help="one line per record", parents=[after]).set_defaults(func=cmd_list)
    show = ts.add_parser("show", help="records of one spec, as JSON", parents=[after])
    show.add_argument("spec")
    show.set_defaults(func=cmd_show)
    clear = ts.add_parser("clear", help="delete local records (all, or of one --gpu model)", parents=[after])
    clear.add_argument("--gpu", default=None)
    clear.set_defaults(func=cmd_clear)
    exp = ts.add_parser("export", help="write local records to a file", parents=[after])
    exp.add_argument("file")
    exp.set_defaults(func=cmd_export)
    imp = ts.add_parser("import", help="merge records from a file", parents=[after])
    imp.add_argument("file")
    imp.set_defaults(func=cmd_import)


def cmd_list(args) -> int:
    db = TuningDB(args.cache_dir)
    recs = db.records()
    if not recs:
        print(f"no local records in {db.path} (shipped defaults: {len(TuningDB.shipped())})")
    for r in recs:
        c = r.config
        print(f"{r.spec:24s} {r.backend:8s} {r.arch:7s} {r.gpu:8s} {r.dtype:9s} {r.bucket:9s} {r.tuner:9s} "
              f"tile={c['tile']} warps={c['num_warps']} stages={c['num_stages']} {c.get('precision', 'ieee')} "
              f"forward={forward_label(c)} backward={c.get('backward', 'generic')}")
    return 0


def cmd_show(args) -> int:
    db = TuningDB(args.cache_dir)
    local = db.records()
    recs = [asdict(r) for r in local if r.spec == args.spec]
    if not recs:
        known = sorted({r.spec for r in local})
        print(f"error: no local records for spec '{args.spec}' in {db.path}"
              f"{'; records exist for ' + ', '.join(known) if known else ''}", file=sys.stderr)
        return 1
    print(json.dumps(recs, indent=1))
    return 0


def cmd_clear(args) -> int:
    gpu = get_gpu(args.gpu).key if args.gpu else None
    n = TuningDB(args.cache_dir).clear(gpu=gpu)
    print(f"removed {n} record(s)")
    return 0


def cmd_export(args) -> int:
    try:
        n = TuningDB(args.cache_dir).export(args.file)
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(f"exported {n} record(s) to {args.file}")
    return 0


def cmd_import(args) -> int:
    try:
        n = TuningDB(args.cache_dir).import_file(args.file)
    except (OSError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(f"imported {n} record(s)")
    return 0
