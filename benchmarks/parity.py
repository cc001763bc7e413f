"""Accuracy parity: the nlcore engine and plain PyTorch reach the same test accuracy on the same work.

    python benchmarks/parity.py              # ConvNet-4 and MLP-2, MNIST, alpha = 10, 6 seeds each side
    python benchmarks/parity.py --quick      # MLP-2 only, 2 seeds
    python benchmarks/parity.py --stored > before.json     # retrain cheap stored runs, compare with the store
    python benchmarks/parity.py --stored --against before.json   # ... and with an earlier retrain

``--stored`` is the check for a change meant to alter speed only: it retrains, from the store, the
cheapest run of each (model, engine, compiled) kind that this machine trained in under ``--max-s``
seconds, with the machine choices its record names (precision, memory format, engine, compilation), and
compares every number of its metrics (every evaluation of every learning rate, the chosen rate, the
confusion counts) with the stored record's, or with ``--against``'s retrain of the same run (the code
before the change, run the same way): exit status 1 when one differs. A run stored by older code can
differ from the store for a reason of its own time (its record names its code version); the retrain
before and after a change must not.

The rest of this text is about the other mode, accuracy parity with plain PyTorch:

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
from nlcore import config, machine, models, results, tensors, train  # noqa: E402

REF = dict(dataset="mnist", n_clean=5000, n_val=0, alpha=10.0, lrs=[0.1], epochs=1.0, min_steps=0, evals=1,
           lr_select="test")


def baseline(cfg: dict) -> float:
    """Test accuracy of plain PyTorch on cfg's clean subset (the engine's own images, for a fair match)."""
    d = tensors.prepare(cfg, "cpu")
    torch.manual_seed(cfg["seed"])
    xf = (d.x.float() / 255 - d.mean) / d.std
    n, m, g = len(d.y), d.m, torch.Generator().manual_seed(cfg["seed"])
    copies = [TensorDataset(xf, torch.randint(0, m, (n,), generator=g)) for _ in range(int(cfg["alpha"]))]
    loader = DataLoader(ConcatDataset([TensorDataset(xf, d.y)] + copies), batch_size=cfg["batch_size"],
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
        xt = (d.xtest.float() / 255 - d.mean) / d.std
        pred = torch.cat([net(xt[i:i + 2000]).argmax(1) for i in range(0, len(xt), 2000)])
    return (pred == d.ytest).float().mean().item()


def engine(cfg: dict, compiled: bool = False) -> tuple[float, dict]:
    """The engine's test accuracy and choices; ``compiled``: the stacked step compiled, whatever the
    machine's choice (this short run would not compile on its own: ``machine.choose_compiled``)."""
    with mock.patch.object(machine, "choose_compiled", lambda *a, **k: True) if compiled else nullcontext():
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


NUMBERS = ("per_lr", "best", "steps", "slots", "confusion")  # what a speed-only change must leave equal


def stored_cases(max_s: float, root=None) -> list[dict]:
    """The cheapest stored run (by wall time, under ``max_s`` s) of each (model, engine, compiled) kind
    that this machine trained (same CPU name)."""
    here = results.device_name("cpu")
    best = {}
    for r in results.load_all(root):
        m = r["metrics"]
        if r.get("device") != here or m.get("device") != "cpu" or results.run_seconds(r) > max_s:
            continue
        kind = (r["config"]["model"], m["engine"], bool(m.get("compiled")))
        if kind not in best or results.run_seconds(r) < results.run_seconds(best[kind]):
            best[kind] = r
    return [best[k] for k in sorted(best)]


def retrain_as_stored(record: dict) -> dict:
    """Train ``record``'s config again with the machine choices its record names; return the metrics."""
    m = record["metrics"]
    choices = [mock.patch.object(machine, "choose_precision", lambda *a, **k: (m["precision"], m["channels_last"])),
               mock.patch.object(machine, "choose_engine", lambda *a, **k: m["engine"]),
               mock.patch.object(machine, "choose_compiled", lambda *a, **k: bool(m.get("compiled")))]
    with choices[0], choices[1], choices[2]:
        return train.train(record["config"], "cpu", progress=False)


def stored(max_s: float, against: dict | None = None) -> dict:
    """Retrain :func:`stored_cases` and compare with the store, or with ``against`` (an earlier output of
    this function: its retrained ``metrics`` per key); ``equal`` is True when every number is equal."""
    rows = []
    for r in stored_cases(max_s):
        t0 = time.time()
        new = retrain_as_stored(r)
        same_choices = all(new[k] == r["metrics"][k] for k in ("engine", "precision", "channels_last")) \
            and bool(new["compiled"]) == bool(r["metrics"].get("compiled"))
        ref = r["metrics"] if against is None else against["metrics"].get(r["key"])
        if ref is None:
            print(f"{r['key']}: not in --against's runs", flush=True)
            continue
        diff = [k for k in NUMBERS if json.dumps(new[k], sort_keys=True) != json.dumps(ref[k], sort_keys=True)]
        row = dict(key=r["key"], model=r["config"]["model"], profile=r["config"]["profile"],
                   alpha=r["config"]["alpha"], engine=new["engine"], compiled=bool(new["compiled"]),
                   stored_code_version=r["code_version"], seconds=round(time.time() - t0, 1),
                   comparable=same_choices, equal=same_choices and not diff, differs_in=diff,
                   test_acc=[new["best"]["test_acc"], ref["best"]["test_acc"]], metrics={k: new[k] for k in NUMBERS})
        rows.append(row)
        print(f"{row['key']} {row['model']} {row['profile']} alpha={row['alpha']:g} {row['engine']}"
              f"{' compiled' if row['compiled'] else ''}: {'equal' if row['equal'] else 'DIFFERS ' + str(diff)}"
              f" ({row['seconds']} s)", flush=True)
    return dict(mode="stored", compared_with="store" if against is None else against["code_version"],
                code_version=results.code_version(), torch=torch.__version__,
                equal=all(r["equal"] for r in rows if r["comparable"]) and any(r["comparable"] for r in rows),
                runs=[{k: v for k, v in r.items() if k != "metrics"} for r in rows],
                metrics={r["key"]: r["metrics"] for r in rows})


def main(argv=None) -> dict:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--summary-of", metavar="JSON", help="recompute the statistics of a stored result (no training)")
    ap.add_argument("--stored", action="store_true", help="retrain cheap stored runs; every metric must be equal")
    ap.add_argument("--max-s", type=float, default=90.0, help="with --stored: runs that took at most this long")
    ap.add_argument("--against", metavar="JSON", help="with --stored: compare with this earlier output, not the store")
    args = ap.parse_args(argv)
    if args.stored:
        out = stored(args.max_s, json.loads(Path(args.against).read_text().splitlines()[-1]) if args.against else None)
        print(json.dumps(out))
        if not out["equal"]:
            sys.exit(1)
        return out
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
