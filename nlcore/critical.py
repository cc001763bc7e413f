"""The critical number of clean labels (Sec 4, Figs 8 and 9) and the clean-label calculator built on it.

Nothing here trains: every function reads stored runs (records of :mod:`nlcore.results`), so a user who
sweeps another model or dataset gets their own answers.

- The *critical number* n*(alpha, target) is the fewest clean labels at which a model trained on them,
  diluted by alpha noisy labels each, reaches ``target`` test accuracy. It is read off the runs of one
  alpha at several ``n_clean`` by :func:`nlcore.analysis.critical_n_clean` (linear interpolation in
  log n_clean between the last size below the target and the first at or above it): once from the mean
  curve over the seeds kept (:func:`kept`: the most runs on sizes those seeds share; the estimate), once
  from each seed's own curve (its spread).
- The paper's law: n* = c * alpha^k, with k "slightly above" 1 (Fig 9). :func:`fit` fits log n* against
  log alpha over the alphas > 0 whose curve crossed the target.
- :func:`clean_labels` answers "at this noise, how many clean labels for this accuracy?": at a measured alpha
  from the crossing measured there, elsewhere from the fitted law, only inside the measured range unless
  asked to extrapolate.

Uniform noise and label accuracy: with m classes, a label drawn from the diluted set is right with
probability q = (1 + alpha / m) / (1 + alpha) (the clean label, or a noisy one that happens to be right);
:func:`label_accuracy` and :func:`alpha_from_label_accuracy` convert.
"""

from __future__ import annotations

import math
import warnings

import numpy as np

from .analysis import critical_n_clean, power_law

BOOT = 2000  # bootstrap resamples of the seeds
# With this many seeds or fewer, the bootstrap's 2.5th and 97.5th percentiles fall on the resamples that draw
# one seed alone (each has probability (1/s)^s > 2.5%), so its "interval" is the range over the seeds, not a
# confidence interval: it is labelled so (``label``) wherever it is printed
FEW_SEEDS = 3
# Student's t, 97.5th percentile, by degrees of freedom (df = 30's beyond 30: slightly wide, never narrow)
T975 = dict(enumerate([12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228, 2.201, 2.179, 2.160,
                       2.145, 2.131, 2.120, 2.110, 2.101, 2.093, 2.086, 2.080, 2.074, 2.069, 2.064, 2.060, 2.056,
                       2.052, 2.048, 2.045, 2.042], start=1))


class OutsideMeasuredRange(ValueError):
    """The question lies outside what the stored runs measured (pass ``extrapolate=True`` to answer anyway)."""


class NoLaw(OutsideMeasuredRange):
    """No law yet: the target was crossed at fewer than two alphas > 0, so only a measured alpha can be
    answered, and not even ``extrapolate=True`` answers another."""


class NotReached(OutsideMeasuredRange):
    """The line of ``alpha`` was run and no size tried reaches the target (the sizes tried: ``sizes``, the
    largest ``largest``; ``left_out``: the runs of that alpha the crossing did not rest on, as
    :func:`crossings` gives them); no law overrides that measurement. ``alpha`` is the line that fell short:
    the alpha asked, or one no larger whose shortfall refutes the law's answer at the alpha asked. While it
    may yet be reached (:func:`may_yet_reach`), :data:`STILL_TO_TRAIN` says so."""

    def __init__(self, message: str, largest: int, alpha: float, sizes=(), left_out=None):
        super().__init__(message)
        self.largest, self.alpha, self.sizes, self.left_out = largest, alpha, list(sizes), dict(left_out or {})


STILL_TO_TRAIN = ("smaller clean sets of this line, each trained for more passes, are still to train, so it may "
                  "yet be reached")


def may_yet_reach(sizes, alpha: float, still_to_train) -> bool:
    """Whether a target that the line of ``alpha`` reached at none of ``sizes`` may yet be reached: smaller
    sizes of the line are still to train (``still_to_train``: :func:`nlcore.sweep.open_alphas`; Figure 8 at the
    full profile trains a smaller size for more passes) and only one size, the largest, has been tried. Once a
    smaller size, trained for more passes, fell short too, "not reached" stands: the rest of the line has fewer
    clean labels still."""
    return alpha in still_to_train and len(sizes) == 1


