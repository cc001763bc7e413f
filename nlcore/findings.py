"""What each chapter says about its figures: sentences and tables computed from stored runs (nothing trains).

The chapters call one function per finding and show its Markdown (or glue its strings into their prose),
so no number in the book is typed by hand and every sentence a chapter computes is tested here
(tests/test_findings.py). Functions take records (:mod:`nlcore.results`) or summary rows
(:func:`nlcore.results.summarize`: ``mean``, ``std``, ``min``, ``max``, ``n_seeds``, ``lrs`` per point).
Accuracies are fractions in [0, 1], printed as percentages with one decimal.
"""

from __future__ import annotations

from . import analysis, paper, results
from .critical import bounds, interval_text, label_accuracy, may_yet_reach
from .plots import NAMES, label
from .report import chosen, end_window, end_words, last_change, points, span

CLIMBING = 0.02  # a run "still climbing": more than 2 points up at its end (last_change)
NAMING = ("model", "loss", "noise_source", "repeat", "order", "batch_size", "n_clean", "seed", "delta", "alpha")


def loses(d: float) -> str:
    """A drop in accuracy (a fraction; negative: a gain) in words: ``loses 3.1 points``, ``gains 0.3 points``."""
    x = round(d * 100, 1)
    return f"loses {x:.1f} points" if x > 0 else f"gains {-x:.1f} points" if x < 0 else "loses nothing"


def settings_table(rows: list[tuple[str, str]]) -> str:
    """A two-column Markdown table of (setting, value) pairs."""
    return "| setting | value |\n|---|---|\n" + "\n".join(f"| {a} | {b} |" for a, b in rows)


def run_settings(records: list[dict], cfg: dict, devices: bool = False) -> list[tuple[str, str]]:
    """The settings every figure's protocol table states, from its stored runs (``cfg``: one of its configs)."""
    minutes = f"{sum(results.run_seconds(r) for r in records) / 60:.0f} min"
    if devices:
        minutes += f" ({'; '.join(sorted({r['device'] for r in records}))})"
    chosen_on = "held-out clean validation split" if cfg["lr_select"] == "val" else "the test set"
    return [("learning rate chosen on", chosen_on),
            ("training length", f"max({cfg['epochs']:g} pass over the diluted set, {cfg['min_steps']:,} steps)"),
            ("seeds", ", ".join(str(s) for s in sorted({r["seed"] for r in records}))),
            ("training time of the runs shown", minutes)]


def devices_line(records: list[dict]) -> str:
    """Where the runs shown trained, one sentence: how many on each device, with the numeric precision the
    engine chose there, the GPU runs named where there are three or fewer, and a GPU record's ``note`` (how
    the GPU was shared). A GPU run of a config is not bit-identical to a CPU run of it (book/reproducibility.md)."""
    groups: dict = {}
    for r in records:
        groups.setdefault(r["device"], []).append(r)
    parts = []
    for device, rs in sorted(groups.items(), key=lambda g: (not g[0].startswith("cpu"), g[0])):
        precision = " and ".join(sorted({r["metrics"].get("precision") or "fp32" for r in rs}))
        part = f"{len(rs)} on {device}, {precision}"
        if not device.startswith("cpu") and len(rs) <= 3:
            part += ": " + ", ".join(f"{NAMES.get(r['config']['model'], r['config']['model'])} at "
                                     f"α = {r['config']['alpha']:g}, seed {r['seed']}" for r in rs)
        notes = sorted({r["note"] for r in rs if r.get("note")})
        if len(notes) == 1:
            part += ", " + notes[0]
        elif notes:  # counted per note, so that the list does not read as more devices
            part += " (" + ", ".join(f"{sum(r.get('note') == n for r in rs)} {n}" for n in notes) + ")"
        parts.append(part)
    if not parts:
        return ""
    gpu = any(not d.startswith("cpu") for d in groups)
    return ("Where the runs shown trained: " + "; ".join(parts) + "."
            + (" A GPU run and a CPU run of one config differ by floating-point noise that training amplifies "
               "(the reproducibility page)." if gpu else ""))


def chose_smallest_rate(record: dict) -> bool:
    """Whether a run that trained more than one rate chose the smallest of them, the edge of what it trained:
    a still smaller rate, not trained, might have done better there."""
    lrs, best = record["config"]["lrs"], record["metrics"]["best"]["lr"]
    return best is not None and len(lrs) > 1 and best == min(lrs)


