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

from .analysis import critical_n_clean, power_law

BOOT = 2000  # bootstrap resamples of the seeds
T975 = {1: 12.706, 2: 4.303, 3: 3.182, 4: 2.776, 5: 2.571, 6: 2.447, 7: 2.365, 8: 2.306, 9: 2.262, 10: 2.228}


class OutsideMeasuredRange(ValueError):
    """The question lies outside what the stored runs measured (pass ``extrapolate=True`` to answer anyway)."""


class NoLaw(OutsideMeasuredRange):
    """No law yet: the target was crossed at fewer than two alphas > 0 (those it was: ``crossed``), so only a
    run alpha can be answered, and not even ``extrapolate=True`` answers another."""

    def __init__(self, message: str, crossed=()):
        super().__init__(message)
        self.crossed = list(crossed)


class NotReached(OutsideMeasuredRange):
    """The line of this alpha was run and no size tried reaches the target (the largest tried: ``largest``); no
    law overrides that measurement. Where sizes of the line are still to train (Figure 8 at the full profile
    trains smaller sizes for more passes) it may yet be reached."""

    def __init__(self, message: str, largest: int):
        super().__init__(message)
        self.largest = largest


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
    """{alpha: {seed: {n_clean: test accuracy of the chosen rate}}}, runs whose rates all diverged left out."""
    out: dict = {}
    for r in records:
        acc = r["metrics"]["best"]["test_acc"]
        if acc is not None:
            c = r["config"]
            out.setdefault(float(c["alpha"]), {}).setdefault(r["seed"], {})[c["n_clean"]] = acc
    return out


def _crossing(curves: list[dict], alpha: float, target: float) -> dict:
    """The crossing of the mean of ``curves`` (each {n_clean: accuracy}) over the sizes they all have."""
    sizes = sorted(set.intersection(*(set(c) for c in curves)))
    mean = [dict(alpha=alpha, n_clean=n, mean=float(np.mean([c[n] for c in curves]))) for n in sizes]
    return critical_n_clean(mean, target)[alpha]


def crossings(records: list[dict], target: float, *, boot: int = BOOT, seed: int = 0) -> dict[float, dict]:
    """Per alpha, the critical number of clean labels for ``target`` and how well the runs pin it down.

    Returns ``{alpha: dict(n, status, low, high, interval, draws, per_seed, sizes)}``:

    - ``n``, ``status``: from the mean curve over seeds, as :func:`nlcore.analysis.critical_n_clean`
      gives them (``"crossed"``, ``"at_smallest"``: the smallest size tried already reaches the target, so
      ``n`` is an upper bound, ``"never"``: beyond the largest size tried, ``n`` None).
    - ``draws``: with two or more seeds, ``boot`` bootstrap resamples of the seeds (drawn with
      replacement, a fixed generator), each the crossing of its resample's mean curve (``inf`` where that
      mean curve never reaches the target; the smallest size, an upper bound, where it starts above it);
      None with one seed. With two seeds a resample is one of three mean curves, so the interval is close
      to the range between the seeds.
    - ``low``, ``high``: with draws, their 2.5th and 97.5th percentiles (``high`` None when more than 2.5%
      of the resamples never reach the target: the runs do not bound it); with one seed, the measured
      sizes on either side of the crossing (all that linear interpolation knows). ``interval`` says which.
    - ``per_seed``: each seed's own crossing (None where it never reaches the target); ``sizes``: the
      n_clean values measured.
    """
    out = {}
    rng = np.random.default_rng(seed)
    for alpha, by_seed in sorted(_curves(records).items()):
        curves = [by_seed[s] for s in sorted(by_seed)]
        sizes = sorted(set.intersection(*(set(c) for c in curves)))
        est = _crossing(curves, alpha, target)
        per_seed = {s: (lambda c: c["n"] if c["status"] != "never" else None)(_crossing([by_seed[s]], alpha, target))
                    for s in sorted(by_seed)}
        draws = low = high = None
        if len(curves) >= 2:
            # a resample's mean curve depends only on which seeds it drew: each distinct draw is read once
            drawn = np.sort(rng.integers(len(curves), size=(boot, len(curves))), axis=1)
            kinds, which = np.unique(drawn, axis=0, return_inverse=True)
            at = []
            for kind in kinds:
                c = _crossing([curves[i] for i in kind], alpha, target)
                at.append(math.inf if c["status"] == "never" else c["n"])
            draws = np.asarray(at, dtype=float)[which.reshape(-1)]
            low, high = (float(v) for v in np.quantile(draws, [0.025, 0.975], method="inverted_cdf"))
            high = None if math.isinf(high) else high
            low = None if math.isinf(low) else low
            interval = f"95% bootstrap over the {len(curves)} seeds ({boot} resamples)"
        elif est["status"] == "crossed":
            above = next(i for i, n in enumerate(sizes) if n >= est["n"])
            low, high = float(sizes[max(0, above - 1)]), float(sizes[above])
            interval = "the measured sizes on either side of the crossing (one seed)"
        else:
            interval = "none (one seed, and the target is not crossed between two measured sizes)"
        out[alpha] = dict(n=est["n"], status=est["status"], low=low, high=high, interval=interval, draws=draws,
                          per_seed=per_seed, sizes=sizes)
    return out