def label_accuracy(alpha: float, m: int = 10) -> float:
    """P(a label of the diluted set is right) under uniform noise: (1 + alpha/m) / (1 + alpha), in (1/m, 1]."""
    if not (isinstance(alpha, (int, float)) and math.isfinite(alpha) and alpha >= 0):
        raise ValueError(f"alpha must be a number >= 0 (noisy labels per clean one), got {alpha!r}")
    return (1 + alpha / m) / (1 + alpha)


def alpha_from_label_accuracy(q: float, m: int = 10, name: str = "label_accuracy") -> float:
    """The alpha whose diluted set has label accuracy ``q`` under uniform noise: (1 - q) / (q - 1/m).
    ``q`` must be above chance (1/m) and at most 1; ``name`` is the parameter an error names."""
    if not (isinstance(q, (int, float)) and 1 / m < q <= 1):
        raise ValueError(f"{name} must be in ({1 / m:g}, 1] for {m} classes (above chance: at or below "
                         f"{1 / m:g} the labels carry no signal and no number of them is enough), got {q!r}")
    return (1 - q) / (q - 1 / m)


def alpha_near_label_accuracy(q: float, alphas, tol: float, m: int = 10) -> float | None:
    """Of ``alphas``, the one whose label accuracy (:func:`label_accuracy`) is nearest ``q`` if within ``tol``
    (a label accuracy typed as 0.143 names alpha = 20, whose is 0.142857...), else None."""
    near = min(alphas, key=lambda a: abs(label_accuracy(a, m) - q), default=None)
    return near if near is not None and abs(label_accuracy(near, m) - q) <= tol + 1e-12 else None


def _curves(records: list[dict]) -> dict:
    """{alpha: {seed: {n_clean: test accuracy of the chosen rate}}}, runs whose rates all diverged left out."""
    out: dict = {}
    for r in records:
        acc = r["metrics"]["best"]["test_acc"]
        if acc is not None:
            c = r["config"]
            out.setdefault(float(c["alpha"]), {}).setdefault(r["seed"], {})[c["n_clean"]] = acc
    return out


def kept(by_seed: dict) -> tuple[tuple, list]:
    """Which runs of one alpha's line the crossing rests on: ``by_seed`` is ``{seed: {n_clean: accuracy}}``.
    Returns the seeds kept and the sizes they share, chosen to keep the most runs (seeds x shared sizes; on a
    tie, more seeds, then the smaller seeds). A lone point of an unfinished seed (Figure 1's second seed is
    Figure 8's run at 55,000 clean labels until that seed's smaller sizes are trained) is left out rather than
    cutting every other seed's line down to that one size; a size only one seed ran (a point added by hand)
    is left out rather than that seed's whole line losing its company."""
    from itertools import combinations

    seeds, best = sorted(by_seed), None
    for r in range(len(seeds), 0, -1):
        for sub in combinations(seeds, r):
            shared = sorted(set.intersection(*(set(by_seed[s]) for s in sub)))
            if best is None or r * len(shared) > len(best[0]) * len(best[1]):
                best = (sub, shared)
    return best


def split(records: list[dict]) -> tuple[list[dict], list[dict]]:
    """``records`` (one model, dataset and profile) as (the runs the crossings rest on, the runs left out), by
    :func:`kept` at each alpha, so that a chart of the lines draws what the numbers read."""
    keep = {a: kept(by_seed) for a, by_seed in _curves(records).items()}
    use, left = [], []
    for r in records:
        c = r["config"]
        seeds, sizes = keep.get(float(c["alpha"]), ((), []))
        (use if r["seed"] in seeds and c["n_clean"] in sizes else left).append(r)
    return use, left