def last_interval(records: list[dict], summary: list[dict], top: float | None) -> dict:
    """Were the runs still learning when they stopped? Per model and alpha, each seed's change at its end
    (:func:`nlcore.report.last_change`: over the last evaluation interval, or between the last two windows of
    the run's ``mean_last`` evaluations; ``over`` says which, in words) (``table``); ``median_last_change``
    (of its absolute value), ``n_rising`` (runs up
    by more than :data:`CLIMBING`), ``rising_text`` and, for the ranking at alpha ``top``,
    ``ordering_caveat`` (how many seeds it rests on, and which models were still climbing there)."""
    rows, change_by = [], {}
    for s in summary:
        rs = [r for r in records if r["config"]["model"] == s["model"] and r["config"]["alpha"] == s["alpha"]]
        ch = change_by[(s["model"], s["alpha"])] = [c for c in map(last_change, rs) if c is not None]
        rows.append(f"| {NAMES[s['model']]} | {s['alpha']:g} | {', '.join(f'{x:g}' for x in s['lrs'])} | "
                    + ", ".join(f"{c * 100:+.1f}" for c in ch) + f" | {rs[0]['metrics']['steps']:,} |")
    changes = [c for c in map(last_change, records) if c is not None]
    over = " and ".join(end_words(w) for w in sorted({end_window(r) for r in records})) or end_words(1)
    n_up, n_down = sum(c > CLIMBING for c in changes), sum(c < -CLIMBING for c in changes)
    rising = ("No run was still climbing by that measure." if n_up == 0 else
              "Those runs were probably still learning when they stopped, so at this scale such points may "
              "understate what longer training reaches"
              + (f"; but under heavy noise test accuracy also swings between evaluations ({n_down} "
                 f"run{'s' if n_down > 1 else ''} lost more than {CLIMBING * 100:g} points by the same measure), so "
                 "it is weak evidence either way." if n_down else "."))
    top_rows = [s for s in summary if s["alpha"] == top and s["mean"] is not None]
    n_seeds = sorted({s["n_seeds"] for s in top_rows})
    climbing = [NAMES[s["model"]] for s in top_rows if any(c > CLIMBING for c in change_by[(s["model"], top)])]
    who = "every model" if len(climbing) == len(top_rows) else " and of ".join(climbing)
    seeds_n = "no" if not n_seeds else str(n_seeds[0]) if len(n_seeds) == 1 else f"{n_seeds[0]} to {n_seeds[-1]}"
    caveat = (f"That ranking rests on {seeds_n} seed{'' if n_seeds == [1] else 's'} per model"
              + (f", and at that α at least one run of {who} was still climbing at the end "
                 f"(more than {CLIMBING * 100:g} points up {over}): it ranks what each model reached in "
                 "our training budget, not how far it could go." if climbing else "."))
    return dict(table=f"| model | α | lr chosen (per seed) | change {over} (points) "
                      "| steps |\n|---|---|---|---|---|\n" + "\n".join(rows),
                median_last_change=points(sorted(map(abs, changes))[len(changes) // 2], False) if changes else "n/a",
                n_rising=f"{n_up} of {len(changes)}", rising_text=rising, ordering_caveat=caveat, over=over)


def floor_line(records: list[dict]) -> str:
    """The runs without noise (alpha = 0) of ``records`` beside the same runs trained with the step floor of
    the noisy runs (``min_steps`` = :data:`nlcore.sweep.CIFAR_MIN_STEPS`), where those are stored: each read
    with the records' statistic, mean over seeds with the range, per model. "" where none is stored."""
    from . import evaluate, sweep, train

    parts = []
    for model in sorted({r["config"]["model"] for r in records if r["config"]["alpha"] == 0}):
        ours = [r for r in records if r["config"]["model"] == model and r["config"]["alpha"] == 0]
        floor = [results.load(dict(r["config"], min_steps=sweep.CIFAR_MIN_STEPS)) for r in ours]
        floor = [evaluate.restat(f, r["metrics"]["best"].get("report", "last")) for f, r in zip(floor, ours) if f]
        if not floor or any(r["metrics"]["best"]["test_acc"] is None for r in ours + floor):
            continue
        c, f = ours[0]["config"], floor[0]["config"]
        passes = lambda c: train.num_steps(c) * c["batch_size"] / c["n_clean"]  # noqa: E731
        acc = lambda rs: results.summarize(rs)[0]  # noqa: E731
        parts.append(f"{NAMES[model]} {span(acc(ours))} in {passes(c):.0f} passes, {span(acc(floor))} in "
                     f"{passes(f):.1f} (the floor's {f['min_steps']:,} steps)")
    if not parts:
        return ""
    return ("Without noise, the same runs with the noisy runs' floor of steps, read the same way: "
            + "; ".join(parts) + ". The figure's α = 0 point is the first, made in the passes the noisy runs "
            "make; the floor's extra passes raise α = 0, and with it every drop from α = 0.")


def stored_line(figure: str, profile: str, records: list[dict], **selection) -> str:
    """'Stored: k of the N runs of `figure` (its selected models) at ``profile`` (the time they trained) ...':
    N counts the runs that wait on others too (a pilot's rates, the confusion runs)."""
    from . import sweep

    n = len(sweep.figure_configs(figure, profile, unpiloted="estimate", **selection))
    took = results.duration(sum(results.run_seconds(r) for r in records))
    done = "all" if len(records) >= n else f"{len(records)} of the {n}"
    versions = sorted({r["code_version"][:10] for r in records})
    rest = "" if done == "all" else "; the cost page predicts the rest"
    models = selection.get("models")
    which = (f" ({'; '.join(NAMES.get(m, m) for m in models)} only)"
             if models and set(models) < set(sweep.FIGURES[figure]["models"]) else "")
    return (f"Stored: {done} runs of `{figure}`{which} at profile {profile} ({took} of training{rest})."
            + missing_text(figure, profile, records, **selection)
            + (f" Code versions: {', '.join(versions)}." if versions else ""))


def missing_text(figure: str, profile: str, records: list[dict], most: int = 8, **selection) -> str:
    """' Not stored yet: ...': the points of ``figure`` at ``profile`` (the fields that tell its runs apart,
    rates aside) that no record in ``records`` holds, grouped along alpha (or delta, the clean-set size, the
    batch size); only a count past ``most`` groups; empty when every point is stored."""
    from . import sweep

    planned = sweep.figure_configs(figure, profile, unpiloted="estimate", **selection)
    # the fields that name a point; the others follow from them (the MLPs' dropout, a size's passes)
    vary = [k for k in NAMING if planned and len({repr(c.get(k)) for c in planned}) > 1]
    have = {tuple(repr(r["config"].get(k)) for k in vary) for r in records}
    missing = [c for c in planned if tuple(repr(c.get(k)) for k in vary) not in have]
    if not missing:
        return ""
    axis = next((k for k in ("alpha", "delta", "n_clean", "batch_size") if k in vary), None)
    groups: dict[tuple, list] = {}
    for c in missing:
        groups.setdefault(tuple((k, c.get(k)) for k in vary if k != axis), []).append(c[axis] if axis else None)
    if len(groups) > most or not vary:
        return f" Not stored yet: {len(missing)} run{'s' if len(missing) > 1 else ''}."

    def name(k, v):
        words = dict(model=lambda: NAMES.get(v, v), loss=lambda: "H_α" if v == "h_alpha" else "cross-entropy",
                     repeat=lambda: "repeated noisy images" if v else "unique noisy images",
                     n_clean=lambda: f"{v:,} clean labels", batch_size=lambda: f"batch {v}", seed=lambda: f"seed {v}")
        return words[k]() if k in words else label(k, v)  # the noise source, δ, the order: as the legends say

    where = dict(alpha=" at α = {}", delta=" at δ = {}", n_clean=" at {} clean labels", batch_size=" at batch {}")
    parts = [", ".join(name(k, v) for k, v in g)
             + (where[axis].format(", ".join(f"{x:,g}" for x in sorted(xs))) if axis else "")
             for g, xs in groups.items()]
    return " Not stored yet: " + "; ".join(parts) + "."


def scale_sentence(records: list[dict], dataset_words: str) -> str:
    """One sentence of a figure's scale: clean images, the rate grid and where it was chosen, the length,
    the seeds and the training time of its stored runs."""
    if not records:
        return "No stored runs yet."
    c = records[0]["config"]
    return (f"Our runs: {c['n_clean']:,} clean {dataset_words}, learning rate chosen from "
            f"{', '.join(f'{x:g}' for x in c['lrs'])} on "
            f"{'held-out clean images' if c['lr_select'] == 'val' else 'the test set (our reading of the paper)'}, "
            f"max({c['epochs']:g} pass, {c['min_steps']:,} steps), "
            f"seeds {', '.join(str(x) for x in sorted({r['seed'] for r in records}))}; "
            f"{sum(results.run_seconds(r) for r in records) / 60:.0f} min of training.")


def drop(summary: list[dict], field: str, value) -> tuple[float | None, float | None]:
    """(accuracy lost between alpha = 0 and the largest alpha of the line ``field == value``, that alpha);
    (None, None) without a stored alpha = 0 and a larger one."""
    rows = sorted((s for s in summary if s[field] == value and s["mean"] is not None), key=lambda s: s["alpha"])
    if len(rows) > 1 and rows[0]["alpha"] == 0:
        return rows[0]["mean"] - rows[-1]["mean"], rows[-1]["alpha"]
    return None, None


def drops_by_model(summary: list[dict]) -> str:
    """Per model: its accuracy at alpha = 0 and what it loses by the largest alpha stored (Markdown list)."""
    if not summary:
        return ""
    top = max(s["alpha"] for s in summary)
    zero = {s["model"]: s["mean"] for s in summary if s["alpha"] == 0}
    return "\n".join(f"- {NAMES[s['model']]}: {zero[s['model']]:.1%} at α = 0, "
                     f"{loses(zero[s['model']] - s['mean'])} by α = {top:g}"
                     for s in summary if s["alpha"] == top and s["model"] in zero)


def fig5_lines(rows: list[dict]) -> str:
    """Figure 5's points as bullets (uniform noise, then each delta > 0 with every order: the mean over seeds,
    the lowest and highest seed in brackets), then the paper's claim scored by the front page's rule
    (:func:`nlcore.claims.fig5_verdict`) (Markdown list)."""
    from .claims import fig5_verdict

    def acc(order, d):
        s = [x for x in rows if x["order"] == order and x["delta"] == d]
        return s[0] if s else None

    orders = ("confusing", "reverse", "random")
    lines = []
    uni = acc("random", 0.0)
    if uni is not None:
        lines.append(f"- Uniform noise (δ = 0): {span(uni)}.")
    for d in sorted({s["delta"] for s in rows if s["delta"] > 0}):
        parts = [f"{o} {span(acc(o, d))}" for o in orders if acc(o, d) is not None]
        lines.append(f"- δ = {d:g}: " + ", ".join(parts) + ".")
    v = fig5_verdict(rows)
    if v is not None:
        spread = max(s["max"] - s["min"] for s in rows)
        top = (f"; at δ = 1 the smallest drop is {points(min(v['top_drops'].values()))}" if v["top_drops"] else
               "; δ = 1 was not run")
        lines.append(f"- The paper's claim, *like uniform noise except for δ near 1*: the largest drop from uniform "
                     f"at δ = {v['delta']:g} is {points(max(v['drops'].values()))}{top} (largest spread between "
                     f"seeds of one point: {points(spread, sign=False)}). Verdict: **{v['verdict']}** ({v['why']}).")
    return "\n".join(lines) or "No stored runs."


def fig6_text(s6: list[dict]) -> str:
    """Figure 6's drops from alpha = 0 to the largest alpha for each noise source, with the paper's words."""
    d_same, a_top = drop(s6, "noise_source", "same")
    d_other, _ = drop(s6, "noise_source", "other")
    d_white, _ = drop(s6, "noise_source", "white")
    if d_same is None or d_other is None or d_white is None:
        return "Not every source has stored runs at α = 0 and above at this profile."
    from .paper import LINEAGE

    spread = max((s["max"] - s["min"] for s in s6), default=0.0)
    ratio = d_other / d_same if d_same > 0 else float("nan")
    clean = [s["mean"] for s in s6 if s["alpha"] == 0 and s["mean"] is not None][0]
    acc, passes, quote = LINEAGE["convnet6"]
    return (f"Without noise our ConvNet-6 reaches {clean:.1%} (the paper draws its α = 0 point without stating it; "
            f"the Keras example the model is taken from says “{quote}”: {acc:.0%} after {passes} passes over all "
            f"50,000 images, with data augmentation). "
            f"From α = 0 to α = {a_top:g} it {loses(d_same)} with CIFAR-10 noise, "
            f"{loses(d_other)} with CIFAR-100 noise (ratio {ratio:.2f}; the paper: about one half) and "
            f"{loses(d_white)} with white noise (the paper: no appreciable drop). The largest spread between "
            f"seeds of one point is {points(spread, False)}.")


def fig7_gaps(s7: list[dict]) -> str:
    """Figure 7: at each alpha > 0, repeated against unique noisy images, and whether their seed ranges overlap."""
    gaps = []
    for a in sorted({s["alpha"] for s in s7 if s["alpha"] > 0}):
        rep = [s for s in s7 if s["alpha"] == a and s["repeat"] is True]
        uni = [s for s in s7 if s["alpha"] == a and s["repeat"] is False]
        if rep and uni:
            overlap = rep[0]["min"] <= uni[0]["max"] and uni[0]["min"] <= rep[0]["max"]
            gaps.append(f"- α = {a:g}: repeated {rep[0]['mean']:.1%}, unique {uni[0]['mean']:.1%} "
                        f"(difference {points(rep[0]['mean'] - uni[0]['mean'])}; seed ranges "
                        + ("overlap)" if overlap else "do not overlap)"))
    return "\n".join(gaps) or "No stored runs above α = 0."


def exp3_protocol(figures: dict[str, list[dict]]) -> tuple[str, str]:
    """(Markdown table, sentence) of the scale of each of ``figures`` (name -> its stored records)."""
    rows, parts = [], []
    for name, recs in figures.items():
        if not recs:
            continue
        c = recs[0]["config"]
        rows.append(f"| {name} | {c['dataset']} | {NAMES[c['model']]} | {c['n_clean']:,} | "
                    f"{', '.join(f'{x:g}' for x in c['lrs'])} | max({c['epochs']:g} pass, {c['min_steps']:,} steps) | "
                    f"{', '.join(str(s) for s in sorted({r['seed'] for r in recs}))} | "
                    f"{sum(results.run_seconds(r) for r in recs) / 60:.0f} min |")
        passes = sorted({round(r["metrics"]["steps"] * c["batch_size"] / r["metrics"]["slots"], 1) for r in recs})
        parts.append(f"{name}: {c['n_clean']:,} clean labels, learning rate chosen per run from "
                     f"{len(c['lrs'])} values on " + ("held-out clean images" if c["lr_select"] == "val" else
                     "the test set (our reading of the paper)")
                     + f", {passes[0]:g} to {passes[-1]:g} passes over the diluted set (more at low α).")
    table = ("| figure | data | model | clean labels | learning rates | training length | seeds | training time |\n"
             "|---|---|---|---|---|---|---|---|\n" + "\n".join(rows))
    return table, " ".join(parts) or "No stored runs yet."


def statistics_table(records: list[dict]) -> str:
    """Figure 8's training length: per run (clean labels, alpha), the test accuracy its kept evaluations give
    read with each statistic (:func:`nlcore.evaluate.restat`: the record's own ``mean_last`` evaluations, the
    learning rate chosen by that statistic on the split the record chose on), where validation
    peaked (passes over the diluted set, the middle of the peak window) and how many passes the run made
    (Markdown table)."""
    from .evaluate import restat

    rows = []
    for r in sorted(records, key=lambda r: (r["config"]["n_clean"], r["config"]["alpha"], r["seed"])):
        c, last, peak = r["config"], restat(r, "last")["metrics"]["best"], restat(r, "peak")
        e = chosen(peak)
        if e is None:
            continue
        mid = e["curve"][(e["window"][0] + e["window"][1]) // 2]["epoch"]
        best_peak = peak["metrics"]["best"]
        rows.append(f"| {c['n_clean']:,} | {c['alpha']:g} | {r['seed']} | {last['test_acc']:.1%} (lr {last['lr']:g}) | "
                    f"{best_peak['test_acc']:.1%} (lr {best_peak['lr']:g}) | "
                    f"{mid:.1f} of {e['curve'][-1]['epoch']:.3g} |")
    ks = sorted({r["config"].get("mean_last", 1) for r in records})
    k = "/".join(map(str, ks))
    head = (f"| clean labels | α | seed | test accuracy, last {k} evaluations | test accuracy where validation "
            f"peaked ({k} evaluations) | passes at the peak |\n|---|---|---|---|---|---|\n")
    return head + "\n".join(rows) if rows else "No stored runs."


def peak_text(records: list[dict], alpha: float) -> str:
    """Where each run at ``alpha`` peaked, in words, smallest clean set first: the chosen rate (read at its
    peak, :func:`nlcore.evaluate.restat`), passes over the diluted set at the middle of its peak window of
    the total, and validation accuracy at the peak (the window's mean) and over the last evaluations (the
    same number of them), with the points lost after the peak."""
    from .evaluate import restat

    def passes(x: float) -> str:
        return f"{x:.3g} pass" + ("" if f"{x:.3g}" == "1" else "es")

    parts = []
    for r in sorted(records, key=lambda r: (r["config"]["n_clean"], r["seed"])):
        if r["config"]["alpha"] != alpha or (e := chosen(restat(r, "peak"))) is None:  # every rate diverged
            continue
        lo, hi = e["window"]
        k, vals, last = hi - lo + 1, [x["val_acc"] for x in e["curve"]], e["curve"][-1]["epoch"]
        top, end = sum(vals[lo:hi + 1]) / k, sum(vals[-k:]) / k
        head = f"{r['config']['n_clean']:,} labels (rate {e['lr']:g}, seed {r['seed']}): validation "
        if hi < len(vals) - 1:
            mid = e["curve"][(lo + hi) // 2]["epoch"]
            lost = round((end - top) * 100, 1)
            parts.append(head + f"peaked at {top:.1%} after {mid:.3g} of {passes(last)} and ended "
                         + (f"at {end:.1%} ({lost:+.1f} points)" if lost else "level with it"))
        else:
            parts.append(head + f"highest at the end, {top:.1%} after {passes(last)}")
    return "; ".join(parts) if parts else f"no run at α = {alpha:g} with an accuracy is stored"


def lengths_table(rows: list[tuple[dict, dict | None, dict | None]], names: tuple[str, str]) -> str:
    """Figure 8 under two length rules (``nlcore.sweep.fig8_lengths``'s rows; ``names``: the column heads of
    the shorter and the current rule): per clean labels, alpha and seed, the test accuracy where validation
    peaked (the rate chosen there), the step of that peak window's last evaluation and the run's steps, and
    the difference (Markdown table). Only the points the shorter rule ran (no sweep trains it any more): a
    run missing under the current rule is marked "not stored yet"."""
    def cell(rec):
        if rec is None:
            return "not stored yet"
        best, e = rec["metrics"]["best"], chosen(rec)
        if e is None:
            return "diverged"
        peak = e["curve"][e["window"][1]]["step"]
        return f"{best['test_acc']:.1%} (lr {best['lr']:g}), peak at {peak:,} of {e['curve'][-1]['step']:,} steps"

    out = []
    for c, a, b in sorted((t for t in rows if t[1] is not None), key=lambda t: (t[0]["alpha"], t[0]["n_clean"],
                                                                               t[0]["seed"])):
        accs = [r and r["metrics"]["best"]["test_acc"] for r in (a, b)]
        gain = f"{(accs[1] - accs[0]) * 100:+.1f}" if None not in accs else ""
        out.append(f"| {c['n_clean']:,} | {c['alpha']:g} | {c['seed']} | {cell(a)} | {cell(b)} | {gain} |")
    head = (f"| clean labels | α | seed | {names[0]} | {names[1]} | points gained |\n"
            "|---|---|---|---|---|---|\n")
    return head + "\n".join(out) if out else "No point the shorter rule ran is stored yet."


def length_gain(rows: list[tuple[dict, dict | None, dict | None]], n_clean: int, alpha: float, seed: int = 0) -> str:
    """What Figure 8's current length reached against the shorter rule's one pass at one point (``rows``:
    :func:`nlcore.sweep.fig8_lengths`), in words, each read at its validation peak."""
    pair = [(a, b) for c, a, b in rows if (c["n_clean"], c["alpha"], c["seed"]) == (n_clean, alpha, seed) and a and b]
    if not pair:
        return "(not measured: the two runs are not both stored at this profile)"
    short, now = (r["metrics"]["best"]["test_acc"] for r in pair[0])
    return f"reached {now:.1%} where the shorter rule's run reached {short:.1%} ({points(now - short)}, seed {seed})"


def peaks_at_end(records: list[dict]) -> str:
    """Whether the training length let the runs peak: how many records read with the "peak" statistic
    (:func:`nlcore.evaluate.restat`) had their chosen rate peak in the last evaluations (level or rising at
    the end), and which of those were still climbing: validation accuracy more than :data:`CLIMBING` above
    the window of evaluations before the last (there more training would likely have added accuracy)."""
    read = [r for r in records if r["metrics"]["best"].get("report") == "peak" and r["metrics"]["best"]["lr"]]
    other = [k for k in ("model", "delta", "order", "noise_source", "repeat", "batch_size", "loss")
             if len({str(r["config"].get(k)) for r in read}) > 1]  # what else tells the runs apart
    late, climbing = 0, []
    for r in read:
        e = chosen(r)
        lo, hi = e["window"]
        if hi != len(e["curve"]) - 1:
            continue
        late += 1
        k = hi - lo + 1
        before = [x["val_acc"] for x in e["curve"][max(0, lo - k):lo]]
        now = [x["val_acc"] for x in e["curve"][lo:hi + 1]]
        if not before or sum(now) / len(now) - sum(before) / len(before) <= CLIMBING:
            continue
        c = r["config"]
        moot = {"order"} if c.get("delta") == 0 else set()  # fields a run's canonical config fixes
        moot |= {"noise_source", "repeat", "order"} if c.get("alpha") == 0 else set()
        moot |= {"repeat"} if "noise_source" in other else set()  # the source's name says whether it repeats
        extra = "".join(f", {label(k, c[k])}" for k in other if k not in moot)
        climbing.append(f"{c['n_clean']:,} clean at α = {c['alpha']:g}{extra} (seed {r['seed']})")
    if not read:
        return "No run is read at its peak yet."
    was, them = ("was", "it") if len(climbing) == 1 else ("were", "them")
    return (f"{late} of {len(read)} runs peaked in their last evaluations (level or rising when they stopped); "
            f"{len(climbing)} of them {was} still climbing, more than {CLIMBING * 100:g} points of validation "
            "accuracy above the evaluations before (there the length, not the clean labels, may have limited "
            f"{them})" + (f": {', '.join(climbing)}." if climbing else "."))


def pass_ends(record: dict, curve: list[dict]) -> list[float | None]:
    """A run of several whole passes: the test accuracy of one rate's ``curve`` at the end of each pass, the
    mean of the ``mean_last`` evaluations up to it (the record's statistic, read there); None where one of
    them diverged."""
    c = record["config"]
    passes, k = int(c["epochs"]), c["mean_last"]
    per = c["evals"] // passes
    ends = []
    for i in range(passes):
        vals = [e["test_acc"] for e in curve[(i + 1) * per - k:(i + 1) * per]]
        ends.append(None if any(v is None for v in vals) else sum(vals) / len(vals))
    return ends


def passes_table(record: dict, earlier: dict | None = None) -> str:
    """Per learning rate of a run of several passes: the test accuracy (the mean of the record's ``mean_last``
    evaluations) at the end of each pass; with ``earlier``, a stored run of the same config over one pass, the
    largest difference between the two at the evaluations made at the same steps (0 where the first pass
    repeats it exactly) (Markdown table)."""
    passes = int(record["config"]["epochs"])
    old = {} if earlier is None else {p["lr"]: p["curve"] for p in earlier["metrics"]["per_lr"]}
    head = ("| learning rate | " + " | ".join(f"end of pass {i + 1}" for i in range(passes))
            + " | first pass against the one-pass run |\n|---|" + "---|" * (passes + 1))
    rows = []
    for p in record["metrics"]["per_lr"]:
        curve = p["curve"]
        ends = ["diverged" if v is None else f"{v:.1%}" for v in pass_ends(record, curve)]
        same = "no one-pass run stored" if earlier is None else "not trained there"
        if p["lr"] in old:
            at = {e["step"]: e["test_acc"] for e in old[p["lr"]]}
            pairs = [(e["test_acc"], at[e["step"]]) for e in curve if e["step"] in at]
            if any(a is None or b is None for a, b in pairs):
                same = "diverged at a shared evaluation"
            elif not pairs:
                same = "evaluated at other steps"
            else:
                gap = max(abs(a - b) for a, b in pairs)
                where = f"at the {len(pairs)} evaluations at the same steps"
                same = f"identical {where}" if gap == 0 else f"differs by up to {gap * 100:.2f} points {where}"
        rows.append(f"| {p['lr']:g} | " + " | ".join(ends) + f" | {same} |")
    return head + "\n" + "\n".join(rows)


def two_passes_text(record: dict, one: dict | None, target: float) -> str:
    """What a second pass bought a run of two passes (``record``): its chosen rate's reported accuracy (the
    record's statistic) and last evaluation, the gain from the end of its first pass to the end of its second
    (:func:`pass_ends`), how it compares with ``target`` (the paper's value, a fraction), the stored one-pass
    run of the same config and seed (``one``) beside it, and where, how long and by which code version each
    ran, so that a reader sees what a third pass would cost."""
    def read(r: dict) -> str:
        e = chosen(r)
        if e is None:
            return "no accuracy (every rate diverged)"
        return (f"{e['test_acc']:.1%} with rate {e['lr']:g} (the mean of its last {r['config']['mean_last']} "
                f"evaluations; its last one {e['curve'][-1]['test_acc']:.1%})")

    def ran(r: dict) -> str:
        return (f"{results.duration(results.run_seconds(r))} on {r['device']}, code "
                f"`{r['code_version'][:10]}`")

    text = f"Over {record['config']['epochs']:g} passes the run reads {read(record)}"
    e, best = chosen(record), record["metrics"]["best"]["test_acc"]
    ends = [] if e is None else pass_ends(record, e["curve"])
    if len(ends) >= 2 and None not in ends[-2:]:
        text += (f"; at that rate the last pass took it from {ends[-2]:.1%} to {ends[-1]:.1%} "
                 f"({points(ends[-1] - ends[-2])})")
    if best is not None:
        text += (f". The paper states {target:.0%}: the run is {points(target - best, sign=False)} below it"
                 if best < target else f". The paper states {target:.0%}, and the run reaches it")
    if one is not None:
        text += f". Seed {one['seed']}'s one-pass run reads {read(one)}"
    text += f". The two-pass run trained {ran(record)}"
    if one is not None:
        text += f"; the one-pass run {ran(one)}"
    return text + "."


def twin_rates_text(runs: list[dict], others: list[dict], names: tuple[str, str]) -> str:
    """How far apart two runs of one config and seed read when they differ only in the rates trained beside
    each learning rate (``lrs``): for every pair (one of ``runs``, one of ``others``) whose configs differ in
    ``lrs`` alone, each shared rate's test accuracy in both. The largest gap is the floor under which a
    difference between rows of the two sweeps says nothing. ``names``: the two sweeps, in words."""
    pairs = []
    for a in runs:
        for b in others:
            differ = {k for k in set(a["config"]) | set(b["config"]) if a["config"].get(k) != b["config"].get(k)}
            if differ != {"lrs"}:
                continue
            at = {p["lr"]: p["test_acc"] for p in b["metrics"]["per_lr"] if p["test_acc"] is not None}
            pairs += [(a["config"]["model"], a["seed"], p["lr"], p["test_acc"], at[p["lr"]])
                      for p in a["metrics"]["per_lr"] if p["lr"] in at and p["test_acc"] is not None]
    if not pairs:
        return f"No run of the {names[0]} and the {names[1]} differs from the other in its rates alone."
    gap = max(abs(round(x * 100, 1) - round(y * 100, 1)) for *_, x, y in pairs) / 100  # as the text shows them
    each = "; ".join(f"{NAMES[m]} seed {seed}, rate {lr:g}: {x:.1%} against {y:.1%}" for m, seed, lr, x, y in pairs)
    return (f"Pairs of runs, one of the {names[0]} and one of the {names[1]}, whose configs differ only in the rates "
            f"trained beside each rate, read at the rates both trained: {each}. They differ by up to "
            f"{points(gap, sign=False)}: "
            "a difference between rows smaller than that is within what the rates trained alongside (the "
            "random draws each rate's model gets) change.")


def lag_text(records: list[dict], model: str, alpha: float) -> str:
    """The reported accuracy (the mean of the last ``mean_last`` evaluations of the chosen rate) beside the
    last evaluation alone, for ``model``'s runs at ``alpha``: in a run still rising the mean lags its end."""
    rs = sorted((r for r in records if r["config"]["model"] == model and r["config"]["alpha"] == alpha
                 and chosen(r) is not None), key=lambda r: r["seed"])
    if not rs:
        return ""
    k = sorted({r["config"]["mean_last"] for r in rs})
    if k == [1]:
        return ""
    seeds = ", ".join(str(r["seed"]) for r in rs)
    return (f"The reported accuracy is the mean of the last {'/'.join(map(str, k))} evaluations, which lags a run "
            f"still rising: {NAMES[model]} at α = {alpha:g} reads "
            + " and ".join(f"{chosen(r)['test_acc']:.1%}" for r in rs) + f" (seeds {seeds}), and "
            + " and ".join(f"{chosen(r)['curve'][-1]['test_acc']:.1%}" for r in rs) + " at the last evaluation.")


def edge_rates(records: list[dict]) -> str:
    """How many runs trained on a pruned pair of rates (:func:`nlcore.sweep.prune_lrs`) chose the smaller
    one, the edge of what they trained: there a still smaller rate, not trained, might have done better."""
    from .config import make_config

    pruned = [r for r in records if len(r["config"]["lrs"]) == 2 and r["metrics"]["best"]["lr"] is not None
              and len(make_config(r["config"]["profile"])["lrs"]) > 2]  # two of the profile's grid, not all
    if not pruned:
        return "No run trained a pruned pair of rates."
    edge = [r for r in pruned if chose_smallest_rate(r)]
    return (f"{len(edge)} of {len(pruned)} runs trained on two rates chose the smaller one, the edge of what "
            "they trained (a still smaller rate might have done better there).")


def critical_table(laws: dict, still_to_train=()) -> str:
    """Figure 9 with intervals: per target (rows of ``laws``, from :func:`nlcore.critical.laws`) the critical
    number of clean labels at each alpha with its interval (95%, the seed range, or with one seed the sizes
    around the crossing: :func:`nlcore.critical.interval_text`), and the fitted exponent k with its own; under
    it, the runs left out of the crossings (:func:`nlcore.critical.kept`) with what they reached.
    ``still_to_train``: the alphas whose lines have sizes still to train (:func:`nlcore.sweep.open_alphas`):
    "not reached" says "so far" where :func:`nlcore.critical.may_yet_reach`."""
    alphas = sorted({a for f in laws.values() for a in f["crossings"]})

    def cell(v, a):
        if v is None:
            return "not run"
        if v["status"] == "never":
            return (f"not reached up to {max(v['sizes']):,}" + (
                " so far (smaller sizes still to train)" if may_yet_reach(v["sizes"], a, still_to_train) else "")
                if v.get("sizes") else "not reached")
        n = f"≤ {v['n']:,.0f}" if v["status"] == "at_smallest" else f"{v['n']:,.0f}"
        return n + (interval_text(v["low"], v["high"], v["label"]) if v["status"] == "crossed" else "")

    rows = []
    for t, f in sorted(laws.items()):
        why = (f["interval"] or "").removeprefix("none: ")
        k = f"n/a ({why})" if f["k"] is None else f"{f['k']:.2f}" + (
            f" ({f['label']} {f['k_low']:.2f} to {f['k_high']:.2f})" if f["k_low"] is not None
            else f"; no interval: {why}")
        rows.append(f"| {t:.0%} | " + " | ".join(cell(f["crossings"].get(a), a) for a in alphas) + f" | {k} |")
    if not (laws and alphas):
        return "No stored runs."
    cross = next(iter(laws.values()))["crossings"]  # the seeds left out do not depend on the target
    left = "; ".join(f"seed {s} at α = {a:g} (" + ", ".join(f"{acc:.1%} at {n:,}" for n, acc in c.items()) + ")"
                     for a, v in sorted(cross.items()) for s, c in v.get("left_out", {}).items())
    return ("| target | " + " | ".join(f"α = {a:g}" for a in alphas) + " | exponent k (interval) |\n|"
            + "---|" * (len(alphas) + 2) + "\n" + "\n".join(rows)
            + (f"\n\nRuns left out of the crossings (a seed's line not complete yet, or a size the other seeds lack; "
               f"the runs kept are those that give the most runs on shared sizes): {left}." if left else ""))


def exponent_text(laws: dict) -> str:
    """Our fitted exponents k (:func:`nlcore.critical.laws`) beside the paper's: its two stated points
    (:data:`nlcore.paper.CRITICAL_N_CLEAN_90`) give k = log(n50/n10)/log(50/10) between them, and its Figure 9
    "slightly above" 1. Per target with a law: k, the alphas it rests on, and its interval or why none."""
    import math

    from .paper import CRITICAL_N_CLEAN_90

    (a1, (n1, _)), (a2, (n2, _)) = sorted(CRITICAL_N_CLEAN_90.items())
    theirs = (f"the paper's two stated points for 90% give k = log({n2:,}/{n1:,})/log({a2}/{a1}) = "
              f"{math.log(n2 / n1) / math.log(a2 / a1):.2f}, and its Figure 9 and text say slightly above 1")
    ours = []
    for t, f in sorted(laws.items()):
        if f["k"] is None:
            continue
        ci = (f"{f['label']} {f['k_low']:.2f} to {f['k_high']:.2f}: {f['interval'].removeprefix('95% ')}"
              if f["k_low"] is not None else f["interval"].replace("none: ", "no interval: ", 1))
        ours.append(f"{f['k']:.2f} at {t:.0%} (through α = {', '.join(f'{a:g}' for a in f['alphas'])}; {ci})")
    if not ours:
        return f"No target was crossed at two α > 0 yet, so no exponent is fitted; {theirs}."
    return f"Our exponent k: {'; '.join(ours)}. Beside it, {theirs}."


def against_paper(laws: dict, still_to_train=()) -> str:
    """Our critical numbers for 90% beside the two the paper states (:data:`nlcore.paper.CRITICAL_N_CLEAN_90`),
    from ``laws`` (:func:`nlcore.critical.laws` with 0.9 among its targets): per stated alpha, our crossing,
    its interval, the seeds it rests on and its ratio to the paper's number, or why there is none (Markdown
    list). ``still_to_train``: the alphas whose lines have sizes still to train (:func:`nlcore.sweep.open_alphas`),
    where "not reached" is not yet final."""
    from .paper import CRITICAL_N_CLEAN_90

    cross = laws.get(0.9, {}).get("crossings", {})
    out = []
    for a, (n_paper, quote) in sorted(CRITICAL_N_CLEAN_90.items()):
        v, ours = cross.get(float(a)), "not run yet"
        if v is not None and v["status"] == "never":
            ours = f"not reached at the sizes tried (up to {v['sizes'][-1]:,})" + (
                "; smaller sizes, each trained for more passes, are still to train"
                if may_yet_reach(v["sizes"], a, still_to_train) else "")
        elif v is not None:
            parts = [] if v["low"] is None else [
                f"between the measured sizes {bounds(v['low'], v['high'], ' and ')}" if len(v["seeds"]) == 1
                else f"{v['label']} {bounds(v['low'], v['high'])}"]
            parts.append(f"seed {v['seeds'][0]} only" if len(v["seeds"]) == 1 else
                         f"seeds {', '.join(map(str, v['seeds']))}")
            if v.get("left_out"):
                n_left = sum(map(len, v["left_out"].values()))
                parts.append(f"{n_left} run{'s' if n_left > 1 else ''} left out, named under the table")
            bound = "at most " if v["status"] == "at_smallest" else ""
            ours = f"{bound}{v['n']:,.0f} ({'; '.join(parts)}), {bound}{v['n'] / n_paper:.1f} times the paper's"
            if bound and a in still_to_train:
                ours += "; smaller sizes are still to train"
        out.append(f"- α = {a}: ours {ours}; the paper about {n_paper:,} (\"{quote}\").")
    return "\n".join(out)


def floor_text(records: list[dict], floor: float | None) -> str:
    """Figure 8's lines that stop at their largest size: where that size's seed-0 run (read as the figure reads
    it) is below ``floor``, no smaller size is trained (:func:`nlcore.sweep.descend`), so the line is one point
    until a longer run there reaches the floor. "" when no line stops there, or ``floor`` is None (a profile
    that trains every size)."""
    if floor is None:
        return ""
    stops = []
    for a in sorted({r["config"]["alpha"] for r in records}):
        line = [r for r in records if r["config"]["alpha"] == a and r["seed"] == 0]
        top = max(line, key=lambda r: r["config"]["n_clean"], default=None)
        acc = top and top["metrics"]["best"]["test_acc"]
        if acc is not None and acc < floor:
            stops.append(f"α = {a:g} ({acc:.1%} at {top['config']['n_clean']:,} clean labels)")
    return "" if not stops else (
        f"Lines that stop at their largest size, whose seed-0 run is below the floor of {floor:.0%}, so that no "
        f"smaller size is trained and the line stays one point until a longer run there reaches it: "
        + "; ".join(stops) + ".")


def line_text(cross: dict, alpha: float) -> str:
    """One line of Figure 8 in words: the mean test accuracy at each clean-set size at ``alpha``, smallest
    first, over the seeds whose line is complete, named (``cross``: :func:`nlcore.critical.crossings`, whose
    ``curve`` and ``seeds`` these are; any target)."""
    v = cross.get(float(alpha))
    if v is None or not v["curve"]:
        return f"no run at α = {alpha:g} is stored yet"
    seeds = f"seed {v['seeds'][0]}" if len(v["seeds"]) == 1 else f"mean of seeds {', '.join(map(str, v['seeds']))}"
    return (f"at α = {alpha:g} ({seeds}), " + ", ".join(f"{acc:.1%} at {n:,}" for n, acc in sorted(v["curve"].items()))
            + " clean labels")


def calculator_table(rows: list[dict], profile: str, m: int = 10, still_to_train=()) -> str:
    """The calculator's answers (:func:`nlcore.critical.answers` over the runs of ``profile``) as a Markdown
    table, one row per alpha and one column per target: the estimate and its interval (named as
    :func:`nlcore.critical.interval_text` names it), or why there is
    none; beside alpha, the label accuracy of uniform noise over ``m`` classes. ``still_to_train``: the
    alphas whose lines have sizes still to train (:func:`nlcore.sweep.open_alphas`), where "not reached" may
    not be final (:func:`nlcore.critical.may_yet_reach`)."""
    targets = sorted({r["target"] for r in rows})
    alphas = sorted({r["alpha"] for r in rows})
    if not rows or all(r.get("refused") == "no stored runs" for r in rows):
        return "No stored runs."

    def cell(r):
        if "refused" in r:  # no law through two alphas answers only where a crossing was measured
            if r.get("not_reached"):
                reached = [f"seed {s}'s {n:,}: {a:.1%}" for s, c in r.get("left_out", {}).items()
                           for n, a in c.items() if a >= r["target"]]
                line = r.get("not_reached_alpha", r["alpha"])
                where = "" if line == r["alpha"] else f" at α = {line:g}, less noise"
                return f"not reached up to {r['not_reached']:,}{where}" + (
                    " so far (smaller sizes still to train)"
                    if may_yet_reach(r["sizes_tried"], line, still_to_train) else "") + (
                    f" by the runs kept; a run left out reached it ({', '.join(reached)})" if reached else "")
            return "no law yet" if r.get("no_law") else "outside the measured range"
        n = f"≤ {r['n_clean']:,.0f}" if r["upper_bound"] else f"{r['n_clean']:,.0f}"
        return n + interval_text(r["low"], r["high"], r.get("label"))

    at = {(r["alpha"], r["target"]): r for r in rows}
    head = "| α | label accuracy | " + " | ".join(f"{t:.0%} test accuracy" for t in targets) + " |\n"
    head += "|---|---|" + "---|" * len(targets) + "\n"
    body = "\n".join(f"| {a:g} | {label_accuracy(a, m):.1%} | " + " | ".join(cell(at[a, t]) for t in targets) + " |"
                     for a in alphas)
    return head + body + f"\n\nEvery answer is from the stored runs of profile {profile}."


def share(x: float) -> str:
    """A fraction as a percentage to two significant figures, and below 10% as "1 in N" too: a break-even of
    0.02% must not print as 0.0%."""
    import math

    p = x * 100
    places = max(0, 1 - math.floor(math.log10(p))) if p > 0 else 0
    return f"{p:.{places}f}%" + (f" (1 in {round(1 / x):,})" if 0 < x < 0.1 else "")


def tradeoff_text(rows: list[dict], target: float, m: int = 10) -> str:
    """Clean labels against noisy ones at ``target`` from the calculator's answers (``rows``, with alpha = 0
    among them), in words: a source whose labels are right with probability q, wrong ones uniform over the
    other classes, has the label distribution of the diluted set of alpha(q), so reaching the target takes
    about n*(alpha) (1 + alpha) of its labels, against n*(0) clean ones; the noisy source is cheaper when a
    noisy label costs less than n*(0) / (n*(alpha) (1 + alpha)) of a clean one. The runs put the noisy
    labels on copies of the clean images (the paper's repeated images): the numbers carry over to a source
    of distinct images as far as Figure 7's "repeated and unique noisy images train alike" holds. "" where no
    alpha > 0 and alpha = 0 are both answered."""
    at = {r["alpha"]: r for r in rows if r["target"] == target and "refused" not in r}
    zero = at.pop(0.0, None)
    if zero is None or not at:
        return ""
    z = f"{'at most ' if zero['upper_bound'] else ''}{zero['n_clean']:,.0f}"
    out = []
    for a, r in sorted(at.items()):
        total = r["n_clean"] * (1 + a)
        bound = "at most " if r["upper_bound"] else ""
        across = "" if r["low"] is None or r["high"] is None else (
            f"; across {r['low']:,.0f} to {r['high']:,.0f} clean labels' worth ({r.get('interval') or 'its interval'}) "
            f"the break-even is {share(zero['n_clean'] / (r['high'] * (1 + a)))} to "
            f"{share(zero['n_clean'] / (r['low'] * (1 + a)))}")
        ratio = "" if r["upper_bound"] else (
            f"; it pays when a noisy label costs less than {share(zero['n_clean'] / total)} of a clean one"
            + (f" (less still if fewer than {zero['n_clean']:,.0f} clean labels suffice)" if zero["upper_bound"]
               else "") + across)
        out.append(f"- α = {a:g} (labels right with probability {label_accuracy(a, m):.1%}): {bound}"
                   f"{r['n_clean']:,.0f} clean labels' worth, that is {bound}{total:,.0f} labels from the noisy "
                   f"source{ratio}.")
    return (f"Reaching {target:.0%} from clean labels alone takes {z} of them (α = 0). From a noisy source, by "
            "our runs:\n\n" + "\n".join(out)) if out else ""


def fig11_variant(s: dict) -> str:
    """The name of a Figure 11 line: its batch size, or the noisy loss H_alpha."""
    return "H_α (infinite batch)" if s["loss"] == "h_alpha" else f"batch {s['batch_size']}"


def fig11_lines(s11: list[dict]) -> str:
    """Figure 11 at its largest alpha: each batch size and H_alpha (the mean over seeds, the lowest and highest
    seed in brackets), the claim *larger batches are more robust* scored by the front page's rule
    (:func:`nlcore.claims.fig11_verdict`), and whether H_alpha degrades from alpha = 0 (Markdown list)."""
    from .claims import fig11_verdict

    top = max((s["alpha"] for s in s11), default=None)
    at_top = {fig11_variant(s): s for s in s11 if s["alpha"] == top and s["mean"] is not None}
    batches = sorted((s for s in at_top.values() if s["loss"] == "ce"), key=lambda s: s["batch_size"])
    mono = all(a["mean"] <= b["mean"] for a, b in zip(batches, batches[1:]))
    h = [s for s in s11 if s["loss"] == "h_alpha" and s["mean"] is not None]
    h0 = next((s for s in h if s["alpha"] == 0), None)
    ht = next((s for s in h if s["alpha"] == top), None)
    lines = [f"- At α = {top:g}: " + ", ".join(f"{fig11_variant(s)} {span(s)}" for s in batches)
             + (f"; H_α {span(ht)}" if ht else "") + "."] if top is not None else []
    v = fig11_verdict([s for s in s11 if s["loss"] == "ce"])
    if v is not None and v["verdict"] is not None:
        lines.append(f"- *Larger batches are more robust*: at α = {v['alpha']:g} batch {v['large']['batch_size']} "
                     f"against batch {v['small']['batch_size']}: {points(v['gain'])} (largest spread between seeds "
                     f"of either point: {points(v['spread'], sign=False)}). Verdict: **{v['verdict']}** "
                     f"({v['why']}). The accuracy "
                     + ("rises with every doubling of the batch." if mono else
                        "does not rise with every doubling of the batch."))
    if h0 and ht:
        lines.append(f"- *H_α does not degrade with α*: {h0['mean']:.1%} at α = 0, {ht['mean']:.1%} at α = {top:g} "
                     f"(change {points(ht['mean'] - h0['mean'])}).")
    return "\n".join(lines) or "No stored runs."


def fig12_text(records: list[dict]) -> str:
    """Figure 12: the best learning rate at each alpha on the test set and on the validation split."""
    best = analysis.best_lr_by_alpha(analysis.per_lr(records, "test"))
    if not best:
        return "No stored runs."
    val_best = analysis.best_lr_by_alpha(analysis.per_lr(records, "val"))

    def margin(split: str, a: float, lr: float) -> str:  # rate lr's lead over the next best (means over seeds)
        mean = analysis.mean_acc_by_lr(analysis.per_lr(records, split), a)
        others = {x: m for x, m in mean.items() if x != lr}
        if not others:
            return ""
        runner = max(others, key=others.get)
        return f" ({points(mean[lr] - mean[runner])} over {runner:g})"

    return ("Best learning rate on the test set by α (its lead over the next best rate): "
            + ", ".join(f"α = {a:g}: {lr:g}{margin('test', a, lr)}" for a, lr in best.items())
            + ". On the held-out validation split: "
            + ", ".join(f"α = {a:g}: {lr:g}{margin('val', a, lr)}" for a, lr in val_best.items())
            + ". " + ("The best rate at the largest α is lower than without noise, as the paper reports."
                      if list(best.values())[-1] < list(best.values())[0] else
                      "The best rate does not fall from α = 0 to the largest α in our runs.")
            + (" Without noise the best rate is 1, as the paper says." if best.get(0.0) == 1.0 else
               f" Without noise our best rate is {best.get(0.0, float('nan')):g} (the paper: 1)."))


def fig1_points(summary: list[dict], models, alphas=(0, 10, 50, 100)) -> tuple[str, dict]:
    """(Markdown table, {"<model>_<alpha>": text}) of Figure 1's mean test accuracy at each model and alpha."""
    def acc(model, a):
        s = [x for x in summary if x["model"] == model and x["alpha"] == a and x["mean"] is not None]
        return f"{s[0]['mean']:.1%}" if s else "n/a (not run at this profile)"

    table = ("| model | " + " | ".join(f"α={a}" for a in alphas) + " |\n|---|" + "---|" * len(alphas) + "\n"
             + "\n".join(f"| {NAMES[m]} | " + " | ".join(acc(m, a) for a in alphas) + " |" for m in models))
    return table, {f"{m}_{a}": acc(m, a) for m in models for a in alphas}


def fig1_ranking(summary: list[dict], models) -> dict:
    """The paper's ranking at the largest alpha run (``top_alpha``): ``ranking`` (best first) and
    ``ordering_holds`` ("holds" when every model is there, the ConvNet first and the perceptron last)."""
    top = max((s["alpha"] for s in summary if s["mean"] is not None), default=None)
    at_top = sorted((s for s in summary if s["alpha"] == top and s["mean"] is not None), key=lambda s: -s["mean"])
    holds = len(at_top) == len(models) and at_top[0]["model"] == "convnet4" and at_top[-1]["model"] == "perceptron"
    return dict(top=top, top_alpha=f"{top:g}" if top is not None else "n/a",
                ranking=" > ".join(f"{NAMES[s['model']]} ({s['mean']:.1%})" for s in at_top) or "n/a",
                ordering_holds="holds" if holds else "does not hold")


def fig1_verdicts(records: list[dict], summary: list[dict], scored: dict) -> str:
    """Figure 1 at the paper's scale in words (Markdown): the ranking at the largest alpha with its caveat
    (:func:`fig1_ranking`, :func:`last_interval`), the front page's verdict on each of the paper's stated
    numbers (``scored``: model -> a :mod:`nlcore.claims` row, its own scale named) and how the reported mean
    lags the ConvNet's rising runs (:func:`lag_text`)."""
    from . import sweep

    rank = fig1_ranking(summary, sweep.FIGURES["fig1"]["models"])
    stated = {m: a for (f, m, al), (a, _) in paper.ACCURACY.items() if f == "fig1" and al == 100}
    lines = [f"- {NAMES[m]} at α = 100 (paper: {'' if m == 'convnet4' else 'about '}{stated[m]:.0%}): "
             f"**{v['verdict']}** ({v['why']}). Ours: {v['ours']} ({v['scale']})." for m, v in scored.items()]
    return (f"At α = {rank['top_alpha']} the models rank {rank['ranking']}: the paper's ordering (the ConvNet most "
            f"robust, the perceptron least) {rank['ordering_holds']} at this scale. "
            + last_interval(records, summary, rank["top"])["ordering_caveat"]
            + " The front page scores the paper's two stated numbers over the stored runs:\n\n" + "\n".join(lines)
            + "\n\n" + lag_text(records, "convnet4", 100))


def paper_profile_table(big: list[dict], summary: list[dict], profile: str, stated: dict) -> str:
    """Runs at the paper's scale (``big``: one seed, one clean-set size and length), each beside ours at
    ``profile`` and the paper's number (``stated``: (model, alpha) -> fraction), with the device, wall time
    and code version it ran with."""
    ours = {(s["model"], s["alpha"]): f"{s['mean']:.1%}" for s in summary if s["mean"] is not None}
    rows = []
    for r in sorted(big, key=lambda r: (r["config"]["model"], r["config"]["alpha"])):
        m, a, b = r["config"]["model"], r["config"]["alpha"], r["metrics"]["best"]
        paper_value = stated.get((m, int(a)))
        rows.append(f"| {NAMES[m]} | {a:g} | {b['test_acc']:.1%} (lr {b['lr']:g}) | {ours.get((m, a), 'n/a')} | "
                    f"{'–' if paper_value is None else f'{paper_value:.0%}'} | {r['device']}, "
                    f"{results.run_seconds(r):.0f} s | `{r['code_version'][:10]}` |")
    if not rows:
        return "No paper-profile run of Figure 1 is stored."
    run = big[0]["config"]
    passes = f"{run['epochs']:g} pass" + ("" if run["epochs"] == 1 else "es")
    return (f"| model | α | {run['n_clean']:,} clean, {passes} (seed {run['seed']}) | "
            f"profile {profile} | paper | device, wall time | code |\n"
            "|---|---|---|---|---|---|---|\n" + "\n".join(rows))