def fit(cross: dict[float, dict]) -> dict:
    """The law log n* = log c + k log alpha through the alphas > 0 whose mean curve crossed the target.

    Returns ``c``, ``k`` (least squares through the mean-curve crossings), ``k_low``, ``k_high`` (a 95%
    interval or None), ``alphas`` (those used), ``interval`` (how it was made, or why there is none) and
    ``draws`` ((B, 2) bootstrap (log c, k) pairs for intervals on predictions, or None). With bootstrap
    draws at every alpha used (:func:`crossings`, two or more seeds), the law is fitted to each resample;
    a resample that never reaches the target at one of those alphas leaves the law unbounded, and when
    more than 2.5% do, the interval is None (the runs do not bound k). With one seed per alpha the
    interval is the least-squares t-interval, which needs three alphas.
    """
    pts = {a: v for a, v in cross.items() if a > 0 and v["status"] == "crossed"}
    none = dict(c=None, k=None, k_low=None, k_high=None, alphas=sorted(pts), interval=None, draws=None)
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
        draws = np.stack([cb, kb], axis=1)
        lo, hi = np.percentile(kb, [2.5, 97.5])
        return dict(out, k_low=float(lo), k_high=float(hi), draws=draws,
                    interval=f"95% bootstrap over seeds ({int(bounded.sum())} resamples)")
    if law["k_se"] is not None:
        t = T975.get(len(pts) - 2, 1.96)
        return dict(out, k_low=k - t * law["k_se"], k_high=k + t * law["k_se"],
                    interval="95% least-squares t-interval (one seed per alpha)")
    return dict(out, interval="none: a line through two alphas with one seed says nothing of its error")


def laws(records: list[dict], targets) -> dict[float, dict]:
    """Per target accuracy, the fitted law (:func:`fit`) with the ``crossings`` it rests on."""
    out = {}
    for t in targets:
        cross = crossings(records, t)
        out[t] = dict(fit(cross), crossings=cross)
    return out


def first_usable(stores: list[tuple[str, list[dict]]], target: float, alpha: float | None = None
                 ) -> tuple[str | None, list[dict]]:
    """Of ``(profile, records)`` pairs in order of preference, the first whose runs can answer for ``target``
    (a crossing measured at ``alpha``, or, at an alpha > 0, a law: the target crossed at two alphas > 0), else
    the first of those that measured the most sizes per alpha ((None, []) if none has runs): the calculator
    answers from the largest scale that can answer, never from one that merely has runs."""
    for profile, records in stores:
        if not records:
            continue
        cross = crossings(records, target)
        here = cross.get(float(alpha), {}).get("status") == "crossed" if alpha is not None else False
        if here or (alpha != 0 and fit(cross)["k"] is not None):
            return profile, records
    with_runs = [(p, r) for p, r in stores if r]
    if not with_runs:
        return None, []
    return max(with_runs, key=lambda pr: _sizes_per_alpha(pr[1]))  # the first of those that measured most sizes


def _sizes_per_alpha(records: list[dict]) -> float:
    """The mean number of clean-set sizes measured per alpha."""
    by: dict = {}
    for r in records:
        by.setdefault(r["config"]["alpha"], set()).add(r["config"]["n_clean"])
    return sum(map(len, by.values())) / len(by)


def answer(stores: list[tuple[str, list[dict]]], *, alpha: float, target: float, extrapolate: bool = False
           ) -> tuple[str, dict]:
    """The calculator's answer (:func:`clean_labels`) from the largest scale that gives one: ``stores`` are
    ``(profile, records)`` pairs in order of preference. Returns ``(profile, answer)``: the first store that
    answers inside its measured range with an estimate (a crossing measured at ``alpha`` or its law), else
    the first that answers with an upper bound (its smallest size already reached the target), else, with
    ``extrapolate``, the first whose law reaches ``alpha`` by extrapolation (and warns). Raises
    :class:`OutsideMeasuredRange` when none answers: :class:`NotReached` of the store that tried the largest
    size where one measured that the target is not reached at ``alpha``, else the reason of the store
    :func:`first_usable` prefers. The error's ``profile`` names its store."""
    bound, errors = None, {}
    for profile, records in stores:
        if not records:
            continue
        try:
            out = clean_labels(records, alpha=alpha, target=target)
        except OutsideMeasuredRange as e:
            e.profile = profile
            errors[profile] = e
            continue
        if not out["upper_bound"]:
            return profile, out
        bound = bound or (profile, out)
    if bound:
        return bound
    for profile in errors if extrapolate else ():
        try:  # the law beyond its alphas: clean_labels warns
            return profile, clean_labels(dict(stores)[profile], alpha=alpha, target=target, extrapolate=True)
        except OutsideMeasuredRange:
            continue
    reached = [e for e in errors.values() if isinstance(e, NotReached)]
    if reached:  # a measured "not reached" stands: the store that tried the largest size says so
        raise max(reached, key=lambda e: e.largest)
    laws = [e for e in errors.values() if isinstance(e, NoLaw) and e.crossed]
    if laws:  # a store whose runs crossed the target at one alpha says how far its law is from existing
        raise laws[0]
    profile = first_usable(stores, target, alpha)[0]
    raise errors[profile] if profile in errors else OutsideMeasuredRange("no stored runs")