def _crossing(curves: list[dict], alpha: float, target: float) -> dict:
    """The crossing of the mean of ``curves`` (each {n_clean: accuracy}) over the sizes they all have."""
    sizes = sorted(set.intersection(*(set(c) for c in curves)))
    mean = [dict(alpha=alpha, n_clean=n, mean=float(np.mean([c[n] for c in curves]))) for n in sizes]
    return critical_n_clean(mean, target)[alpha]


def crossings(records: list[dict], target: float, *, boot: int = BOOT, seed: int = 0) -> dict[float, dict]:
    """Per alpha, the critical number of clean labels for ``target`` and how well the runs pin it down.

    Returns ``{alpha: dict(n, status, low, high, interval, label, draws, seeds, per_seed, sizes, curve)}``:

    - ``n``, ``status``: from the mean curve over seeds, as :func:`nlcore.analysis.critical_n_clean`
      gives them (``"crossed"``, ``"at_smallest"``: the smallest size tried already reaches the target, so
      ``n`` is an upper bound, ``"never"``: beyond the largest size tried, ``n`` None).
    - ``draws``: with two or more seeds, ``boot`` bootstrap resamples of the seeds (drawn with
      replacement), each the crossing of its resample's mean curve (``inf`` where that mean curve never
      reaches the target; the smallest size, an upper bound, where it starts above it); None with one seed.
      With two seeds a resample is one of three mean curves, so the interval is close to the range between
      the seeds. The draws are paired: every alpha that kept the same seeds (``seeds``) gets the same
      resamples of them (a generator seeded by ``seed`` and those seeds), so that a law fitted to resample b
      sees one consistent set of runs at each alpha.
    - ``low``, ``high``: with draws at a crossing, their 2.5th and 97.5th percentiles (``high`` None when
      more than 2.5% of the resamples never reach the target: the runs do not bound it); with one seed, the
      measured sizes on either side of the crossing (all that linear interpolation knows); None for an
      upper bound (``at_smallest``) or a line that never reaches the target. ``interval`` says which, and
      ``label`` names it in a few words where it is printed: ``"95%"``, ``"seed range"`` (a bootstrap over
      :data:`FEW_SEEDS` seeds or fewer), ``"between"`` (one seed), None (no interval).
    - ``per_seed``: each seed's own crossing (None where it never reaches the target); ``sizes``: the
      n_clean values measured; ``curve``: ``{n_clean: mean test accuracy}`` over the seeds.
    - ``left_out``: ``{seed: {n_clean: test accuracy}}``, the runs of this alpha the crossing does not rest
      on (:func:`kept`: a seed whose line is not complete yet, a size the other seeds lack).
    """
    out = {}
    for alpha, every in sorted(_curves(records).items()):
        seeds, sizes = kept(every)
        left_out = {s: {n: a for n, a in sorted(c.items()) if s not in seeds or n not in sizes}
                    for s, c in sorted(every.items())}
        left_out = {s: c for s, c in left_out.items() if c}
        by_seed = {s: {n: every[s][n] for n in sizes} for s in seeds}
        curves = [by_seed[s] for s in seeds]
        curve = {n: float(np.mean([c[n] for c in curves])) for n in sizes}
        est = _crossing(curves, alpha, target)
        per_seed = {s: (lambda c: c["n"] if c["status"] != "never" else None)(_crossing([by_seed[s]], alpha, target))
                    for s in sorted(by_seed)}
        draws = low = high = label = None
        if len(curves) >= 2:
            drawn = np.random.default_rng([seed, *sorted(by_seed)]).integers(len(curves), size=(boot, len(curves)))
            # a resample's mean curve depends only on which seeds it drew: each distinct draw is read once
            kinds, which = np.unique(np.sort(drawn, axis=1), axis=0, return_inverse=True)
            at = []
            for kind in kinds:
                c = _crossing([curves[i] for i in kind], alpha, target)
                at.append(math.inf if c["status"] == "never" else c["n"])
            draws = np.asarray(at, dtype=float)[which.reshape(-1)]
            low, high = (float(v) for v in np.quantile(draws, [0.025, 0.975], method="inverted_cdf"))
            high = None if math.isinf(high) else high
            low = None if math.isinf(low) else low
            interval, label = few_or_95(len(curves), f"bootstrap over the {len(curves)} seeds ({boot} resamples)")
            if est["status"] != "crossed":
                low = high = None
                interval = ("none: the smallest size tried already reaches the target (an upper bound)"
                            if est["status"] == "at_smallest" else "none: the target is not reached")
        elif est["status"] == "crossed":
            above = next(i for i, n in enumerate(sizes) if n >= est["n"])
            low, high = float(sizes[max(0, above - 1)]), float(sizes[above])
            interval, label = "the measured sizes on either side of the crossing (one seed)", "between"
        else:
            interval = ("none: the smallest size tried already reaches the target (an upper bound)"
                        if est["status"] == "at_smallest" else "none: the target is not reached")
        label = label if low is not None or high is not None else None
        out[alpha] = dict(n=est["n"], status=est["status"], low=low, high=high, interval=interval, label=label,
                          draws=draws,
                          seeds=tuple(sorted(by_seed)), per_seed=per_seed, sizes=sizes, curve=curve,
                          left_out=left_out)
    return out


