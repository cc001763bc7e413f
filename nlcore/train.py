"""Training: one config, every learning rate of its grid, on the same batches. An edit here changes results.

The loop (airbench style): images stay uint8 tensors on the device (:mod:`nlcore.tensors`); an epoch is
a random permutation of the ``n * (1 + alpha)`` slots of the diluted set; a batch gathers the images its
slots show and the labels :func:`nlcore.noise.slot_labels` draws for them. No DataLoader, no copy of the
noisy set. The engine that steps the grid (:mod:`nlcore.engines`) and the machine's choices of engine,
precision and compilation (:mod:`nlcore.machine`) change speed only. The run is evaluated ``evals``
times (:mod:`nlcore.evaluate`), saves a checkpoint every few minutes (:mod:`nlcore.checkpoint`), and
returns its metrics.

A model whose loss turns NaN/inf (or whose weights do, checked before every evaluation) is marked diverged
and reported without accuracies; the others go on, untouched by it.
"""

from __future__ import annotations

import json
import math
import time
from pathlib import Path

import torch

from . import checkpoint as ckpt
from . import noise, switches
from .evaluate import InputDrift, accuracy, confusion_matrix, final, hits, predictions, select_lr
from .machine import default_device, make_engine
from .steps import Steps
from .tensors import prepare


def train(cfg: dict, device: str | None = None, progress: bool = True, checkpoint: Path | None = None) -> dict:
    """Train every lr of ``cfg['lrs']``; return the metrics (see ``nlcore.results`` for the record).

    Returns a dict: ``per_lr`` (one entry per lr: ``curve`` of evaluations with
    ``step``, ``epoch``, ``train_loss``, ``val_acc``, ``test_acc`` and, for the perceptron and MLPs,
    ``dark_drift`` / ``lit_drift`` (:func:`input_drift`); ``val_acc``, ``test_acc``: the mean of the
    last ``cfg['mean_last']`` evaluations; ``diverged``), ``best`` (the lr chosen on
    ``cfg['lr_select']`` and its accuracies), ``steps``, ``slots``, ``engine``,
    ``precision``, ``channels_last``, ``device``, ``world_size``, ``cuda_graph`` (steps replayed as a
    CUDA graph), ``compiled`` (full batches ran the stacked step compiled by torch.compile, to the end of
    the run), ``confusion`` (the chosen lr's (m, m) test confusion counts at the last evaluation,
    ``[c][k]`` = test images of class c predicted as k; None if all diverged), ``resumed_at`` (the steps
    at which the run continued from a checkpoint; empty for a run trained in one process), ``earlier_s``
    (seconds the processes before this one trained, each to its last checkpoint: 0 for a run trained in one
    process; None for one continued from a checkpoint that did not count them).
    Accuracies are fractions in [0, 1].

    ``checkpoint``: a file (:mod:`nlcore.checkpoint`) the loop saves its state to every few minutes and,
    when it exists, continues from; None: no checkpoints (always None under torchrun).
    """
    if switches.book():  # plain text bar: widget state would pull a CDN into the book
        from tqdm import tqdm
    else:
        from tqdm.auto import tqdm

    t_start = time.perf_counter()
    device = device or default_device()
    d = prepare(cfg, device)
    eng, info = make_engine(cfg, device, shape=d.x.shape[1:], classes=d.m, steps=num_steps(cfg))
    world, rank = info["world_size"], info["rank"]
    if world > 1:
        torch.manual_seed(cfg["seed"] * 1000 + rank)  # own dropout masks on each shard
    steps_of = Steps(d, cfg, eng, device)
    drift = InputDrift(eng, d, cfg)

    slots_total = num_slots(cfg, len(d.y))
    steps = num_steps(cfg)
    eval_at = set(eval_steps(cfg))
    gen = torch.Generator().manual_seed(cfg["seed"] + 1)
    curves = [[] for _ in cfg["lrs"]]
    # summed on the device: the loss is read back only at an evaluation, not at every step
    loss_sum, loss_n, step = torch.zeros(len(cfg["lrs"]), dtype=torch.float64, device=device), 0, 0
    perm, pos, resumed_at, earlier_s = None, 0, [], 0.0
    ck = ckpt.Checkpointer(checkpoint if world == 1 else None, info)
    state = ck.load()
    if state is not None:  # continue where a stopped process left off
        eng.load_state(state["engine_state"])
        drift.w0 = None if state["drift_w0"] is None else state["drift_w0"].to(device)
        step, pos, loss_n, curves = state["step"], state["pos"], state["loss_n"], state["curves"]
        perm = None if state["perm"] is None else state["perm"].to(device)
        loss_sum.copy_(state["loss_sum"])
        gen.set_state(state["gen"])
        ckpt.set_rng_state(state["rng"])
        resumed_at = state["resumed_at"] + [step]
        earlier_s = state.get("trained_s")
    bar = tqdm(total=steps, initial=step, disable=not progress, desc=f"{cfg['model']} alpha={cfg['alpha']:g}",
               leave=False)
    B = cfg["batch_size"]
    while step < steps:
        if perm is None:
            perm, pos = torch.randperm(slots_total, generator=gen).to(device), 0
        for i in range(pos, slots_total, B):
            if step >= steps:
                break
            sl = perm[i:i + B]
            if world > 1:  # equal shards (the epoch's last batch loses up to world-1 slots): mean of means = mean
                keep = len(sl) - len(sl) % world
                if keep == 0:
                    continue
                sl = sl[:keep][rank::world]
            loss_sum += steps_of(sl).to(device, torch.float64)
            loss_n += 1
            step += 1
            bar.update(1)
            if step in eval_at:
                eng.check_weights()
                val = accuracy(eng, d.xval, d.yval, mean=d.mean, std=d.std)
                # one pass over the test set gives top-1, top-5 (more than 10 classes) and the confusion matrix
                test_pred = predictions(eng, d.xtest, mean=d.mean, std=d.std, k=5 if d.m > 10 else 1)
                test = hits(test_pred, d.ytest)
                top5 = hits(test_pred, d.ytest, 5) if d.m > 10 else None
                drifts = drift()
                for g, alive in enumerate(eng.alive):
                    ok = bool(alive)
                    curves[g].append(dict(step=step, epoch=step * B / slots_total,
                                          train_loss=float(loss_sum[g] / loss_n) if ok else None,
                                          val_acc=val[g] if ok and not math.isnan(val[g]) else None,
                                          test_acc=test[g] if ok else None))
                    if top5 is not None:  # ImageNet's measure in the paper (Fig 3); more than 10 classes only
                        curves[g][-1]["test_top5"] = top5[g] if ok else None
                    if drifts is not None:
                        curves[g][-1].update(dark_drift=drifts[0][g] if ok else None,
                                             lit_drift=drifts[1][g] if ok else None)
                loss_sum.zero_()
                loss_n = 0
                bar.set_postfix(test=f"{max((t for t, a in zip(test, eng.alive) if a), default=0):.3f}")
            if ck.due() and step < steps:
                ck.save(dict(engine_state=eng.state(), drift_w0=drift.w0, step=step, pos=i + B,
                             perm=perm.cpu(), loss_n=loss_n, loss_sum=loss_sum.cpu(), curves=curves,
                             gen=gen.get_state(), rng=ckpt.rng_state(), resumed_at=resumed_at,
                             trained_s=None if earlier_s is None else earlier_s + time.perf_counter() - t_start))
        perm = None
    bar.close()
    per_lr = [dict(lr=lr, diverged=not bool(alive), curve=c, **final(c, cfg["mean_last"]))
              for lr, alive, c in zip(cfg["lrs"], eng.alive, curves)]
    best = select_lr(per_lr, cfg["lr_select"])
    cm = None
    if best["lr"] is not None and d.m <= 100:  # (ImageNet's 1000 x 1000 would swamp the record)
        # the last evaluation is at the last step: its predictions are the final model's
        cm = confusion_matrix(test_pred[cfg["lrs"].index(best["lr"]), :, 0], d.ytest, d.m)
    return dict(per_lr=per_lr, best=best, steps=steps, slots=slots_total, confusion=cm,
                engine=info["engine"], precision=info["precision"], channels_last=info["channels_last"],
                compiled=eng.compiled, device=device, world_size=world,
                cuda_graph=steps_of.cuda_graph, resumed_at=resumed_at, earlier_s=earlier_s)


