"""Evaluation: accuracies, confusion counts and the first layer's drift, and the statistic a run reports.
An edit here changes the reported numbers (not the training).

Accuracies are fractions in [0, 1]; a run is evaluated ``evals`` times, every evaluation is kept in its
curve, and the reported accuracy is the mean of ``mean_last`` of them: the last, or (``report="peak"``)
those where the validation accuracy peaked (:func:`final`); it also chooses the learning rate
(:func:`select_lr`).
"""

from __future__ import annotations

import math

import torch

from .engines import Engine
from .tensors import RunTensors


def eval_chunk(device) -> int:
    """Images per forward pass when evaluating: 2000 on a GPU; 128 on a CPU, where a ConvNet-4 chunk's
    activations then stay in cache (the test set took 5.8 s for 5 models in chunks of 128, 9-10 s in
    chunks of 256 to 2000, on a 2-core EPYC)."""
    return 2000 if torch.device(device).type == "cuda" else 128


def predictions(engine: Engine, x, *, mean, std, k: int = 1, chunk: int | None = None) -> torch.Tensor:
    """(G, N, k) the k most likely classes of every model of the engine for uint8 images x (N, C, H, W)."""
    chunk = chunk or eval_chunk(x.device)
    return torch.cat([engine.predict((x[i:i + chunk].float().div_(255) - mean) / std, k)
                      for i in range(0, len(x), chunk)], dim=1)


def accuracy(engine: Engine, x, y, *, mean, std, chunk: int | None = None, k: int = 1) -> list[float]:
    """Top-k accuracy of every model of the engine on (x, y): a list of G fractions (NaN when y is empty)."""
    if len(y) == 0:
        return [math.nan] * len(engine.alive)
    return hits(predictions(engine, x, mean=mean, std=std, k=k, chunk=chunk), y, k)


def hits(pred: torch.Tensor, y: torch.Tensor, k: int = 1) -> list[float]:
    """Top-k accuracy per model from predictions (G, N, >= k) and labels (N,)."""
    return (pred[..., :k] == y.view(1, -1, 1)).any(-1).float().mean(1).tolist()


def confusion_matrix(pred: torch.Tensor, y: torch.Tensor, m: int) -> list[list[int]]:
    """(m, m) counts from one model's top-1 predictions (N,) and labels (N,): ``[c][k]`` = class c predicted as k."""
    return torch.bincount(y * m + pred, minlength=m * m).view(m, m).tolist()


def final(curve: list[dict], mean_last: int, report: str = "last") -> dict:
    """The reported accuracies of one lr: the mean of ``mean_last`` consecutive evaluations (None if any is).

    ``report="last"``: the last ``mean_last``. ``report="peak"``: the window of ``mean_last`` whose mean
    validation accuracy is highest (the first such, on a tie): early stopping on the held-out clean split,
    read off the kept evaluations. Many passes over a small diluted set fit its fixed noisy labels, and the
    accuracy falls after a peak (Figure 8's training length in the Exp 4 chapter); ``"peak"`` reports that
    peak without looking at the test set. ``window`` in the result: the indices of the evaluations used."""
    if report not in ("last", "peak"):
        raise ValueError(f"report must be 'last' or 'peak', got {report!r}")
    k = min(mean_last, len(curve))
    starts = range(len(curve) - k, len(curve) - k + 1)
    if report == "peak":
        def score(i):
            v = [e.get("val_acc") for e in curve[i:i + k]]
            return -math.inf if any(x is None for x in v) else sum(v) / k
        best = max(range(len(curve) - k + 1), key=lambda i: (score(i), -i))
        if score(best) == -math.inf:  # no window of validation accuracies (diverged at once): no accuracy
            return {key: None for key in ("val_acc", "test_acc", "test_top5") if key in curve[-1]}
        starts = range(best, best + 1)
    i = starts[0]
    out = {}
    for key in ("val_acc", "test_acc", "test_top5"):
        if key not in curve[-1]:
            continue
        vals = [e[key] for e in curve[i:i + k]]
        out[key] = None if any(v is None for v in vals) else sum(vals) / len(vals)
    if report == "peak":
        out["window"] = [i, i + k - 1]
    return out


class InputDrift:
    """How far the first layer's weights of the perceptron and MLPs moved from their initial values, per model.

    ``drift()`` returns two lists of G numbers, the RMS change of the weights on always-dark input pixels
    (0 in every clean training image) and on the others, or None for a model whose first layer is not a
    dense layer on the pixels. With ``inputs="unit"`` a dark pixel's input is 0, so its weights get no
    gradient and stay where they started; standardised, every pixel carries an input, and under label
    noise what reaches those weights is the noise alone.
    """

    def __init__(self, eng: Engine, d: RunTensors, cfg: dict):
        self.eng, self.w0 = eng, None
        if not (cfg["model"] == "perceptron" or cfg["model"].startswith("mlp")):
            return
        self.dark = (d.x.flatten(1).amax(0) == 0)
        self.w0 = self.weights().clone()

    def weights(self) -> torch.Tensor:
        """(G, out, in) the first dense layer's weights of every model."""
        return self.eng.first_weights()

    @torch.no_grad()
    def __call__(self):
        if self.w0 is None:
            return None
        dw = (self.weights().float() - self.w0.float()).pow(2)
        rms = lambda cols: dw[:, :, cols].mean((1, 2)).sqrt().tolist() if bool(cols.any()) else [0.0] * len(dw)  # noqa: E731
        return rms(self.dark), rms(~self.dark)


def restat(record: dict, report: str) -> dict:
    """A stored record read with another statistic (:func:`final`'s ``report``), over the same kept
    evaluations and the record's own ``mean_last``: each rate's accuracies and the chosen rate recomputed
    (``best["report"]`` names the statistic). Training is untouched, so a run shared by two figures is one
    stored run that each figure may read its own way. The record's ``confusion`` stays what training stored:
    the final model's, of the rate chosen then (which another statistic may not choose)."""
    if report == "peak" and not record["config"].get("n_val"):
        raise ValueError(f"report='peak' finds the peak on the held-out clean split, and run {record['key']} has "
                         "none (n_val = 0)")
    k = record["config"].get("mean_last", 1)
    per_lr = []
    for p in record["metrics"]["per_lr"]:
        kept = {f: v for f, v in p.items() if f not in ("val_acc", "test_acc", "test_top5", "window")}
        acc = final(p["curve"], k, report)
        if p["diverged"]:  # a rate that diverged reports nothing, whatever it reached before (as under "last")
            acc = {f: None for f in acc if f != "window"}
        per_lr.append(dict(kept, **acc))
    best = dict(select_lr(per_lr, record["metrics"]["best"]["selected_on"]), report=report)
    return dict(record, metrics=dict(record["metrics"], per_lr=per_lr, best=best))


def select_lr(per_lr: list[dict], on: str) -> dict:
    """The entry with the highest final accuracy on split ``on`` ("val" or "test"), diverged ones excluded."""
    key = f"{on}_acc"
    ok = [p for p in per_lr if not p["diverged"] and p[key] is not None]
    if not ok:
        return dict(lr=None, val_acc=None, test_acc=None, selected_on=on, all_diverged=True)
    best = max(ok, key=lambda p: p[key])
    top5 = {"test_top5": best["test_top5"]} if "test_top5" in best else {}  # ImageNet's measure (Fig 3)
    return dict(lr=best["lr"], val_acc=best["val_acc"], test_acc=best["test_acc"], selected_on=on, **top5)
