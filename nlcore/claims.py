"""The paper's claims, each scored against our stored runs by a stated rule (the book's front page).

A claim reads the stored records of its figure at the largest profile that can answer it (``full``, then
``cpu``; nothing trains here): for Figure 1's points, the profile that has the point; for the other figures,
the profile whose whole grid is stored, so that a half-trained grid never answers. It computes our number
with its spread over seeds, and a verdict:

- **held**: our number is where the rule says the paper's is;
- **partly**: it misses that, but by less than the rule's wider margin, or the claim's direction holds
  without its size;
- **not held**: it misses by more;
- **not run here**: no stored run can say (ImageNet, ResNet-101 on a CPU, or runs not trained yet).

The margins are in :data:`MARGINS` (absolute accuracy, as fractions). They are wider than the spread
between seeds we measure under heavy noise and narrower than the gaps the paper's claims are about.
"""

from __future__ import annotations

import statistics

from . import critical, data, paper, results, sweep
from .findings import CLIMBING, chose_smallest_rate, loses, points
from .plots import NAMES
from .report import end_window, end_words, last_change


def pts(x: float) -> str:
    """A rule's margin (a fraction) in points, unsigned: ``5.0 points``."""
    return points(x, sign=False)


MARGINS = dict(held=0.03, partly=0.10)  # "reaches X%": within 3 points held, within 10 partly
ABOUT = dict(held=0.05, partly=0.10)  # "about X%": within 5 points either way held, 10 partly
FACTOR = 2.0  # a critical number of clean labels within a factor of 2 of the paper's


def at_least(ours: float, paper_value: float, margins=MARGINS) -> str:
    """Verdict for "reaches ``paper_value``": ours at or above it less a margin."""
    if ours >= paper_value - margins["held"]:
        return "held"
    return "partly" if ours >= paper_value - margins["partly"] else "not held"


def about(ours: float, paper_value: float, margins=ABOUT) -> str:
    """Verdict for "about ``paper_value``": ours within a margin either way."""
    off = abs(ours - paper_value)
    return "held" if off <= margins["held"] else "partly" if off <= margins["partly"] else "not held"


def small(change: float, margins=MARGINS) -> str:
    """Verdict for "no appreciable difference": the absolute change within a margin."""
    return "held" if abs(change) <= margins["held"] else "partly" if abs(change) <= margins["partly"] else "not held"


def within_factor(ours: float | None, paper_value: float, factor: float = FACTOR) -> str:
    if ours is None:
        return "not held"
    return "held" if paper_value / factor <= ours <= paper_value * factor else "not held"


def pct(x) -> str:
    return f"{x:.1%}"


def _stored(figure: str, root=None, profiles=("full", "cpu"), needs=None):
    """(records, profile) of ``figure`` at the first profile of ``profiles`` whose stored records satisfy
    ``needs`` (a test of the records). By default a profile answers once every run of the figure there is
    stored (a half-trained grid would mix what it has with what it lacks), and the last profile with any
    stored run."""
    profiles = [p for p in profiles if p in sweep.FIGURES[figure]["grid"]]
    for p in profiles:
        try:
            recs = sweep.figure_records(figure, p, root=root)
            ok = needs(recs) if needs is not None else \
                bool(recs) and (p == profiles[-1] or sweep.complete(figure, p, root))
        except (ValueError, data.DataError):  # Fig 5 before its confusion runs; ImageNet absent
            continue
        if ok:
            return recs, p
    return [], None


def _at(model: str, alpha: float):
    """A ``needs`` test: a stored run of ``model`` at ``alpha`` with an accuracy."""
    return lambda recs: any(r["config"]["model"] == model and r["config"]["alpha"] == alpha
                            and r["metrics"]["best"]["lr"] is not None for r in recs)