def bounds(low: float | None, high: float | None, sep: str = " to ") -> str:
    """``1,800 to 2,600``: the ends of an interval of clean-label counts, ``–`` for a missing lower end and
    ``unbounded`` where the runs do not bound it above."""
    return ("–" if low is None else f"{low:,.0f}") + sep + ("unbounded" if high is None else f"{high:,.0f}")


def interval_text(low: float | None, high: float | None, label: str | None) -> str:
    """`` (95% 1,800 to 2,600)``, `` (seed range ...)``, `` (1,000 to 2,000)`` (one seed: the sizes around the
    crossing), ``unbounded`` where the runs do not bound it above; "" without an interval."""
    if low is None and high is None:
        return ""
    name = "" if label in (None, "between") else f"{label} "
    return f" ({name}{bounds(low, high)})"


def few_or_95(n_seeds: int, how: str) -> tuple[str, str]:
    """The ``interval`` text and short ``label`` of a bootstrap over ``n_seeds`` seeds: a 95% interval, or,
    with :data:`FEW_SEEDS` or fewer, the range its percentiles fall on (each seed alone), said as such."""
    if n_seeds > FEW_SEEDS:
        return f"95% {how}", "95%"
    return (f"{how}; with {n_seeds} seeds its 2.5th and 97.5th percentiles are resamples of one seed alone: a "
            "range over the seeds, not a confidence interval"), "seed range"


