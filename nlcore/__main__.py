"""Command line.

    python -m nlcore status [--json]                       stored runs per figure and profile
    python -m nlcore sweep FIGURE [--profile P] [...]      train a figure's missing runs (resumable)
    python -m nlcore sweep FIGURE --dask local:4           ... fanned out over a Dask cluster
    torchrun --nproc_per_node N -m nlcore train --model resnet18 --alpha 2 [--set key=value ...]
                                                           one run, data-parallel (DDP) over N processes
    python -m nlcore clean-labels --alpha 20 --target 0.9 [--json] [--extrapolate]
    python -m nlcore clean-labels --label-accuracy 0.3 --target 0.9
                                                           clean labels needed, from the stored Figure 8 runs
"""

from __future__ import annotations

import argparse
import json
import sys

from . import sweep
from .config import PROFILES
from .data import DataError
from .results import ResultsError


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(prog="python -m nlcore")
    sub = ap.add_subparsers(dest="cmd", required=True)
    st = sub.add_parser("status", help="stored runs per figure and profile")
    st.add_argument("--json", action="store_true")
    sw = sub.add_parser("sweep", help="train the missing runs of a figure (resumable)")
    sw.add_argument("figure", choices=sorted(sweep.FIGURES))
    sw.add_argument("--profile", default="cpu", choices=list(PROFILES))
    sw.add_argument("--models", nargs="+", default=None)
    sw.add_argument("--alphas", nargs="+", type=float, default=None)
    sw.add_argument("--seeds", nargs="+", type=int, default=None)
    sw.add_argument("--device", default=None)
    sw.add_argument("--set", nargs="*", default=[], metavar="KEY=VALUE",
                    help="config fields for every run of the sweep, JSON values (as for train)")
    sw.add_argument("--no-progress", action="store_true")
    sw.add_argument("--dask", default=None, metavar="ADDRESS",
                    help="fan out over a Dask cluster: a scheduler address (tcp://host:8786) or local:N workers")
    tr = sub.add_parser("train", help="train one config (under torchrun: data-parallel over its processes)")
    tr.add_argument("--profile", default="cpu", choices=list(PROFILES))
    tr.add_argument("--model", required=True)
    tr.add_argument("--alpha", type=float, default=0.0)
    tr.add_argument("--seed", type=int, default=0)
    tr.add_argument("--set", nargs="*", default=[], metavar="KEY=VALUE", help="other config fields, JSON values")
    tr.add_argument("--no-progress", action="store_true")
    cl = sub.add_parser("clean-labels", help="how many clean labels reach a target accuracy at a noise level "
                                             "(from the stored Figure 8 runs)")
    noise_level = cl.add_mutually_exclusive_group(required=True)
    noise_level.add_argument("--alpha", type=float, help="noisy labels per clean label (>= 0)")
    noise_level.add_argument("--label-accuracy", type=float,
                             help="the fraction of labels that are right, in (1/m, 1]: converted to alpha under "
                                  "uniform noise, q = (1 + alpha/m) / (1 + alpha)")
    cl.add_argument("--target", type=float, required=True, help="test accuracy to reach, in (0, 1)")
    cl.add_argument("--profile", default=None, choices=list(PROFILES),
                    help="the runs to answer from (default: the largest profile with stored Figure 8 runs)")
    cl.add_argument("--extrapolate", action="store_true", help="answer outside the measured alphas (warns)")
    cl.add_argument("--json", action="store_true")
    args = ap.parse_args(argv)
    if args.cmd == "clean-labels":
        return _clean_labels(args)
    if args.cmd == "train":
        return _train(args)
    if args.cmd == "status":
        s = sweep.status()
        if args.json:
            print(json.dumps(s, indent=1))
        else:
            for fig, per in s.items():
                if fig in ("all_stored_runs", "unreadable"):
                    continue
                if "derived_from" in per or "not_run" in per:
                    why = f"derived from {per['derived_from']}" if "derived_from" in per \
                        else f"not run: {per['not_run']}"
                    print(fig, why)
                    continue
                print(fig, "  ".join(f"{p}: {v['stored']}/{'?' if v['total'] is None else v['total']}"
                                     for p, v in per.items()))
            print("stored runs:", s["all_stored_runs"])
        for path, why in s["unreadable"].items():
            print(f"unreadable: {path}: {why}", file=sys.stderr)
        return 1 if s["unreadable"] else 0
    try:
        selection = dict(alphas=args.alphas, seeds=args.seeds, models=args.models, **_fields(args.set))
        if args.dask:  # one listing, spread over workers (runs that wait on others: run the command again)
            if sweep.FIGURES[args.figure].get("needs") == "confusion":  # Figure 5: measure the confusions first
                sweep.confusion_matrix(args.profile, train_missing=True, device=args.device)
            sweep.run_dask(sweep.figure_configs(args.figure, args.profile, **selection), args.dask, device=args.device)
        else:
            sweep.train_figure(args.figure, args.profile, device=args.device, progress=not args.no_progress,
                               **selection)
    except (ValueError, DataError, ResultsError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    return 0


def _clean_labels(args) -> int:
    """The clean-label calculator (nlcore.critical) on the stored Figure 8 runs: text or JSON."""
    import warnings

    from . import critical, data
    from .plots import NAMES

    spec = sweep.FIGURES["fig8"]
    profiles = [args.profile] if args.profile else [p for p in ("paper", "full", "cpu") if p in spec["grid"]]
    model, dataset = spec["models"][0], spec["fixed"]["dataset"]
    m = data.num_classes(dataset)
    try:
        alpha = args.alpha
        if args.label_accuracy is not None:
            alpha = critical.alpha_from_label_accuracy(args.label_accuracy, m)
        stores = [(p, sweep.figure_records("fig8", p)) for p in profiles]
        if not any(records for _, records in stores):
            raise critical.OutsideMeasuredRange(f"no Figure 8 run is stored at profile {' or '.join(profiles)}")
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            profile, out = critical.answer(stores, alpha=alpha, target=args.target, extrapolate=args.extrapolate)
    except ValueError as e:  # OutsideMeasuredRange included
        print(f"error: {e}", file=sys.stderr)
        return 2
    for w in caught:
        print(f"warning: {w.message}", file=sys.stderr)
    out.update(model=model, dataset=dataset, profile=profile, label_accuracy=critical.label_accuracy(alpha, m))
    if args.json:
        print(json.dumps(out))
        return 0
    f, interval = out["fit"], f" (interval: {out['interval']})"
    if out["low"] is not None or out["high"] is not None:
        lo = "–" if out["low"] is None else f"{out['low']:,.0f}"
        hi = "unbounded" if out["high"] is None else f"{out['high']:,.0f}"
        interval = f" ({lo} to {hi}: {out['interval']})"
    law = "" if f["k"] is None else (f"; fitted law n = {f['c']:.3g} * alpha^{f['k']:.2f}"
                                     + ("" if f["k_low"] is None else f", k in [{f['k_low']:.2f}, {f['k_high']:.2f}]"))
    print(f"At alpha = {alpha:g} (a label is right with probability {out['label_accuracy']:.1%}), "
          f"{NAMES[model]} on {dataset.upper()} reaches {args.target:.0%} test accuracy with "
          f"{'at most' if out['upper_bound'] else 'about'} {out['n_clean']:,.0f} clean labels{interval}{law}.\n"
          f"From {out['how']}; measured at alpha {', '.join(f'{a:g}' for a in out['measured']['alphas_run'])} "
          f"(crossing the target at alpha > 0: {', '.join(f'{a:g}' for a in out['measured']['alphas']) or 'none'}) "
          f"with {out['measured']['n_clean'][0]:,} to {out['measured']['n_clean'][-1]:,} clean labels "
          f"({out['measured']['runs']} stored runs, profile {profile}). This answers for this model and dataset "
          "only: sweep Figure 8 with another model for its own answer.")
    return 0


def _fields(pairs: list[str]) -> dict:
    """``--set KEY=VALUE ...`` as config fields (each value JSON: 0.2, "unit", [0.1, 1.0], true)."""
    try:
        return {k: json.loads(v) for k, v in (kv.split("=", 1) for kv in pairs)}
    except ValueError as e:
        raise ValueError(f"--set takes KEY=VALUE with a JSON value ({e})") from None


def _train(args) -> int:
    """One run; under torchrun every rank trains its shard of each batch and rank 0 stores the record."""
    import os
    import time

    import torch

    from . import checkpoint, config, results, train

    try:
        extra = _fields(args.set)
    except ValueError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    try:
        cfg = config.make_config(args.profile, model=args.model, alpha=args.alpha, seed=args.seed, **extra)
        results.check_writable()
    except (ValueError, ResultsError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    device = None
    if int(os.environ.get("WORLD_SIZE", "1")) > 1:
        cuda = torch.cuda.is_available()
        torch.distributed.init_process_group("nccl" if cuda else "gloo")
        if cuda:
            device = f"cuda:{int(os.environ.get('LOCAL_RANK', 0))}"
            torch.cuda.set_device(device)
    rank = torch.distributed.get_rank() if torch.distributed.is_initialized() else 0
    try:
        if results.load(cfg) is not None:
            print(f"already stored: {results.run_path(cfg)}")
            return 0
        t0 = time.time()
        where = checkpoint.path(cfg)  # continued if a stopped process left one (one process only)
        metrics = train.train(cfg, device=device, progress=not args.no_progress and rank == 0, checkpoint=where)
        if rank == 0:
            results.save(cfg, metrics, time.time() - t0)
            where.unlink(missing_ok=True)
            print(f"stored {results.run_path(cfg)}: test {metrics['best']['test_acc']} (lr {metrics['best']['lr']})")
    except (DataError, ResultsError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    finally:
        if torch.distributed.is_initialized():
            torch.distributed.destroy_process_group()
    return 0


if __name__ == "__main__":
    sys.exit(main())