def _scale(records: list[dict], profile: str) -> str:
    """The scale a verdict rests on: profile, clean images, and the seeds, per model where they differ (runs
    whose every rate diverged give no accuracy and are left out, as in :func:`nlcore.results.summarize`)."""
    records = [r for r in records if r["metrics"]["best"]["lr"] is not None] or records
    n = sorted({r["config"]["n_clean"] for r in records})
    clean = f"{n[0]:,}" if len(n) == 1 else f"{n[0]:,} to {n[-1]:,}"
    by_model: dict[str, tuple] = {}
    for r in records:
        by_model[r["config"]["model"]] = tuple(sorted(set(by_model.get(r["config"]["model"], ())) | {r["seed"]}))

    def seeds(s: tuple) -> str:
        return ("seed " if len(s) == 1 else "seeds ") + ", ".join(map(str, s))

    sets = list(by_model.values())
    common = max(set(sets), key=lambda s: (sets.count(s), len(s), s), default=())  # most common, then the exceptions
    others = "".join(f"; {NAMES[m]}: {seeds(s)}" for m, s in by_model.items() if s != common)
    return f"profile {profile}: {clean} clean images, {seeds(common)}{others}"


def _row(s: dict) -> str:
    """'mean (min–max over n seeds)' of a summary row."""
    if s["n_seeds"] == 1:
        return f"{pct(s['mean'])} (seed {s['seeds'][0]} only)"
    return f"{pct(s['mean'])} ({pct(s['min'])}–{pct(s['max'])}, {s['n_seeds']} seeds)"


NOT_RUN = dict(ours="–", scale="–", verdict="not run here")


def fig1_accuracy(model: str, root=None) -> dict:
    """Fig 1 at alpha = 100: the ConvNet's 91% ("reaches") or the perceptron's 40% ("about")."""
    recs, profile = _stored("fig1", root, needs=_at(model, 100))
    value = paper.ACCURACY[("fig1", model, 100)][0]
    rows = [s for s in results.summarize(recs) if s["model"] == model and s["alpha"] == 100 and s["mean"] is not None]
    if not rows:
        return dict(NOT_RUN, why="no stored run of this model at α = 100")
    (s,) = rows
    verdict = (at_least if model == "convnet4" else about)(s["mean"], value)
    rule = (f"held within {pts(MARGINS['held'])} below the paper, partly within {pts(MARGINS['partly'])}"
            if model == "convnet4" else
            f"held within {pts(ABOUT['held'])} either way, partly within {pts(ABOUT['partly'])}")
    used = [r for r in recs if r["config"]["model"] == model and r["config"]["alpha"] == 100]
    return dict(ours=_row(s) + _caveats(used, root), scale=_scale(used, profile), verdict=verdict, why=rule)


def _caveats(used: list[dict], root=None) -> str:
    """What a Fig 1 point at alpha = 100 may understate: runs still climbing at their end (test accuracy up by
    more than ``findings.CLIMBING`` at their end: ``report.last_change``), a chosen rate at the lower edge of the
    rates a run trained, and for the perceptron the ``init`` sweep's same point with torch's initialisation."""
    out = []
    up = [(c, end_window(r)) for r, c in zip(used, map(last_change, used)) if c is not None and c > CLIMBING]
    if up:
        words = "; ".join(f"{', '.join(points(c) for c, k in up if k == w)} {end_words(w)}"
                          for w in sorted({k for _, k in up}))
        out.append(f"{len(up)} of {len(used)} runs still climbing at their end ({words})")
    edge = [r for r in used if chose_smallest_rate(r)]
    if edge:
        rates = ", ".join(f"{x:g}" for x in sorted({r["metrics"]["best"]["lr"] for r in edge}))
        out.append(f"{len(edge)} of {len(used)} chose the smallest rate of those trained ({rates})")
    if used and used[0]["config"]["model"] == "perceptron":
        prof = used[0]["config"]["profile"]
        init = [r for r in sweep.figure_records("init", prof, root=root)
                if r["config"]["alpha"] == 100] if prof in sweep.FIGURES["init"]["grid"] else []
        init = [s for s in results.summarize(init) if s["mean"] is not None]
        if init:
            out.append(f"with torch's initialisation {_row(init[0])}, the Exp 1 chapter's init sweep")
    return "".join(f"; {x}" for x in out)


