"""What Figure 2's ResNet-101 would cost to train: its step timed on this device, times the steps of its runs.

    python benchmarks/resnet_cost.py                 # this CPU, 3 timed steps per precision
    python benchmarks/resnet_cost.py --device cuda   # a GPU (benchmarks/gpu.sh)

The step is nlcore's (``engines.Sequential``: ResNets have batch norm, so each learning rate's model steps in
turn) on one batch of random 32x32x3 images: a step's cost does not depend on the pixels, so no dataset is
needed. It is timed for one learning rate in fp32 and in bf16 autocast (channels_last), after warm-up steps,
by :func:`nlcore.machine.best_times`; the faster is what ``precision="auto"`` would choose. The runs' work
(steps x batch x learning rates, as benchmarks/cost.py counts it) over that rate is the prediction, for the
ResNet-101 runs of Figure 2 at the ``paper`` profile (all 50,000 clean CIFAR-10 images, 2 passes, five rates).
Evaluation is not counted: 12 evaluations of every rate's model on the validation and test images, a small
share of a run at large alpha and a large one at alpha = 0 (one pass over 50,000 images there). The step
time is the mean of the timed steps after one warm-up step. The last line is JSON, also written to
``benchmarks/results/resnet101-<device>.json``.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

import torch  # noqa: E402

from nlcore import config, engines, machine, models, results, sweep, switches, train  # noqa: E402


def step_seconds(device: str, precision: str, steps: int) -> float:
    """Seconds per training step of one ResNet-101 (batch 128, one learning rate) in ``precision``."""
    run = next(c for c in sweep.figure_configs("fig2", "paper") if c["model"] == "resnet101")
    cfg = config.check_config(dict(run, lrs=[0.1], precision=precision))
    torch.manual_seed(0)
    net = models.build("resnet101", 3, 32, 10, width=cfg["width"], init=cfg["init"],
                       mlp_dropout=cfg["mlp_dropout"], conv_padding=cfg["conv_padding"])
    eng = engines.Sequential(net, cfg["lrs"], cfg, device, precision=precision,
                             channels_last=precision == "bf16")
    g = torch.Generator().manual_seed(0)
    x = torch.randn(cfg["batch_size"], 3, 32, 32, generator=g).to(device)
    y = torch.randint(0, 10, (cfg["batch_size"],), generator=g).to(device)
    best = machine.best_times({precision: lambda: eng.step(x, y)}, device, repeats=1, steps=steps, warmup=1)
    return best[precision]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--device", default="cpu")
    ap.add_argument("--steps", type=int, default=3, help="timed steps per precision (after one warm-up step)")
    args = ap.parse_args()
    t0 = time.perf_counter()
    if args.device.startswith("cuda"):  # as nlcore.machine.make_engine sets it (the steps here run eagerly,
        torch.backends.cudnn.benchmark = switches.cudnn_benchmark_on()  # without a run's CUDA graph: an upper bound)
    secs = {p: step_seconds(args.device, p, args.steps) for p in ("fp32", "bf16")}
    precision = min(secs, key=secs.get)
    runs = [c for c in sweep.figure_configs("fig2", "paper") if c["model"] == "resnet101"]
    steps = sum(train.num_steps(c) * len(c["lrs"]) for c in runs)  # model steps: each rate's model in turn
    per_run = {f"alpha={c['alpha']:g}": train.num_steps(c) * len(c["lrs"]) * secs[precision] / 3600
               for c in runs if c["seed"] == 0}
    device = results.device_name(args.device)
    batch = runs[0]["batch_size"]
    out = dict(device=device, model="resnet101", batch_size=batch,
               step_s=secs, precision=precision, images_per_s=batch / secs[precision],
               fig2_paper_runs=len(runs), fig2_paper_model_steps=steps,
               fig2_paper_hours=steps * secs[precision] / 3600, hours_per_run_seed0=per_run,
               benchmark_wall_s=time.perf_counter() - t0)
    slug = re.sub(r"[^a-z0-9]+", "-", device.lower().replace("(r)", "")).strip("-")
    path = REPO / "benchmarks" / "results" / f"resnet101-{'' if device.startswith('cpu') else 'gpu-'}{slug}.json"
    path.write_text(json.dumps(out, indent=1) + "\n")
    print(f"ResNet-101 step (batch {batch}, one rate): " + ", ".join(f"{p} {s:.2f} s" for p, s in secs.items())
          + f"; Figure 2's {len(runs)} paper-profile ResNet-101 runs: {out['fig2_paper_hours']:.0f} h here")
    print(json.dumps(out))


if __name__ == "__main__":
    main()
