"""The fidelity tables of Experiment 1 (the ablation, the lineage, the training length, the validation split),
computed from stored records; nothing here trains. The other chapters' findings are in :mod:`nlcore.findings`.

Each function takes records (``nlcore.results``) or summary rows (``results.summarize``) and returns
Markdown, so a chapter's prose says what the stored runs say and no number is typed by hand.
Accuracies are fractions in [0, 1]; they are printed as percentages with one decimal.
"""

from __future__ import annotations

from . import paper, results
from .evaluate import select_lr
from .plots import FIELD_NAMES, NAMES


def pct(x) -> str:
    return "–" if x is None else f"{x:.1%}"


def points(x: float, sign: bool = True) -> str:
    """A difference of two accuracies (fractions) in percentage points, e.g. ``+2.5 points``."""
    return f"{round(x * 100, 1) + 0.0:{'+' if sign else ''}.1f} points"  # + 0.0: no "-0.0"


def spread(s: dict) -> str:
    """'mean (min–max, n seeds)' of one summary row, or the single seed's value."""
    if s["mean"] is None:
        return "all rates diverged"
    if s["n_seeds"] == 1:
        return f"{pct(s['mean'])} (seed {s['seeds'][0]} only)"
    return f"{pct(s['mean'])} ({pct(s['min'])}–{pct(s['max'])}, {s['n_seeds']} seeds)"


def span(s: dict) -> str:
    """'mean (lowest–highest seed)' of one summary row, compact for a list of points; the mean alone for one
    seed (the list says how many seeds it averages)."""
    if s["mean"] is None:
        return "all rates diverged"
    return pct(s["mean"]) if s["n_seeds"] == 1 else f"{pct(s['mean'])} ({pct(s['min'])}–{pct(s['max'])})"


def chosen(record: dict) -> dict | None:
    """The per-lr entry of the learning rate the run chose (None if every rate diverged)."""
    lr = record["metrics"]["best"]["lr"]
    return None if lr is None else next(p for p in record["metrics"]["per_lr"] if p["lr"] == lr)


def end_window(record: dict) -> int:
    """How many evaluations :func:`last_change` averages at a run's end: the run's ``mean_last`` (the window
    its reported accuracy averages), or 1 when it has fewer than twice that many evaluations."""
    k = record["config"].get("mean_last", 1)
    e = chosen(record)
    return k if e is not None and len(e["curve"]) >= 2 * k else 1


def end_words(k: int) -> str:
    """The change :func:`last_change` measures with window ``k``, in words."""
    return "over the last evaluation interval" if k == 1 else \
        f"from the mean of the {k} evaluations before the last {k} to theirs"


def last_change(record: dict) -> float | None:
    """Whether the run was still learning when it stopped: the chosen rate's mean test accuracy over its last
    :func:`end_window` evaluations minus that over the same number before them (with a window of 1, the last
    evaluation interval). One measure for the chapters' tables and the front page's caveats (None: one
    evaluation, or every rate diverged)."""
    e = chosen(record)
    if e is None or len(e["curve"]) < 2:
        return None
    k, acc = end_window(record), [c["test_acc"] for c in e["curve"]]
    return sum(acc[-k:]) / k - sum(acc[-2 * k:-k]) / k


def end_drift(records: list[dict], field: str) -> float | None:
    """Mean over records of ``field`` (``dark_drift`` / ``lit_drift``) at the chosen rate's last evaluation."""
    vals = [e["curve"][-1].get(field) for e in map(chosen, records) if e is not None]
    vals = [v for v in vals if v is not None]
    return sum(vals) / len(vals) if vals else None


def value(field: str, v) -> str:
    """A config value in a table cell under its field's name: a word where one is defined (``keras``: Keras's),
    else as stored."""
    return {("init", "keras"): "Keras's", ("init", "torch"): "torch's", ("inputs", "unit"): "x / 255"}.get(
        (field, v), f"{v:g}" if isinstance(v, float) else str(v))