def num_slots(cfg: dict, n: int) -> int:
    """Examples per epoch: the diluted set ``n (1 + alpha)``, or the ``n`` clean ones for loss='h_alpha'."""
    return n if cfg["loss"] == "h_alpha" else noise.dilution_size(n, cfg["alpha"])


def num_steps(cfg: dict) -> int:
    """Optimiser steps: ``epochs`` passes over the diluted set ``n_clean (1 + alpha)``, at least ``min_steps``.
    With loss='h_alpha' (trained on the clean examples only, each standing for its share of the diluted set)
    a pass takes the same steps as cross-entropy's over the diluted set, so the two train equally long."""
    slots = noise.dilution_size(cfg["n_clean"], cfg["alpha"])
    return max(math.ceil(cfg["epochs"] * slots / cfg["batch_size"]), cfg["min_steps"])


def eval_steps(cfg: dict) -> list[int]:
    """The steps after which a run is evaluated: ``evals`` of them, evenly spaced, the last at the end."""
    steps = num_steps(cfg)
    return sorted({max(1, round(steps * (k + 1) / cfg["evals"])) for k in range(cfg["evals"])})


if __name__ == "__main__":  # tiny manual check
    from .config import make_config

    print(json.dumps(train(make_config("smoke", model="mlp1", alpha=5)), indent=1)[:2000])