def answers(stores: list[tuple[str, list[dict]]], targets, alphas) -> list[dict]:
    """The calculator's answer (:func:`answer`, inside the measured range only) for every target and alpha,
    as ``python -m nlcore clean-labels`` gives it for the same stores: dicts of ``alpha``, ``target`` and
    either the answer's ``profile``, ``n_clean``, ``low``, ``high``, ``upper_bound`` or ``refused`` (why
    there is no answer: ``"no stored runs"`` when no store has one), ``no_law`` (the refusal is
    :class:`NoLaw`) and ``not_reached`` (:class:`NotReached`: the largest size tried at that alpha, else None)."""
    out = []
    for t in targets:
        for a in alphas:
            try:
                profile, r = answer(stores, alpha=a, target=t)
                out.append(dict(alpha=a, target=t, profile=profile, n_clean=r["n_clean"], low=r["low"],
                                high=r["high"], upper_bound=r["upper_bound"]))
            except OutsideMeasuredRange as e:
                out.append(dict(alpha=a, target=t, refused=str(e), no_law=isinstance(e, NoLaw),
                                not_reached=e.largest if isinstance(e, NotReached) else None,
                                refused_by=getattr(e, "profile", None)))
    return out


def clean_labels(records: list[dict], *, alpha: float, target: float, extrapolate: bool = False) -> dict:
    """How many clean labels reach ``target`` test accuracy at ``alpha``, from the stored runs ``records``
    (one model and dataset, several alpha and n_clean).

    Returns ``alpha``, ``target``, ``n_clean`` (the estimate), ``low``, ``high`` and ``interval`` (the
    interval and how it was made; None where the runs cannot give one), ``upper_bound`` (True when
    ``n_clean`` is only an upper bound: the smallest size tried already reached the target),
    ``extrapolated``, ``fit`` (``c``, ``k``, ``k_low``, ``k_high``), ``measured`` (``alphas``: those > 0
    whose curves crossed the target; ``alphas_run``; ``n_clean``: the smallest and largest size tried;
    ``runs``) and ``how``. At an alpha > 0 the answer is the fitted law's (:func:`fit`), its interval the
    2.5th to 97.5th percentile of the law fitted to each bootstrap resample of the seeds; at alpha = 0, and
    at a measured alpha while no law can be fitted yet, it is the crossing measured there (:func:`crossings`).

    Raises ValueError for alpha < 0 or a target outside (0, 1), :class:`NotReached` when the runs at alpha
    (> 0) reach the target at no size tried (even with ``extrapolate``: the measurement stands), and
    :class:`OutsideMeasuredRange` when alpha lies outside the measured alphas (or fewer than two alphas
    crossed the target) unless ``extrapolate``; extrapolating warns.
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
    v = cross.get(float(alpha))
    if alpha > 0 and v is not None and v["status"] == "never":
        raise NotReached(f"at alpha = {alpha:g} no stored run reaches target {target:g} at the clean-set sizes "
                         f"tried ({', '.join(f'{n:,}' for n in v['sizes'])})", max(v["sizes"]))
    if alpha == 0 or (law["k"] is None and v is not None and v["status"] != "never"):
        if v is None or v["status"] == "never":
            raise OutsideMeasuredRange(f"no stored run at alpha = 0 reaches target {target:g}; measured n_clean "
                                       f"{measured['n_clean']}")
        how = f"the crossing measured at alpha = {alpha:g}" + (
            "" if alpha == 0 else " (no law yet: the target was crossed at fewer than two alphas > 0)")
        return dict(base, n_clean=v["n"], low=v["low"], high=v["high"], interval=v["interval"], extrapolated=False,
                    upper_bound=v["status"] == "at_smallest", how=how)
    if law["k"] is None:
        where = (f"only at alpha = {law['alphas'][0]:g}" if law["alphas"] else "at no alpha > 0")
        raise NoLaw(f"target {target:g} was crossed {where}; the law needs two alphas > 0: no answer, even by "
                    "extrapolation", law["alphas"])
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
    return dict(base, n_clean=float(n), low=low, high=high, interval=law["interval"], extrapolated=not inside,
                upper_bound=False, how="the fitted law n = c alpha^k")
