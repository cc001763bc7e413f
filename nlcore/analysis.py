"""What the figures compute from stored runs beyond a mean: critical dataset sizes (Fig 9), the
power law they follow, and the accuracy of every learning rate (Fig 12).

Inputs are the rows of :func:`nlcore.results.summarize` or stored records; nothing here trains.
Accuracies are fractions in [0, 1].
"""

from __future__ import annotations

import math

import numpy as np


def critical_n_clean(summary: list[dict], target: float) -> dict[float, dict]:
    """Per alpha, the fewest clean labels at which mean test accuracy reaches ``target`` (Fig 9).

    ``summary`` rows need ``alpha``, ``n_clean`` and ``mean``. The paper does not say how it reads
    the threshold off Fig 8; we interpolate linearly in log(n_clean) between the last size below the
    target and the first at or above it.

    Returns ``{alpha: dict(n=..., status=...)}``: status ``"crossed"`` (n interpolated),
    ``"at_smallest"`` (the smallest size tried already reaches it: n is an upper bound) or
    ``"never"`` (no size tried reaches it: n is None, and ``sizes`` lists the sizes tried).
    """
    out = {}
    for a in sorted({s["alpha"] for s in summary}):
        rows = sorted((s for s in summary if s["alpha"] == a and s["mean"] is not None), key=lambda s: s["n_clean"])
        hit = next((i for i, s in enumerate(rows) if s["mean"] >= target), None)
        if hit is None:
            out[a] = dict(n=None, status="never", sizes=[s["n_clean"] for s in rows])
        elif hit == 0:
            out[a] = dict(n=float(rows[0]["n_clean"]), status="at_smallest")
        else:
            lo, hi = rows[hit - 1], rows[hit]
            f = (target - lo["mean"]) / (hi["mean"] - lo["mean"])
            n = math.exp(math.log(lo["n_clean"]) + f * (math.log(hi["n_clean"]) - math.log(lo["n_clean"])))
            out[a] = dict(n=n, status="crossed")
    return out


def power_law(alphas, n_crit) -> dict:
    """Least-squares fit of ``log n = k log alpha + c`` (the paper: k "slightly above" 1).

    Returns ``k``, ``c``, ``k_se`` (the ordinary least-squares standard error of k, from the residuals;
    None with fewer than 3 points, where a line fits exactly and says nothing of its uncertainty) and
    ``points``. Only alpha > 0 enters (log 0 is undefined).
    """
    pts = [(a, n) for a, n in zip(alphas, n_crit) if a > 0 and n is not None]
    if len(pts) < 2:
        return dict(k=None, c=None, k_se=None, points=len(pts))
    x = np.log([a for a, _ in pts])
    y = np.log([n for _, n in pts])
    k, c = np.polyfit(x, y, 1)
    se = None
    if len(pts) >= 3:
        resid = y - (k * x + c)
        se = float(math.sqrt(resid @ resid / (len(pts) - 2) / ((x - x.mean()) @ (x - x.mean()))))
    return dict(k=float(k), c=float(c), k_se=se, points=len(pts))


def per_lr(records: list[dict], split: str = "test") -> list[dict]:
    """One row per (run, learning rate): model, alpha, seed, lr, final accuracy on ``split``, diverged,
    and whether that lr was the one the run chose (Fig 12: accuracy of every rate against alpha)."""
    rows = []
    for r in records:
        chosen = r["metrics"]["best"]["lr"]
        for p in r["metrics"]["per_lr"]:
            rows.append(dict(model=r["config"]["model"], alpha=r["config"]["alpha"], seed=r["seed"], lr=p["lr"],
                             acc=p[f"{split}_acc"], diverged=p["diverged"], chosen=p["lr"] == chosen))
    return rows


def mean_acc_by_lr(rows: list[dict], alpha: float) -> dict[float, float]:
    """{learning rate: mean accuracy over seeds} at ``alpha`` (rows of :func:`per_lr`; a diverged rate
    counts as 0)."""
    by_lr: dict = {}
    for r in rows:
        if r["alpha"] == alpha:
            by_lr.setdefault(r["lr"], []).append(0.0 if r["acc"] is None else r["acc"])
    return {lr: float(np.mean(v)) for lr, v in by_lr.items()}


def best_lr_by_alpha(rows: list[dict]) -> dict[float, float]:
    """Per alpha, the learning rate with the highest mean accuracy over seeds (diverged rates count as 0)."""
    out = {}
    for a in sorted({r["alpha"] for r in rows}):
        mean = mean_acc_by_lr(rows, a)
        out[a] = max(mean, key=mean.get)
    return out
