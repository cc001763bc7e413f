"""The critical number of clean labels (Sec 4, Figs 8 and 9) and the clean-label calculator built on it.

Nothing here trains: every function reads stored runs (records of :mod:`nlcore.results`), so a user who
sweeps another model or dataset gets their own answers.

- The *critical number* n*(alpha, target) is the fewest clean labels at which a model trained on them,
  diluted by alpha noisy labels each, reaches ``target`` test accuracy. It is read off the runs of one
  alpha at several ``n_clean`` by :func:`nlcore.analysis.critical_n_clean` (linear interpolation in
  log n_clean between the last size below the target and the first at or above it): once from the mean
  curve over seeds (the estimate), once from each seed's own curve (its spread).
- The paper's law: n* = c * alpha^k, with k "slightly above" 1 (Fig 9). :func:`fit` fits log n* against
  log alpha over the alphas > 0 whose curve crossed the target.
- :func:`clean_labels` answers "at this noise, how many clean labels for this accuracy?" from the fitted
  law, only inside the measured range unless asked to extrapolate.

Uniform noise and label accuracy: with m classes, a label drawn from the diluted set is right with
probability q = (1 + alpha / m) / (1 + alpha) (the clean label, or a noisy one that happens to be right);
:func:`label_accuracy` and :func:`alpha_from_label_accuracy` convert.
"""

from __future__ import annotations

import math
import warnings

import numpy as np

from .analysis import critical_n_clean

BOOT = 2000  # bootstrap resamples of the seeds' crossings
T975 = {1: 12.706, 2: 4.303, 3: 3.182, 4: 2.776, 5: 2.571, 6: 2.447, 7: 2.365, 8: 2.306, 9: 2.262, 10: 2.228}


class OutsideMeasuredRange(ValueError):
    """The question lies outside what the stored runs measured (pass ``extrapolate=True`` to answer anyway)."""


def label_accuracy(alpha: float, m: int = 10) -> float:
    """P(a label of the diluted set is right) under uniform noise: (1 + alpha/m) / (1 + alpha), in (1/m, 1]."""
    if not (isinstance(alpha, (int, float)) and math.isfinite(alpha) and alpha >= 0):
        raise ValueError(f"alpha must be a number >= 0 (noisy labels per clean one), got {alpha!r}")
    return (1 + alpha / m) / (1 + alpha)


def alpha_from_label_accuracy(q: float, m: int = 10) -> float:
    """The alpha whose diluted set has label accuracy ``q`` under uniform noise: (1 - q) / (q - 1/m).
    ``q`` must be above chance (1/m) and at most 1."""
    if not (isinstance(q, (int, float)) and 1 / m < q <= 1):
        raise ValueError(f"label_accuracy must be in ({1 / m:g}, 1] for {m} classes (above chance: at or below "
                         f"{1 / m:g} the labels carry no signal and no number of them is enough), got {q!r}")
    return (1 - q) / (q - 1 / m)


def _curves(records: list[dict]) -> dict:
    """{alpha: {seed: [(n_clean, test accuracy of the chosen rate)]}}, runs whose rates all diverged left out."""
    out: dict = {}
    for r in records:
        acc = r["metrics"]["best"]["test_acc"]
        if acc is not None:
            c = r["config"]
            out.setdefault(float(c["alpha"]), {}).setdefault(r["seed"], []).append((c["n_clean"], acc))
    return out