def fit(cross: dict[float, dict]) -> dict:
    """The law log n* = log c + k log alpha through the alphas > 0 whose mean curve crossed the target.

    Returns ``c``, ``k`` (least squares through the mean-curve crossings), ``k_low``, ``k_high`` (a 95%
    interval, the seed range with :data:`FEW_SEEDS` seeds or fewer, or None), ``alphas`` (those used),
    ``interval`` (how it was made, or why there is none), ``label`` (``"95%"``, ``"seed range"`` or None, as
    in :func:`crossings`), ``draws`` ((B, 2) bootstrap (log c, k) pairs, or None) and ``ols`` (the
    least-squares pieces of the one-seed t-interval, or None); :func:`band` turns either into an interval on
    n* at any alpha.

    With bootstrap draws at every alpha used (:func:`crossings`, two or more seeds), the law is fitted to
    each resample; a resample that never reaches the target at one of those alphas leaves the law
    unbounded, and when more than 2.5% do, the interval is None (the runs do not bound k). With one seed at
    some alpha the interval is the least-squares t-interval through the mean-curve crossings, which needs
    three alphas.
    """
    pts = {a: v for a, v in cross.items() if a > 0 and v["status"] == "crossed"}
    none = dict(c=None, k=None, k_low=None, k_high=None, alphas=sorted(pts), interval=None, label=None, draws=None,
                ols=None)
    if len(pts) < 2:
        return dict(none, interval="none: the law needs the target crossed at two alphas > 0")
    law = power_law(list(pts), [v["n"] for v in pts.values()])  # least squares; k_se with 3 or more alphas
    k = law["k"]
    out = dict(none, c=math.exp(law["c"]), k=k)
    x = np.log(list(pts))
    if all(v["draws"] is not None for v in pts.values()):
        ys = np.log(np.stack([v["draws"] for v in pts.values()], axis=1))  # (B, alphas)
        bounded = np.isfinite(ys).all(1)
        if bounded.mean() < 0.975:
            return dict(out, interval=f"none: {1 - bounded.mean():.0%} of the resamples of the seeds never reach "
                                      "the target at one of the alphas (the runs do not bound k)")
        cb, kb = np.polynomial.polynomial.polyfit(x, ys[bounded].T, 1)  # one fit per resample
        lo, hi = np.percentile(kb, [2.5, 97.5])
        how = "paired across alphas" if len({v["seeds"] for v in pts.values()}) == 1 else \
            "paired only across alphas that ran the same seeds"
        interval, label = few_or_95(min(len(v["seeds"]) for v in pts.values()),
                                    f"bootstrap over seeds ({int(bounded.sum())} resamples, {how})")
        return dict(out, k_low=float(lo), k_high=float(hi), draws=np.stack([cb, kb], axis=1), interval=interval,
                    label=label)
    if law["k_se"] is not None:
        t = T975.get(len(pts) - 2, T975[30])
        y = np.log([v["n"] for v in pts.values()])
        resid = y - (law["c"] + k * x)
        ols = dict(t=t, s=float(math.sqrt(resid @ resid / (len(pts) - 2))), points=len(pts), x_mean=float(x.mean()),
                   sxx=float((x - x.mean()) @ (x - x.mean())))
        return dict(out, k_low=k - t * law["k_se"], k_high=k + t * law["k_se"], ols=ols, label="95%",
                    interval="95% least-squares t-interval through the mean-curve crossings (one seed at some alpha)")
    return dict(out, interval="none: a line through two alphas, with one seed at some alpha, says nothing of its error")


def band(law: dict, alphas) -> tuple[np.ndarray, np.ndarray] | None:
    """An interval on the law's n* at each of ``alphas`` (> 0), 95% or the seed range as the law's ``label``
    says: from the bootstrap fits (their 2.5th and
    97.5th percentiles) or, with one seed at some alpha, the least-squares t-interval on the fitted line's
    mean at log alpha (t s sqrt(1/N + (x - x_mean)^2 / Sxx), back in n). None where :func:`fit` gave neither."""
    x = np.log(np.asarray(alphas, dtype=float))
    if law.get("draws") is not None:
        pred = np.exp(law["draws"][:, :1] + law["draws"][:, 1:] * x[None])  # (B, len(alphas))
        low, high = np.percentile(pred, [2.5, 97.5], axis=0)
        return low, high
    if law.get("ols") is not None:
        o = law["ols"]
        half = o["t"] * o["s"] * np.sqrt(1 / o["points"] + (x - o["x_mean"]) ** 2 / o["sxx"])
        mid = math.log(law["c"]) + law["k"] * x
        return np.exp(mid - half), np.exp(mid + half)
    return None


def laws(records: list[dict], targets) -> dict[float, dict]:
    """Per target accuracy, the fitted law (:func:`fit`) with the ``crossings`` it rests on."""
    out = {}
    for t in targets:
        cross = crossings(records, t)
        out[t] = dict(fit(cross), crossings=cross)
    return out


