"""`titans-kernels specs list | show NAME | validate FILE...`."""
from __future__ import annotations

import sys

import yaml

from ..errors import SpecError
from ..ir import lower
from ..spec import list_specs, load_spec


def add_parser(sub) -> None:
    p = sub.add_parser("specs", help="list, show and validate memory specs")
    ssub = p.add_subparsers(dest="specs_command", metavar="ACTION", required=True)
    ssub.add_parser("list", help="list the specs on the search path").set_defaults(func=cmd_list)
    show = ssub.add_parser("show", help="print a spec with defaults filled in, and its IR")
    show.add_argument("name", help="shipped spec name or path to a .yaml file")
    show.set_defaults(func=cmd_show)
    val = ssub.add_parser("validate", help="validate spec files; exit 1 if any is invalid")
    val.add_argument("files", nargs="+", help="spec names or .yaml paths")
    val.set_defaults(func=cmd_validate)


def _other(spec) -> str:
    """The fields off their defaults that the columns do not show, e.g. "norm=layer,window=4"."""
    extra = [f"norm={spec.memory.norm}" if spec.memory.norm != "none" else "",
             f"p={spec.loss.p:g}" if spec.loss.kind == "lp" else "",
             f"delta={spec.loss.delta:g}" if spec.loss.kind == "huber" else "",
             f"window={spec.loss.window}" if spec.loss.window > 1 else "",
             f"shrink={spec.update.shrink:g}" if spec.update.shrink else ""]
    return ",".join(e for e in extra if e) or "-"


def cmd_list(args) -> int:
    rows = [("name", "depth", "exp", "act", "res", "loss", "lr", "momentum", "decay", "read", "decay_to", "step",
             "other")]
    for name, path in list_specs().items():
        try:
            s = load_spec(path)
        except SpecError as exc:
            print(f"{name}: invalid ({exc})", file=sys.stderr)
            continue
        u = s.update
        rows.append((s.name, str(s.memory.depth), str(s.memory.expansion if s.memory.depth > 1 else "-"),
                     s.memory.activation, "yes" if s.memory.residual else "no", s.loss.kind,
                     u.lr, u.momentum, u.decay, u.read, u.decay_to, u.step, _other(s)))
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    for r in rows:
        print("  ".join(cell.ljust(w) for cell, w in zip(r, widths)).rstrip())
    return 0


def cmd_show(args) -> int:
    spec = load_spec(args.name)
    print(f"# {spec.source}")
    print(yaml.safe_dump(spec.to_dict(), sort_keys=False).rstrip())
    print()
    print(lower(spec).describe())
    return 0


def cmd_validate(args) -> int:
    bad = 0
    for item in args.files:
        try:
            spec = load_spec(item)
            print(f"ok: {spec.source} ({spec.name}, hash {spec.hash})")
        except SpecError as exc:
            bad += 1
            print(f"invalid: {exc}", file=sys.stderr)
    return 1 if bad else 0