def crossings(records: list[dict], target: float) -> dict[float, dict]:
    """Per alpha, the critical number of clean labels for ``target`` and its interval.

    Returns ``{alpha: dict(n, low, high, status, per_seed, sizes)}``: ``n`` from the mean curve over
    seeds and ``status`` as :func:`nlcore.analysis.critical_n_clean` gives them (``"crossed"``,
    ``"at_smallest"``, ``"never"``); ``per_seed`` each seed's own crossing (None where that seed's curve
    never reaches the target); ``low``/``high`` the smallest and largest per-seed crossing when two or
    more seeds crossed, else the measured sizes around the mean curve's crossing (all the interpolation
    knows); ``high`` is None when a seed never reaches the target (the critical number may lie beyond
    the sweep); ``sizes``: the n_clean values measured at that alpha.
    """
    out = {}
    for alpha, seeds in sorted(_curves(records).items()):
        sizes = sorted({n for pts in seeds.values() for n, _ in pts})
        at = {n: [a for pts in seeds.values() for size, a in pts if size == n] for n in sizes}
        mean = [dict(alpha=alpha, n_clean=n, mean=float(np.mean(at[n]))) for n in sizes]
        est = critical_n_clean(mean, target)[alpha]
        per_seed = {}
        for s, pts in sorted(seeds.items()):
            c = critical_n_clean([dict(alpha=alpha, n_clean=n, mean=a) for n, a in pts], target)[alpha]
            per_seed[s] = c["n"] if c["status"] != "never" else None
        crossed = [v for v in per_seed.values() if v is not None]
        if len(crossed) >= 2:
            low, high = min(crossed), (None if len(crossed) < len(per_seed) else max(crossed))
        elif est["status"] == "crossed":
            above = next(i for i, n in enumerate(sizes) if n >= est["n"])
            low, high = float(sizes[max(0, above - 1)]), float(sizes[above])
        else:
            low, high = (None, est["n"]) if est["status"] == "at_smallest" else (None, None)
        out[alpha] = dict(n=est["n"], status=est["status"], low=low, high=high, per_seed=per_seed, sizes=sizes)
    return out


def fit(cross: dict[float, dict], *, boot: int = BOOT, seed: int = 0) -> dict:
    """The law log n* = log c + k log alpha through the alphas > 0 whose mean curve crossed.

    Returns ``c``, ``k`` (least squares through the mean-curve crossings), ``k_low``, ``k_high`` (a 95%
    interval), ``alphas`` (those used), ``interval`` (how the interval was made) and ``draws`` ((B, 2)
    bootstrap (log c, k) pairs, for intervals on predictions; None without a bootstrap). The interval
    comes from resampling, at each alpha independently, one of its seeds' crossings (``boot`` times, a
    fixed generator): the spread between seeds. With at most one crossing seed per alpha it is the
    least-squares t-interval, which needs three alphas; with two alphas and one seed it is None (a line
    through two points says nothing of its error).
    """
    pts = {a: v for a, v in cross.items() if a > 0 and v["status"] == "crossed"}
    none = dict(c=None, k=None, k_low=None, k_high=None, alphas=sorted(pts), interval=None, draws=None)
    if len(pts) < 2:
        return none
    x = np.log(list(pts))
    y = np.log([v["n"] for v in pts.values()])
    k, logc = np.polyfit(x, y, 1)
    out = dict(none, c=float(math.exp(logc)), k=float(k))
    seeds = [[n for n in v["per_seed"].values() if n is not None] or [v["n"]] for v in pts.values()]
    if any(len(s) > 1 for s in seeds):
        rng = np.random.default_rng(seed)
        draws = np.empty((boot, 2))
        for b in range(boot):
            yb = np.log([s[rng.integers(len(s))] for s in seeds])
            kb, cb = np.polyfit(x, yb, 1)
            draws[b] = cb, kb
        lo, hi = np.percentile(draws[:, 1], [2.5, 97.5])
        return dict(out, k_low=float(lo), k_high=float(hi), draws=draws,
                    interval=f"95% bootstrap over seeds ({boot} resamples)")
    if len(pts) >= 3:
        resid = y - (k * x + logc)
        se = math.sqrt(resid @ resid / (len(pts) - 2) / ((x - x.mean()) @ (x - x.mean())))
        t = T975.get(len(pts) - 2, 1.96)
        return dict(out, k_low=float(k - t * se), k_high=float(k + t * se),
                    interval="95% least-squares t-interval (one seed per alpha)")
    return out