def answers(records: list[dict], targets, alphas) -> list[dict]:
    """The calculator's answer (:func:`clean_labels`, inside the measured range only) for every target and
    alpha, as ``python -m nlcore clean-labels`` gives it for the same runs: dicts of ``alpha``, ``target`` and
    either ``n_clean``, ``low``, ``high``, ``upper_bound``, ``interval`` or ``refused`` (why there is no answer:
    ``"no stored runs"`` when there are none), ``no_law`` (the refusal is :class:`NoLaw`) and
    ``not_reached`` (:class:`NotReached`: the largest size tried on the line that fell short, else None) with
    ``not_reached_alpha`` (that line's alpha: the one asked, or a smaller one whose shortfall refutes the law
    there), ``sizes_tried`` (all of them; [] for another refusal) and ``left_out`` (:class:`NotReached`)."""
    out = []
    for t in targets:
        for a in alphas:
            try:
                if not records:
                    raise OutsideMeasuredRange("no stored runs")
                r = clean_labels(records, alpha=a, target=t)
                out.append(dict(alpha=a, target=t, n_clean=r["n_clean"], low=r["low"], high=r["high"],
                                upper_bound=r["upper_bound"], interval=r["interval"], label=r["label"]))
            except OutsideMeasuredRange as e:
                out.append(dict(alpha=a, target=t, refused=str(e), no_law=isinstance(e, NoLaw),
                                not_reached=e.largest if isinstance(e, NotReached) else None,
                                not_reached_alpha=e.alpha if isinstance(e, NotReached) else None,
                                sizes_tried=e.sizes if isinstance(e, NotReached) else [],
                                left_out=e.left_out if isinstance(e, NotReached) else {}))
    return out


def _at(cross: dict, alpha: float):
    """The measured alpha of ``cross`` equal to ``alpha`` up to rounding (a label accuracy converted to alpha
    lands a few ulps off 20), or None."""
    return next((a for a in cross if math.isclose(a, alpha, rel_tol=1e-9, abs_tol=1e-12)), None)


