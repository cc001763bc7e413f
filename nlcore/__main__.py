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
    noise_level.add_argument("--label-accuracy", type=_label_accuracy,
                             help="the fraction of labels that are right, in (1/m, 1]: converted to alpha under "
                                  "uniform noise, q = (1 + alpha/m) / (1 + alpha)")
    cl.add_argument("--target", type=float, required=True, help="test accuracy to reach, in (1/m, 1)")
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
    """The clean-label calculator (nlcore.critical) on the stored Figure 8 runs of one profile: text or JSON.

    JSON keys: ``alpha``, ``target``, ``n_clean`` (the estimate), ``low``, ``high`` (its interval, null where the
    runs give none), ``extrapolated``, ``fit`` (``c``, ``k``, ``k_low``, ``k_high``: the law n = c alpha^k, null
    until a target is crossed at two alphas > 0), and beside them ``k_label`` (the name of k's interval, as
    ``label``), ``upper_bound`` (the smallest size tried already reached the target), ``interval`` and ``how`` (in
    words), ``label`` (the interval's short name: ``"95%"``, ``"seed range"`` with 3 seeds or fewer,
    ``"between"``: one seed's sizes around the crossing), ``measured`` (``alphas`` the law rests on,
    ``alphas_run``, ``n_clean``: the smallest and largest size tried at the alphas the answer rests on, ``runs``,
    ``left_out``: runs there the crossing does not rest on, ``{alpha, seed, n_clean, test_acc}``),
    ``label_accuracy`` (of uniform noise at ``alpha``), ``asked_label_accuracy`` (``--label-accuracy`` as given,
    or null), ``model``, ``dataset`` and ``profile``. A refusal exits 2 with the reason on stderr and, with
    ``--json``, prints ``error``, ``alpha``, ``target``, ``profile`` and ``asked_label_accuracy`` on stdout.

    A label accuracy typed to d decimals is answered at a measured alpha whose label accuracy rounds to it
    (0.143 is alpha = 20, whose label accuracy is 0.142857...), and the conversion is printed.
    """
    import math
    import warnings

    from . import critical, data
    from .plots import NAMES

    spec = sweep.FIGURES["fig8"]
    model, dataset = spec["models"][0], spec["fixed"]["dataset"]
    m = data.num_classes(dataset)
    alpha, said, profile, records = args.alpha, "", None, []

    def refuse(message: str) -> int:
        message = said + message
        print(f"error: {message}", file=sys.stderr)
        if args.json:
            shown = alpha + 0.0 if isinstance(alpha, float) and math.isfinite(alpha) else None  # JSON has no NaN
            print(json.dumps(dict(error=message, alpha=shown, target=args.target, profile=profile,
                                  asked_label_accuracy=args.label_accuracy)))
        return 2

    if not (1 / m < args.target < 1):  # at or below chance every classifier reaches it with no label at all
        return refuse(f"--target must be a test accuracy in ({1 / m:g}, 1) for {m} classes (above chance), "
                      f"got {args.target!r}")
    try:
        profiles = [args.profile] if args.profile else [p for p in ("paper", "full", "cpu") if p in spec["grid"]]
        profile, records = next(((p, r) for p in profiles if (r := sweep.figure_records("fig8", p))), (None, []))
        if args.label_accuracy is not None:
            alpha = critical.alpha_from_label_accuracy(args.label_accuracy, m, name="--label-accuracy")
            said = (f"label accuracy {args.label_accuracy:g} is alpha = {alpha:g} (uniform noise over {m} classes: "
                    "a label is right with probability (1 + alpha/m) / (1 + alpha))")
            # a label accuracy typed to d decimals names every alpha whose q rounds to it: the measured one if any
            digits = len(args.label_accuracy.text.partition(".")[2]) if "e" not in args.label_accuracy.text.lower() \
                else 17
            run = sorted({float(r["config"]["alpha"]) for r in records})
            near = critical.alpha_near_label_accuracy(args.label_accuracy, run, 0.5 * 10.0 ** -digits, m)
            if near is not None and not math.isclose(near, alpha, rel_tol=1e-9):
                said += (f"; to the {digits} decimals given it is the measured alpha = {near:g} "
                         f"(label accuracy {critical.label_accuracy(near, m):.6g})")
                alpha = near
            said += ": "
        if not records:
            raise critical.OutsideMeasuredRange(f"no Figure 8 run is stored at profile {' or '.join(profiles)}")
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            out = critical.clean_labels(records, alpha=alpha, target=args.target, extrapolate=args.extrapolate)
    except critical.NotReached as e:
        still = critical.may_yet_reach(e.sizes, e.alpha, sweep.open_alphas("fig8", profile, [e.alpha]))
        return refuse(f"{e}; profile {profile}" + (f"; {critical.STILL_TO_TRAIN}" if still else ""))
    except ValueError as e:  # OutsideMeasuredRange included
        return refuse(str(e) + (f"; profile {profile}" if isinstance(e, critical.OutsideMeasuredRange)
                                and records else ""))
    for w in caught:
        print(f"warning: {w.message}", file=sys.stderr)
    alpha = out["alpha"]
    out.update(model=model, dataset=dataset, profile=profile, label_accuracy=critical.label_accuracy(alpha, m),
               asked_label_accuracy=args.label_accuracy)
    if args.json:
        print(json.dumps(out))
        return 0
    if said:
        print(said.rstrip(": ") + ".")
    print(critical.sentence(out, NAMES[model]))
    return 0


class _label_accuracy(float):
    """``--label-accuracy``: a float that keeps the text it was typed as (its decimals say its precision)."""

    def __new__(cls, text: str):
        try:
            self = super().__new__(cls, text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"--label-accuracy takes a number, got {text!r}") from None
        self.text = text
        return self


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