def fig1_ordering(root=None) -> dict:
    """Fig 1 at alpha = 100: the ConvNet most robust and the perceptron least."""
    models = sweep.FIGURES["fig1"]["models"]
    recs, profile = _stored("fig1", root, needs=lambda rs: all(_at(m, 100)(rs) for m in models))
    at = sorted((s for s in results.summarize(recs) if s["alpha"] == 100 and s["mean"] is not None),
                key=lambda s: -s["mean"])
    if len(at) < len(sweep.FIGURES["fig1"]["models"]):
        return dict(NOT_RUN, why=f"{len(at)} of the 5 models stored at α = 100")
    top, bottom = at[0]["model"] == "convnet4", at[-1]["model"] == "perceptron"
    ours = " > ".join(f"{NAMES[s['model']]} {pct(s['mean'])}" for s in at)
    mlps = [s["model"] for s in at if s["model"].startswith("mlp")]
    if mlps != sorted(mlps, key=lambda m: -int(m[3:])):  # the deeper MLP not always above the shallower
        ours += " (the MLPs not in order of depth)"
    verdict = "held" if top and bottom else "partly" if top or bottom else "not held"
    used = [r for r in recs if r["config"]["alpha"] == 100]
    return dict(ours=ours, scale=_scale(used, profile), verdict=verdict,
                why="held if the ConvNet ranks first and the perceptron last at α = 100 (the order of the MLPs "
                    "between them is shown, not scored); partly if one of the two")


def fig5_verdict(summary: list[dict]) -> dict | None:
    """Fig 5's claim, *like uniform noise except for delta near 1*, read off summary rows (``order``, ``delta``,
    ``mean``) by one rule: held if at the largest delta below 1 every order is within ``MARGINS["held"]``
    of uniform noise (delta = 0) and, where delta = 1 was run, every order there falls by more than
    ``MARGINS["partly"]``; partly if the orders below 1 are within ``MARGINS["partly"]`` (or the drop at
    delta = 1 is missing); not held otherwise. None without uniform noise and a delta in (0, 1).

    Returns ``dict(delta, drops, top_drops, mid, mid_drops, verdict, why)``: ``drops`` {order: accuracy of
    uniform noise minus that order's at ``delta``}, ``top_drops`` the same at delta = 1 (empty if not run),
    ``mid_drops`` the same at ``mid``, the delta run nearest 0.5 (empty where that is ``delta``): shown
    beside the verdict, not part of its rule."""
    summary = [s for s in summary if s["mean"] is not None]
    uniform = [s for s in summary if s["delta"] == 0]
    below = sorted({s["delta"] for s in summary if 0 < s["delta"] < 1})
    if not uniform or not below:
        return None
    d, u = below[-1], uniform[0]["mean"]
    drops = {s["order"]: u - s["mean"] for s in summary if s["delta"] == d and s["mean"] is not None}
    top_drops = {s["order"]: u - s["mean"] for s in summary if s["delta"] == 1 and s["mean"] is not None}
    flat = max(drops.values()) <= MARGINS["held"]
    near = max(drops.values()) <= MARGINS["partly"]
    falls = bool(top_drops) and min(top_drops.values()) > MARGINS["partly"]
    verdict = "held" if flat and falls else "partly" if flat or (near and falls) else "not held"
    why = (f"held if at δ = {d:g} every order is within {pts(MARGINS['held'])} of uniform noise and at δ = 1 "
           f"every order falls by more than {pts(MARGINS['partly'])}; partly if only the first holds, or the "
           f"second with the orders at δ = {d:g} within {pts(MARGINS['partly'])}")
    mid = min(below, key=lambda x: abs(x - 0.5))
    mid_drops = {} if mid == d else {s["order"]: u - s["mean"] for s in summary if s["delta"] == mid}
    return dict(delta=d, drops=drops, top_drops=top_drops, mid=mid, mid_drops=mid_drops, verdict=verdict, why=why)


