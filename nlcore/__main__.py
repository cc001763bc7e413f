"""Command line: ``python -m nlcore status [--json]`` and ``python -m nlcore sweep FIGURE [--profile P]``."""

from __future__ import annotations

import argparse
import json
import sys

from . import sweep
from .data import DataError
from .results import ResultsError


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(prog="python -m nlcore")
    sub = ap.add_subparsers(dest="cmd", required=True)
    st = sub.add_parser("status", help="stored runs per figure and profile")
    st.add_argument("--json", action="store_true")
    sw = sub.add_parser("sweep", help="train the missing runs of a figure (resumable)")
    sw.add_argument("figure", choices=sorted(sweep.FIGURES))
    sw.add_argument("--profile", default="cpu", choices=["smoke", "cpu", "paper"])
    sw.add_argument("--models", nargs="+", default=None)
    sw.add_argument("--alphas", nargs="+", type=float, default=None)
    sw.add_argument("--seeds", nargs="+", type=int, default=None)
    sw.add_argument("--device", default=None)
    sw.add_argument("--no-progress", action="store_true")
    args = ap.parse_args(argv)
    if args.cmd == "status":
        s = sweep.status()
        if args.json:
            print(json.dumps(s, indent=1))
        else:
            for fig, per in s.items():
                if isinstance(per, dict):
                    print(fig, "  ".join(f"{p}: {v['stored']}/{v['total']}" for p, v in per.items()))
            print("stored runs:", s["all_stored_runs"])
        return 0
    try:
        cfgs = sweep.figure_configs(args.figure, args.profile, alphas=args.alphas, seeds=args.seeds, models=args.models)
        sweep.run(cfgs, device=args.device, progress=not args.no_progress)
    except (ValueError, DataError, ResultsError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
