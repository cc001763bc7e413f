"""Accuracy parity: the nlcore engine and plain PyTorch reach the same test accuracy on the same work.

    python benchmarks/parity.py              # ConvNet-4 and MLP-2, MNIST, alpha = 10, 6 seeds each side
    python benchmarks/parity.py --quick      # MLP-2 only, 2 seeds

Reference configuration: MNIST, 5,000 clean training images (nlcore's clean subset of each seed, the
same images on both sides), alpha = 10 uniform noise, batch 128, AdaDelta at lr 0.1, one pass over the
diluted set (430 steps), the whole test set. The baseline is the benchmark's plain PyTorch: a
ConcatDataset of the clean images and alpha relabelled copies (labels drawn with torch.randint), a
DataLoader with shuffle, fp32, torch.optim.Adadelta. The engine is ``nlcore.train.train`` with its
machine choices (ConvNet-4 here: bf16 autocast + channels_last, sequential, with ``models.for_cpu``'s
byte-drawn dropout masks; MLP-2: forced stacked and compiled, as the benchmark's longer runs choose it:
the vectorised AdaDelta, compiled by torch.compile). The two sides draw different noisy labels and
batch orders, so they agree only up to seed noise. Seeds are paired (one clean subset and initialisation
per seed on both sides): reported are the mean difference engine - baseline, its standard error from the
spread of the per-seed differences, and the interval of two standard errors. Parity holds when that
interval contains 0; the interval's half-width is the smallest systematic difference this many seeds
can show.
The last line is JSON; results go to benchmarks/results/parity-<machine>.json by hand.
"""

from __future__ import annotations

import argparse
import json
import math
import statistics
import sys
import time
from contextlib import nullcontext
from pathlib import Path
from unittest import mock

import torch
import torch.nn.functional as F
from torch.utils.data import ConcatDataset, DataLoader, TensorDataset

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from nlcore import config, models, results, tensors, train  # noqa: E402

REF = dict(dataset="mnist", n_clean=5000, n_val=0, alpha=10.0, lrs=[0.1], epochs=1.0, min_steps=0, evals=1,
           lr_select="test")


def baseline(cfg: dict) -> float:
    """Test accuracy of plain PyTorch on cfg's clean subset (the engine's own images, for a fair match)."""
    d = tensors.prepare(cfg, "cpu")
    torch.manual_seed(cfg["seed"])
    xf = (d["x"].float() / 255 - d["mean"]) / d["std"]
    n, m, g = len(d["y"]), d["m"], torch.Generator().manual_seed(cfg["seed"])
    copies = [TensorDataset(xf, torch.randint(0, m, (n,), generator=g)) for _ in range(int(cfg["alpha"]))]
    loader = DataLoader(ConcatDataset([TensorDataset(xf, d["y"])] + copies), batch_size=cfg["batch_size"],
                        shuffle=True, generator=g)
    net = models.build(cfg["model"], xf.shape[1], xf.shape[2], m)
    opt = torch.optim.Adadelta(net.parameters(), lr=cfg["lrs"][0], rho=cfg["rho"], eps=cfg["eps"])
    for _ in range(math.ceil(cfg["epochs"])):
        for xb, yb in loader:
            loss = F.cross_entropy(net(xb), yb)
            opt.zero_grad()
            loss.backward()
            opt.step()
    net.eval()
    with torch.no_grad():
        xt = (d["xtest"].float() / 255 - d["mean"]) / d["std"]
        pred = torch.cat([net(xt[i:i + 2000]).argmax(1) for i in range(0, len(xt), 2000)])
    return (pred == d["ytest"]).float().mean().item()


def engine(cfg: dict, compiled: bool = False) -> tuple[float, dict]:
    """The engine's test accuracy and choices; ``compiled``: the stacked step compiled, whatever the
    machine's choice (this short run would not compile on its own: ``machine.choose_compiled``)."""
    with mock.patch.object(train, "choose_compiled", lambda *a, **k: True) if compiled else nullcontext():
        out = train.train(cfg, "cpu", progress=False)
    return out["best"]["test_acc"], {k: out[k] for k in ("engine", "precision", "channels_last", "compiled", "steps")}


def compare(model: str, seeds: list[int], engine_name: str) -> dict:
    base, eng, info, t0 = [], [], None, time.time()
    compiled = engine_name == "compiled"
    for s in seeds:
        cfg = config.make_config("cpu", model=model, seed=s, engine="stacked" if compiled else engine_name, **REF)
        base.append(baseline(cfg))
        acc, info = engine(cfg, compiled)
        eng.append(acc)
        print(f"{model} seed {s}: baseline {base[-1]:.4f}, engine {eng[-1]:.4f} ({info})", flush=True)
    return dict(model=model, seeds=seeds, baseline=base, engine=eng, engine_info=info,
                seconds=round(time.time() - t0), **paired(base, eng))


def paired(base: list[float], eng: list[float]) -> dict:
    """Means, stds and the per-seed paired difference engine - baseline with its standard error."""
    diffs = [e - b for e, b in zip(eng, base)]
    diff, se_diff = statistics.mean(diffs), statistics.stdev(diffs) / math.sqrt(len(diffs))
    return dict(baseline_mean=round(statistics.mean(base), 4), baseline_std=round(statistics.stdev(base), 4),
                engine_mean=round(statistics.mean(eng), 4), engine_std=round(statistics.stdev(eng), 4),
                diff=round(diff, 4), se_diff=round(se_diff, 4),
                interval=[round(diff - 2 * se_diff, 4), round(diff + 2 * se_diff, 4)],
                parity=abs(diff) <= 2 * se_diff)


def main(argv=None) -> dict:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--summary-of", metavar="JSON", help="recompute the statistics of a stored result (no training)")
    args = ap.parse_args(argv)
    if args.summary_of:
        out = json.loads(Path(args.summary_of).read_text())
        for v in out["by_model"].values():
            v.update(paired(v["baseline"], v["engine"]))
        print(json.dumps(out))
        return out
    cases = [("mlp2", "compiled")] if args.quick else [("convnet4", "auto"), ("mlp2", "compiled")]
    seeds = [0, 1] if args.quick else [0, 1, 2, 3, 4, 5]
    out = dict(reference={**REF, "batch_size": 128, "noise": "uniform"}, torch=torch.__version__,
               code_version=results.code_version(),
               threads=torch.get_num_threads(), by_model={m: compare(m, seeds, e) for m, e in cases})
    print(json.dumps(out))
    return out


if __name__ == "__main__":
    main()