def ablation_table(records: list[dict], fields: tuple[str, ...]) -> str:
    """One row per model and value of ``fields``: test accuracy of the chosen rate over seeds, the rates
    chosen, and how far the first layer's weights on always-dark pixels moved (RMS, for dense models)."""
    by = ("model", *fields)
    head = ("| model | " + " | ".join(FIELD_NAMES.get(f, f) for f in fields)
            + " | test accuracy | lr chosen (per seed) | dark-pixel weight drift |")
    rows = [head, "|" + "---|" * (len(by) + 3)]
    for s in results.summarize(records, by=by):
        rs = [r for r in records if r["key"] in s["keys"]]
        drift = end_drift(rs, "dark_drift")
        moot = {"mlp_dropout"} if s["model"] == "perceptron" else set()  # no hidden layer to drop out of
        rows.append(f"| {NAMES.get(s['model'], s['model'])} | " + " | ".join("–" if f in moot else value(f, s[f])
                                                                               for f in fields)
                    + f" | {spread(s)} | {', '.join(f'{x:g}' for x in s['lrs'])} | "
                    + ("–" if drift is None else f"{drift:.4f}") + " |")
    return "\n".join(rows)


def best_of(records: list[dict], fields: tuple[str, ...], model: str) -> dict | None:
    """The summary row of ``model`` with the highest mean test accuracy over the values of ``fields``."""
    rows = [s for s in results.summarize(records, by=("model", *fields)) if s["model"] == model and s["mean"]]
    return max(rows, key=lambda s: s["mean"], default=None)


def vs_paper(summary: list[dict], figure: str, models, alphas) -> str:
    """Ours (mean, spread over seeds) at each model and alpha, with the paper's stated value where it has one."""
    stated = {(p["model"], p["alpha"]): p["accuracy"] for p in paper.points(figure)}
    by = {(s["model"], s["alpha"]): s for s in summary}
    rows = ["| model | " + " | ".join(f"α = {a:g}" for a in alphas) + " |", "|---|" + "---|" * len(alphas)]
    for m in models:
        cells = []
        for a in alphas:
            s = by.get((m, float(a)))
            cell = "not stored yet" if s is None else spread(s)
            if (m, a) in stated:
                cell += f"; paper: {stated[(m, a)]:.0%}"
            cells.append(cell)
        rows.append(f"| {NAMES.get(m, m)} | " + " | ".join(cells) + " |")
    return "\n".join(rows)


def split_table(records: list[dict]) -> str:
    """Held-out validation split against the test set as the chooser of the learning rate: per model and
    split, the test accuracy of the chosen rate over seeds, the rates chosen, and, for runs that chose on
    the validation split, the rates the test set would have chosen from the same runs."""
    rows = ["| model | clean images | rate chosen on | test accuracy | lr chosen (per seed) | "
            "the test set would choose |", "|---|---|---|---|---|---|"]
    for s in results.summarize(records, by=("model", "n_clean", "lr_select")):
        rs = sorted((r for r in records if r["key"] in s["keys"]), key=lambda r: r["seed"])
        on_test = [select_lr(r["metrics"]["per_lr"], "test") for r in rs] if s["lr_select"] == "val" else None
        rows.append(f"| {NAMES.get(s['model'], s['model'])} | {s['n_clean']:,} | {s['lr_select']} | {spread(s)} | "
                    f"{', '.join(f'{x:g}' for x in s['lrs'])} | "
                    + ("–" if on_test is None else ", ".join(f"{b['lr']:g} ({pct(b['test_acc'])})" for b in on_test))
                    + " |")
    return "\n".join(rows)



def factor_effects(records: list[dict], fields: tuple[str, ...]) -> str:
    """For each field of a factorial ablation and each model: the mean test accuracy (chosen rate, over seeds
    and the other fields' values) at each of the field's values, and the difference between the first two
    values (values in the order the sweep lists them first). Each field's effect is set beside the largest
    spread between the seeds of one row (min to max, :func:`nlcore.results.summarize` over the model and
    ``fields``): an effect within it, for every model, is no measurable difference at these seeds."""
    lines = []
    rows = results.summarize(records, by=("model", *fields))
    floor = max((s["max"] - s["min"] for s in rows if s["mean"] is not None and s["n_seeds"] > 1), default=None)
    for f in fields:
        values = list(dict.fromkeys(r["config"][f] for r in records))
        if len(values) < 2:
            continue
        parts, effects = [], []
        for m in dict.fromkeys(r["config"]["model"] for r in records):
            means = []
            for v in values[:2]:
                accs = [r["metrics"]["best"]["test_acc"] for r in records if r["config"]["model"] == m
                        and r["config"][f] == v and r["metrics"]["best"]["test_acc"] is not None]
                means.append(sum(accs) / len(accs) if accs else None)
            if None not in means:
                parts.append(f"{NAMES.get(m, m)} {pct(means[0])} against {pct(means[1])} "
                             f"({points(means[0] - means[1])})")
                effects.append(abs(means[0] - means[1]))
        if parts:
            verdict = ""
            if floor is not None:
                verdict = (f" Every model moves by more than the largest spread between the seeds of one row "
                           f"({floor * 100:.1f} points)" if min(effects) > floor else
                           f" Within the largest spread between the seeds of one row ({floor * 100:.1f} points) "
                           "for every model: no measurable difference at these seeds" if max(effects) <= floor else
                           f" Beyond the largest spread between the seeds of one row ({floor * 100:.1f} points) "
                           "for some models only")
                verdict += "."
            lines.append(f"- **{FIELD_NAMES.get(f, f)} {value(f, values[0])} against {value(f, values[1])}** (mean "
                         "over seeds and the other choices): "
                         + "; ".join(parts) + "." + verdict)
    return "\n".join(lines) or "No ablation run is stored yet."