def fig5_structured(root=None) -> dict:
    """Fig 5 at alpha = 20: structured noise like uniform noise except for delta near 1 (:func:`fig5_verdict`)."""
    recs, profile = _stored("fig5", root)
    v = fig5_verdict(results.summarize(recs, by=("order", "delta")))
    if v is None:
        return dict(NOT_RUN, why="no stored run of uniform noise and of a structured δ < 1")
    # the middle of the range beside the rule's delta (the largest below 1, which may be close to 1) and delta = 1
    at = sorted([(v["delta"], v["drops"])] + [(v["mid"], v["mid_drops"])] * bool(v["mid_drops"])
                + [(1.0, v["top_drops"])] * bool(v["top_drops"]))
    ours = "against uniform noise, " + "; ".join(
        f"δ = {d:g}: " + ", ".join(f"{o} {-x * 100:+.1f} points" for o, x in drops.items()) for d, drops in at)
    return dict(ours=ours, scale=_scale(recs, profile), verdict=v["verdict"], why=v["why"])


def _drops(root=None):
    recs, profile = _stored("fig6", root)
    summary = results.summarize(recs, by=("noise_source", "alpha"))
    top = max((s["alpha"] for s in summary), default=None)
    clean = [s["mean"] for s in summary if s["alpha"] == 0 and s["mean"] is not None]
    if top is None or top == 0 or not clean:
        return None, recs, profile, top
    return {s["noise_source"]: clean[0] - s["mean"] for s in summary if s["alpha"] == top and s["mean"] is not None}, \
        recs, profile, top


def fig6_cifar100(root=None) -> dict:
    """Fig 6: CIFAR-100 images as noise cost about half the drop of CIFAR-10's own (a ratio in [1/4, 3/4])."""
    drops, recs, profile, top = _drops(root)
    if not drops or "other" not in drops or "same" not in drops or round(drops["same"], 6) <= 0:
        return dict(NOT_RUN, why="no stored drop from CIFAR-10's own noise to compare with")
    ratio = drops["other"] / drops["same"]
    verdict = "held" if 0.25 <= ratio <= 0.75 else "partly" if ratio < 1 else "not held"
    return dict(ours=f"at α = {top:g}: {loses(drops['other'])} with CIFAR-100 noise, {loses(drops['same'])} with "
                     f"its own (ratio {ratio:.2f})",
                scale=_scale(recs, profile), verdict=verdict,
                why="held if the ratio of the drops is in [0.25, 0.75]; partly if below 1")


def fig6_white(root=None) -> dict:
    """Fig 6: white-noise examples cost no appreciable accuracy."""
    drops, recs, profile, top = _drops(root)
    if not drops or "white" not in drops:
        return dict(NOT_RUN, why="no stored white-noise run")
    return dict(ours=f"at α = {top:g}: {loses(drops['white'])} with white noise", scale=_scale(recs, profile),
                verdict=small(max(drops["white"], 0)),
                why=f"a drop within {pts(MARGINS['held'])} held, {pts(MARGINS['partly'])} partly")


def fig7_repeat(root=None) -> dict:
    """Fig 7: repeated and unique noisy images give the same accuracy at every alpha."""
    recs, profile = _stored("fig7", root)
    summary = results.summarize(recs, by=("alpha", "repeat"))
    by = {(s["alpha"], s["repeat"]): s["mean"] for s in summary if s["mean"] is not None}
    diffs = {a: by[(a, True)] - by[(a, False)] for a, r in by if r and (a, False) in by and a > 0}
    if not diffs:
        return dict(NOT_RUN, why="no α with both repeated and unique runs stored")
    a, worst = max(diffs.items(), key=lambda kv: abs(kv[1]))
    return dict(ours=f"largest gap {worst * 100:+.1f} points (repeated − unique, α = {a:g})",
                scale=_scale(recs, profile), verdict=small(worst),
                why=f"the largest gap within {pts(MARGINS['held'])} held, {pts(MARGINS['partly'])} partly")