def clean_labels(records: list[dict], *, alpha: float, target: float, extrapolate: bool = False) -> dict:
    """How many clean labels reach ``target`` test accuracy at ``alpha``, from the stored runs ``records``
    (one model, dataset and profile; several alpha and n_clean).

    Returns ``alpha`` (a measured alpha where ``alpha`` equals one up to rounding), ``target``, ``n_clean`` (the
    estimate), ``low``, ``high``, ``interval`` and ``label`` (the interval, how it was made and its short name: a
    95% interval, or the seed range with :data:`FEW_SEEDS` seeds or fewer; None where the runs cannot give one),
    ``upper_bound`` (True when ``n_clean`` is only an upper bound: the smallest size tried at ``alpha`` already
    reached the target), ``extrapolated``, ``fit`` (``c``, ``k``, ``k_low``, ``k_high``), ``k_label`` (the short
    name of k's interval), ``measured`` (``alphas``: those > 0 whose curves crossed the target, which the law is
    fitted on; ``alphas_run``: every alpha with runs; ``n_clean``: the smallest and largest size tried at the
    alphas the answer rests on, ``alpha`` itself for a crossing and the law's alphas for the law; ``runs``;
    ``left_out``: ``[{alpha, seed, n_clean, test_acc}]``, the seeds at those alphas whose line is incomplete, with
    their sizes and accuracies: :func:`crossings`) and ``how`` (which of the two answered, and at a measured alpha
    what the law says there). At a measured alpha the answer is the crossing measured there (:func:`crossings`,
    with its interval: the runs at that alpha say more about it than a line through every alpha); between and
    beyond the measured alphas it is the fitted law's (:func:`fit`, its interval from :func:`band`).

    Raises ValueError for alpha < 0 or a target outside (0, 1), :class:`NotReached` when the runs at alpha
    reach the target at no size tried, or the law's answer is below the largest size tried at a measured alpha
    no larger than alpha that never reached it (more noise needs at least as many clean labels), even with
    ``extrapolate``: the measurement stands; :class:`NoLaw`
    at an unmeasured alpha while fewer than two alphas > 0 crossed the target, and
    :class:`OutsideMeasuredRange` when alpha lies outside the law's alphas unless ``extrapolate``;
    extrapolating warns.
    """
    if not (isinstance(alpha, (int, float)) and math.isfinite(alpha) and alpha >= 0):
        raise ValueError(f"alpha must be a number >= 0 (noisy labels per clean one), got {alpha!r}")
    if not (isinstance(target, (int, float)) and 0 < target < 1):
        raise ValueError(f"target must be a test accuracy in (0, 1), got {target!r}")
    cross = crossings(records, target)
    law = fit(cross)
    at = _at(cross, alpha)
    alpha = float(at if at is not None else alpha) + 0.0  # + 0.0: -0.0 is 0
    v = cross.get(at)

    def sizes(alphas):
        base["measured"]["left_out"] = [dict(alpha=a, seed=s, n_clean=list(c), test_acc=list(c.values()))
                                        for a in alphas for s, c in cross[a]["left_out"].items()]
        tried = sorted({n for a in alphas for n in cross[a]["sizes"]})
        return [tried[0], tried[-1]] if tried else []

    base = dict(alpha=alpha, target=float(target), fit={k: law[k] for k in ("c", "k", "k_low", "k_high")},
                k_label=law["label"], measured=dict(alphas=law["alphas"], alphas_run=sorted(cross), n_clean=[],
                                                    runs=len(records), left_out=[]))
    if v is not None and v["status"] == "never":
        best = max(v["curve"].values(), default=None)
        seeds = ("seed " if len(v["seeds"]) == 1 else "seeds ") + ", ".join(map(str, v["seeds"]))
        who = ("no stored run reaches target {t} at any of" if not v["left_out"] else
               f"the runs the crossing rests on ({seeds}) reach target {{t}} at none of").format(t=f"{target:g}")
        left = "; ".join(f"seed {s}: {', '.join(f'{a:.1%} at {n:,}' for n, a in c.items())}"
                         for s, c in v["left_out"].items())
        raise NotReached(f"at alpha = {alpha:g} {who} the clean-set sizes tried, "
                         f"{', '.join(f'{n:,}' for n in v['sizes'])}"
                         + ("" if best is None else f" (the best reached {best:.1%})")
                         + (f"; runs left out (a line not complete yet): {left}" if left else ""),
                         max(v["sizes"]), alpha, v["sizes"], v["left_out"])
    # a measured alpha is answered by what was measured there (its crossing and interval); the law, a fit through
    # the crossings of every alpha, answers between and beyond them, and its value is named beside the crossing
    if v is not None:
        bound = v["status"] == "at_smallest"
        how = (f"the smallest size tried at alpha = {alpha:g}, which already reaches the target" if bound
               else f"the crossing measured at alpha = {alpha:g}")
        notes = ["an upper bound"] * bound
        if alpha > 0 and law["k"] is not None:
            says = law["c"] * alpha ** law["k"]
            notes += [] if math.isclose(says, v["n"], rel_tol=1e-6) else [  # a law through two alphas: the same
                f"the law fitted through alphas {', '.join(f'{a:g}' for a in law['alphas'])} says {says:,.0f} here"]
        elif alpha > 0:
            notes.append("no law yet: the target was crossed at fewer than two alphas > 0")
        how += f" ({'; '.join(notes)})" if notes else ""
        base["measured"]["n_clean"] = sizes([at])
        return dict(base, n_clean=v["n"], low=v["low"], high=v["high"], interval=v["interval"], label=v["label"],
                    extrapolated=False, upper_bound=bound, how=how)
    if alpha == 0:
        raise OutsideMeasuredRange("no run is stored at alpha = 0")
    if law["k"] is None:
        where = (f"only at alpha = {law['alphas'][0]:g}" if law["alphas"] else "at no alpha > 0")
        raise NoLaw(f"target {target:g} was crossed {where}; the law needs two alphas > 0: no answer at alpha = "
                    f"{alpha:g}, even by extrapolation")
    says = law["c"] * alpha ** law["k"]
    # more noise needs at least as many clean labels: a measured alpha at or below this one whose line never
    # reached the target at a size at or above the law's answer refutes that answer (the measurement stands;
    # checked before the range, so that no refusal asks for --extrapolate and then refuses again). A line that
    # crossed above the law's answer is not held against it: the law is a fit through such crossings.
    for a in sorted(x for x in cross if x <= alpha and cross[x]["status"] == "never"):
        if max(cross[a]["sizes"]) >= says:
            c = cross[a]
            who = ("no stored run reaches" if not c["left_out"] else "the runs the crossing rests on reach")
            raise NotReached(f"the fitted law says {says:,.0f} clean labels at alpha = {alpha:g}, but at alpha = "
                             f"{a:g}, no more noise, {who} target {target:g} at none of the clean-set sizes tried, "
                             f"up to {max(c['sizes']):,}; more noise needs at least as many clean labels, so the "
                             "law has no answer here", max(c["sizes"]), a, c["sizes"], c["left_out"])
    inside = law["alphas"][0] <= alpha <= law["alphas"][-1]
    if not inside and not extrapolate:
        raise OutsideMeasuredRange(f"alpha = {alpha:g} is outside the measured alphas {law['alphas'][0]:g} to "
                                   f"{law['alphas'][-1]:g} for target {target:g}; pass extrapolate (--extrapolate) "
                                   "to use the fitted law beyond them")
    if not inside:
        warnings.warn(f"alpha = {alpha:g} lies outside the measured alphas {law['alphas'][0]:g} to "
                      f"{law['alphas'][-1]:g}: the answer extrapolates the fitted law", stacklevel=2)
    interval = band(law, [alpha])
    low, high = (None, None) if interval is None else (float(interval[0][0]), float(interval[1][0]))
    base["measured"]["n_clean"] = sizes(law["alphas"])
    return dict(base, n_clean=float(says), low=low, high=high, interval=law["interval"],
                label=None if interval is None else law["label"], extrapolated=not inside, upper_bound=False,
                how="the fitted law n = c alpha^k")