def plateau_table(records: list[dict], window: int = 3) -> str:
    """Per model and alpha: the chosen rate's test accuracy averaged over the last ``window`` evaluations,
    and its change from the ``window`` evaluations before them (mean over seeds; :func:`last_change`, the
    front page's measure, for runs whose ``mean_last`` is ``window``): a run still learning at the end of
    its pass shows a clear gain; one that levelled off, a change within the evaluation swing. Time: the mean
    over the row's CPU runs only (a GPU run's wall time is not what a CPU pass costs); "–" where it has none."""
    rows = [f"| model | α | mean of the last {window} evaluations | change from the {window} before | seeds | "
            "CPU time per run (all its rates) |", "|---|---|---|---|---|---|"]
    for s in results.summarize(records):
        last, change, secs = [], [], []
        for r in (r for r in records if r["key"] in s["keys"]):
            r = dict(r, config=dict(r["config"], mean_last=window))
            if last_change(r) is None or end_window(r) != window:
                continue
            acc = [c["test_acc"] for c in chosen(r)["curve"]]
            last.append(sum(acc[-window:]) / window)
            change.append(last_change(r))
            if r["device"].startswith("cpu"):
                secs.append(results.run_seconds(r))
        if last:
            rows.append(f"| {NAMES.get(s['model'], s['model'])} | {s['alpha']:g} | {pct(sum(last) / len(last))} | "
                        f"{sum(change) / len(change) * 100:+.1f} points | {len(last)} | "
                        + (f"{results.duration(sum(secs) / len(secs))} |" if secs else "– |"))
    return "\n".join(rows)


def init_drift_table(records: list[dict]) -> str:
    """Per initialisation, MLP dropout and learning rate (perceptron and MLPs): the first layer's initial weight
    RMS, how far its weights on lit pixels moved in the run (RMS, end of the pass) and the test accuracy (means
    over the seeds of one config).
    What the pass learned must outgrow what the initialisation put there: where the movement is smaller than
    the initial weights, the initialisation's random part still sets much of the prediction."""
    import torch

    from . import models

    rows = ["| model | init | dropout | initial weight RMS | lr | weights moved (RMS, lit pixels) | test accuracy "
            "| seeds |", "|---|---|---|---|---|---|---|---|"]
    groups: dict = {}
    for r in records:
        c = r["config"]
        for p in r["metrics"]["per_lr"]:
            if p["diverged"] or not p["curve"] or p["curve"][-1].get("lit_drift") is None:
                continue
            key = (c["model"], c["init"], c.get("mlp_dropout", 0.0) if c["model"] != "perceptron" else 0.0, p["lr"])
            groups.setdefault(key, []).append((p["curve"][-1]["lit_drift"], p["test_acc"]))
    for (model, init, dropout, lr), vals in sorted(groups.items()):
        torch.manual_seed(0)
        w = models.build(model, 1, 28, 10, init=init)[1].weight
        rms = float(w.detach().pow(2).mean().sqrt())
        drift = sum(v[0] for v in vals) / len(vals)
        acc = sum(v[1] for v in vals) / len(vals)
        rows.append(f"| {NAMES.get(model, model)} | {init} | {'–' if model == 'perceptron' else f'{dropout:g}'} | "
                    f"{rms:.4f} | {lr:g} | {drift:.4f} | {pct(acc)} | {len(vals)} |")
    return "\n".join(rows)