def fig8_critical(root=None) -> dict:
    """Fig 8: 2,000 clean labels reach 90% at alpha = 10, 10,000 at alpha = 50 (each within a factor of 2)."""
    def bracketed(rs):  # a run below 90% at both alphas: the sizes above it locate the crossing
        return all(any(r["config"]["alpha"] == a and r["metrics"]["best"]["test_acc"] is not None
                       and r["metrics"]["best"]["test_acc"] < 0.9 for r in rs) for a in (10, 50))

    recs, profile = _stored("fig8", root, profiles=("paper", "full", "cpu"), needs=bracketed)
    crit = critical.crossings(recs, 0.9)  # as the calculator reads them: the complete lines of seeds
    parts, verdicts = [], []
    unsettled = sweep.open_alphas("fig8", profile, list(paper.CRITICAL_N_CLEAN_90), root) if profile else []
    for alpha, (n, _) in paper.CRITICAL_N_CLEAN_90.items():
        c = crit.get(float(alpha))
        ours = None if c is None else c["n"]
        sizes = c["sizes"] if c is not None and c["status"] == "never" else []
        # not reached at the sizes stored, while smaller sizes (more passes each) are still to train: open
        open_ = c is not None and c["status"] == "never" and critical.may_yet_reach(c["sizes"], alpha, unsettled)
        verdicts.append("not run here" if c is None else "open" if open_ else
                        within_factor(ours if c["status"] == "crossed" else None, n))
        at = "" if not sizes else f"at {sizes[0]:,}" if len(sizes) == 1 else f"from {sizes[0]:,} to {sizes[-1]:,}"
        what = ""  # what a crossing rests on: the seeds of the complete lines and the interval they give
        if c is not None and c["status"] == "crossed":
            seeds = f"seed {c['seeds'][0]} only" if len(c["seeds"]) == 1 else f"seeds {', '.join(map(str, c['seeds']))}"
            span = "" if c["low"] is None else (
                f", between {critical.bounds(c['low'], c['high'], ' and ')} measured" if len(c["seeds"]) == 1
                else f", {c['label']} {critical.bounds(c['low'], c['high'])}")
            what = f" ({seeds}{span})"
        parts.append(f"α = {alpha}: " + (
            "not run" if c is None else f"{ours:,.0f}{what}" if c["status"] == "crossed" else
            f"≤ {ours:,.0f}" if c["status"] == "at_smallest" else
            f"90% not reached {at} clean images so far, smaller sizes still to train (open)" if open_ else
            f"90% not reached {at} clean images"))
    if all(v == "not run here" for v in verdicts):
        return dict(NOT_RUN, ours="; ".join(parts), why="no stored run at α = 10 or 50")
    verdict = "held" if all(v == "held" for v in verdicts) else "partly" if "held" in verdicts else "not held"
    # the runs the row rests on: the complete lines' seeds at the paper's two alphas
    used = [r for r in recs if (v := crit.get(float(r["config"]["alpha"]))) is not None
            and r["config"]["alpha"] in paper.CRITICAL_N_CLEAN_90 and r["seed"] in v["seeds"]]
    edge = [r for r in used if chose_smallest_rate(r)]
    if edge:
        parts.append(f"{len(edge)} of {len(used)} runs chose the smallest rate of those trained (at α = "
                     + ", ".join(f"{a:g}" for a in sorted({r['config']['alpha'] for r in edge})) + ")")
    return dict(ours="; ".join(parts), scale=_scale(used or recs, profile) if recs else "–", verdict=verdict,
                why=f"each critical number within a factor of {FACTOR:g} of the paper's held, one of two partly; an "
                    "α whose line has not reached 90% while smaller sizes (each trained for more passes) are still "
                    "to train is open: named, and the verdict is at most partly until it is settled")