def sentence(out: dict, model_name: str) -> str:
    """An answer of :func:`clean_labels` in words (the command's and the live widget's text); ``out`` also
    holds ``label_accuracy``, ``dataset`` and ``profile`` (as the command adds them)."""
    f, ms, alpha = out["fit"], out["measured"], out["alpha"]
    interval = f" ({out['interval'].replace('none: ', 'no interval: ', 1)})"
    if out["low"] is not None or out["high"] is not None:
        interval = f" ({bounds(out['low'], out['high'])}: {out['interval']})"
    k_in = "" if f["k_low"] is None else f", k in [{f['k_low']:.2f}, {f['k_high']:.2f}] ({out['k_label']})"
    law = "" if f["k"] is None or alpha == 0 else f"; fitted law n = {f['c']:.3g} * alpha^{f['k']:.2f}{k_in}"
    rests = ("alpha " + ", ".join(f"{a:g}" for a in ms["alphas"])) if out["how"].startswith("the fitted law") \
        else f"alpha = {alpha:g}"
    lo, hi = ms["n_clean"]
    tried = f"{lo:,} clean labels" if lo == hi else f"{lo:,} to {hi:,} clean labels"
    left = "; ".join(f"seed {x['seed']} at alpha = {x['alpha']:g} ("
                     + ", ".join(f"{n:,}: {a:.1%}" for n, a in zip(x["n_clean"], x["test_acc"])) + ")"
                     for x in ms.get("left_out", []))
    left = f" Runs left out of the crossing (a line of Figure 8 not complete yet): {left}." if left else ""
    return (f"At alpha = {alpha:g} (a label is right with probability {out['label_accuracy']:.1%}), "
            f"{model_name} on {out['dataset'].upper()} reaches {out['target']:.0%} test accuracy with "
            f"{'at most' if out['upper_bound'] else 'about'} {out['n_clean']:,.0f} clean labels{interval}{law}.\n"
            f"From {out['how']}, resting on runs with {tried} at {rests} "
            f"(alphas run: {', '.join(f'{a:g}' for a in ms['alphas_run'])}; {ms['runs']} stored runs, "
            f"profile {out['profile']}). This answers for this model, dataset and profile only: sweep Figure 8 "
            "with another model for its own answer." + left)