def clean_labels(records: list[dict], *, alpha: float, target: float, extrapolate: bool = False) -> dict:
    """How many clean labels reach ``target`` test accuracy at ``alpha``, from the stored runs ``records``
    (one model and dataset, several alpha and n_clean).

    Returns ``alpha``, ``target``, ``n_clean`` (the estimate), ``low``, ``high`` (a 95% interval, None where
    the runs cannot give one), ``upper_bound`` (True when ``n_clean`` is only an upper bound: the smallest
    size tried already reached the target), ``extrapolated``, ``fit`` (``c``, ``k``, ``k_low``,
    ``k_high``), ``measured`` (``alphas``: those > 0 whose curves crossed the target; ``alphas_run``;
    ``n_clean``: the smallest and largest size tried; ``runs``) and ``how``. At
    an alpha > 0 the answer is the fitted law's (:func:`fit`), its interval from the same bootstrap; at
    alpha = 0 it is the crossing measured there (:func:`crossings`).

    Raises ValueError for alpha < 0 or a target outside (0, 1), and :class:`OutsideMeasuredRange` when
    alpha lies outside the measured alphas (or fewer than two alphas crossed the target) unless
    ``extrapolate``; extrapolating warns.
    """
    if not (isinstance(alpha, (int, float)) and math.isfinite(alpha) and alpha >= 0):
        raise ValueError(f"alpha must be a number >= 0 (noisy labels per clean one), got {alpha!r}")
    if not (isinstance(target, (int, float)) and 0 < target < 1):
        raise ValueError(f"target must be a test accuracy in (0, 1), got {target!r}")
    cross = crossings(records, target)
    law = fit(cross)
    sizes = sorted({n for v in cross.values() for n in v["sizes"]})
    measured = dict(alphas=law["alphas"], alphas_run=sorted(cross), n_clean=[sizes[0], sizes[-1]] if sizes else [],
                    runs=len(records))
    base = dict(alpha=float(alpha), target=float(target), measured=measured,
                fit={k: law[k] for k in ("c", "k", "k_low", "k_high")})
    if alpha == 0:
        v = cross.get(0.0)
        if v is None or v["status"] == "never":
            raise OutsideMeasuredRange(f"no stored run at alpha = 0 reaches target {target:g}; measured n_clean "
                                       f"{measured['n_clean']}")
        return dict(base, n_clean=v["n"], low=v["low"], high=v["high"], extrapolated=False,
                    upper_bound=v["status"] == "at_smallest", how="the crossing measured at alpha = 0")
    if law["k"] is None:
        raise OutsideMeasuredRange(f"target {target:g} was crossed at {len(law['alphas'])} alpha > 0 "
                                   f"({law['alphas']}); the law needs two: no answer, even by extrapolation")
    inside = law["alphas"][0] <= alpha <= law["alphas"][-1]
    if not inside and not extrapolate:
        raise OutsideMeasuredRange(f"alpha = {alpha:g} is outside the measured alphas {law['alphas'][0]:g} to "
                                   f"{law['alphas'][-1]:g} for target {target:g}; pass extrapolate (--extrapolate) "
                                   "to use the fitted law beyond them")
    if not inside:
        warnings.warn(f"alpha = {alpha:g} lies outside the measured alphas {law['alphas'][0]:g} to "
                      f"{law['alphas'][-1]:g}: the answer extrapolates the fitted law", stacklevel=2)
    n = law["c"] * alpha ** law["k"]
    low = high = None
    if law["draws"] is not None:
        pred = np.exp(law["draws"][:, 0] + law["draws"][:, 1] * math.log(alpha))
        low, high = (float(v) for v in np.percentile(pred, [2.5, 97.5]))
    return dict(base, n_clean=float(n), low=low, high=high, extrapolated=not inside, upper_bound=False,
                how=f"the fitted law n = c alpha^k ({law['interval'] or 'no interval: two alphas, one seed'})")