def fig11_verdict(summary: list[dict]) -> dict | None:
    """Fig 11's claim, *larger batches are more robust*, read off summary rows of cross-entropy runs
    (``alpha``, ``batch_size``, ``mean``, ``min``, ``max``) by one rule: at the largest alpha, held if the
    largest batch gains more than ``MARGINS["held"]`` over the smallest and more than the spread between
    seeds of either point; partly if it gains more than that spread; not held otherwise.

    Returns ``dict(alpha, small, large, gain, spread, verdict, why)`` (``verdict`` None when only one batch
    size is stored there), or None without a stored row."""
    summary = [s for s in summary if s["mean"] is not None]
    if not summary:
        return None
    top = max(s["alpha"] for s in summary)
    at = sorted((s for s in summary if s["alpha"] == top), key=lambda s: s["batch_size"])
    why = (f"held if the largest batch gains more than {pts(MARGINS['held'])} and more than the spread between "
           "seeds of either point; partly if it gains more than that spread")
    if len(at) < 2:
        return dict(alpha=top, small=at[0], large=at[0], gain=None, spread=None, verdict=None, why=why)
    gain = at[-1]["mean"] - at[0]["mean"]
    spread = max(s["max"] - s["min"] for s in (at[0], at[-1]))  # 0 with one seed
    verdict = "held" if gain > max(MARGINS["held"], spread) else "partly" if gain > spread else "not held"
    return dict(alpha=top, small=at[0], large=at[-1], gain=gain, spread=spread, verdict=verdict, why=why)


def fig11_batch(root=None) -> dict:
    """Fig 11: at the largest alpha, the largest batch beats the smallest (cross-entropy runs)."""
    recs, profile = _stored("fig11", root)
    ce = [r for r in recs if r["config"]["loss"] == "ce"]
    v = fig11_verdict(results.summarize(ce, by=("alpha", "batch_size")))
    if v is None:
        return dict(NOT_RUN, why="no stored run")
    if v["verdict"] is None:
        return dict(NOT_RUN, why=f"one batch size stored at α = {v['alpha']:g}")
    ours = (f"at α = {v['alpha']:g}: batch {v['large']['batch_size']} {_row(v['large'])} against "
            f"{v['small']['batch_size']} {_row(v['small'])}")
    steps, _ = _stored("fig11steps", root, profiles=("full",),
                       needs=lambda rs: sweep.complete("fig11steps", "full", root))
    e = fig11_verdict(results.summarize(steps, by=("alpha", "batch_size"))) if steps else None
    if e is not None and e["verdict"] is not None:  # the alternative length, shown beside the verdict's
        budget = " (one pass each, so batch 32 takes 8 times the steps of batch 256)" if profile == "full" else ""
        ours += (f"{budget}; at equal steps instead "
                 f"(`fig11steps`): batch {e['large']['batch_size']} {_row(e['large'])} against "
                 f"{e['small']['batch_size']} {_row(e['small'])}, by the same rule **{e['verdict']}**")
    return dict(ours=ours, scale=_scale(ce, profile), verdict=v["verdict"], why=v["why"])


def fig12_lr(root=None) -> dict:
    """Sec 3.4 / Fig 12: the chosen learning rate (median over seeds) lower at alpha = 100 than at 0, per model."""
    models = sweep.FIGURES["fig1"]["models"]
    recs, profile = _stored("fig1", root, needs=lambda rs: all(_at(m, 0)(rs) and _at(m, 100)(rs) for m in models))
    summary = results.summarize(recs)
    lr = {(s["model"], s["alpha"]): statistics.median_low(s["lrs"]) for s in summary if s["lrs"]}
    trained = {}  # per (model, alpha): the rates every run there trained
    for r in recs:
        k = (r["config"]["model"], r["config"]["alpha"])
        trained[k] = trained.get(k, set(r["config"]["lrs"])) & set(r["config"]["lrs"])
    both = [m for m in sweep.FIGURES["fig1"]["models"] if (m, 0.0) in lr and (m, 100.0) in lr]
    # a model whose alpha = 100 runs trained a pruned grid (by a rule that assumes this claim) cannot test it
    models = [m for m in both if trained[(m, 100.0)] >= trained[(m, 0.0)]]
    skipped = "".join(f"; {NAMES[m]} not scored (its α = 100 runs trained only "
                      f"{', '.join(f'{x:g}' for x in sorted(trained[(m, 100.0)]))} of the rates of its α = 0 runs)"
                      for m in both if m not in models)
    rule = ("held if every scored model's chosen rate is lower at α = 100 than at α = 0; partly if some; a model "
            "whose α = 100 runs trained fewer rates than its α = 0 runs is not scored, since a pruned grid may "
            "force the lower choice")
    if not models:
        return dict(NOT_RUN, why="no model stored at both α = 0 and α = 100 with the whole grid" + skipped)
    lower = [m for m in models if lr[(m, 100.0)] < lr[(m, 0.0)]]
    ours = "chosen AdaDelta rate, α = 0 → 100: " + ", ".join(
        f"{NAMES[m]} {lr[(m, 0.0)]:g} → {lr[(m, 100.0)]:g}" for m in models) + skipped
    verdict = "held" if len(lower) == len(models) else "partly" if lower else "not held"
    used = [r for r in recs if r["config"]["model"] in models and r["config"]["alpha"] in (0, 100)]
    return dict(ours=ours, scale=_scale(used, profile), verdict=verdict, why=rule)


def not_run(why: str) -> dict:
    return dict(NOT_RUN, why=why)


# (figure, chapter, the paper's words, the paper's number, scorer)
CLAIMS = [
    ("Fig 1", "exp1", paper.ACCURACY[("fig1", "convnet4", 100)][1], "91% at α = 100",
     lambda root: fig1_accuracy("convnet4", root)),
    ("Fig 1", "exp1", paper.ACCURACY[("fig1", "perceptron", 100)][1], "about 40% at α = 100",
     lambda root: fig1_accuracy("perceptron", root)),
    ("Fig 1", "exp1", paper.CLAIMS["fig1_ordering"], "ConvNet > MLPs > perceptron", fig1_ordering),
    ("Fig 2", "exp1", paper.ACCURACY[("fig2", "resnet101", 10)][1], "85% at α = 10",
     lambda root: not_run("ResNet-101 needs a GPU (the cost page gives its hours on this CPU, from a timed step)")),
    ("Fig 3", "exp1", paper.ACCURACY[("fig3", "resnet18", 5)][1], "70% top-5 at α = 5",
     lambda root: not_run("needs a copy of ImageNet")),
    ("Fig 5", "exp2", paper.CLAIMS["fig5_structured"], "similar to uniform for δ < 1", fig5_structured),
    ("Fig 6", "exp3", paper.CLAIMS["fig6_cifar100"], "half the drop", fig6_cifar100),
    ("Fig 6", "exp3", paper.CLAIMS["fig6_white"], "no appreciable drop", fig6_white),
    ("Fig 7", "exp3", paper.CLAIMS["fig7_repeat"], "no difference", fig7_repeat),
    ("Fig 8", "exp4", " ".join(q for _, q in paper.CRITICAL_N_CLEAN_90.values()), "2,000 (α = 10), 10,000 (α = 50)",
     fig8_critical),
    ("Fig 11", "exp5", paper.CLAIMS["fig11_batch"], "larger batches help", fig11_batch),
    ("Sec 3.4", "exp1", paper.CLAIMS["fig12_lr"], "the best rate falls", fig12_lr),
]


def scoreboard(root=None) -> list[dict]:
    """One row per claim: figure, chapter, words, paper, ours, scale, verdict, why."""
    return [dict(figure=f, chapter=ch, words=w, paper=p, **score(root)) for f, ch, w, p, score in CLAIMS]


def markdown(rows: list[dict]) -> str:
    """The scoreboard as a Markdown table, each row linking to its chapter, then each row's rule."""
    out = ["| claim | verdict | ours | the paper says |", "|---|---|---|---|"]
    for i, r in enumerate(rows, 1):
        ours = r["ours"] if r["scale"] == "–" else f"{r['ours']}; {r['scale']}"
        out.append(f"| {i}. [{r['figure']}]({r['chapter']}.ipynb): {r['paper']} | **{r['verdict']}** | {ours} | "
                   f"“{r['words']}” |")
    out.append("\nThe rules, by claim: " + "; ".join(f"{i}. {r['why']}" for i, r in enumerate(rows, 1)) + ".")
    return "\n".join(out)
