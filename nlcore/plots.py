"""Plotly figures of stored results, with the paper's stated numbers beside ours.

Figures work in static HTML: sliders move over precomputed traces, nothing needs
a kernel. :func:`show` renders for the book (HTML that uses the plotly.js the book
serves itself, no CDN) when ``NLCORE_BOOK=1``, and as a normal plotly figure in a
live Jupyter kernel otherwise.
"""

from __future__ import annotations

import hashlib

import plotly.graph_objects as go

from . import paper, switches

NAMES = {"perceptron": "Perceptron", "mlp1": "MLP, 1 hidden layer", "mlp2": "MLP, 2 hidden layers",
         "mlp4": "MLP, 4 hidden layers", "convnet2": "ConvNet, 2 layers", "convnet4": "ConvNet, 4 layers",
         "convnet6": "ConvNet, 6 layers", "resnet18": "ResNet-18", "resnet101": "ResNet-101"}
ALPHA_AXIS = "α (noisy labels per clean label)"  # every axis and slider writes alpha this way
COLORS = {"perceptron": "#1f77b4", "mlp1": "#ff7f0e", "mlp2": "#2ca02c", "mlp4": "#d62728", "convnet4": "#9467bd",
          "convnet2": "#8c564b", "convnet6": "#e377c2", "resnet18": "#7f7f7f", "resnet101": "#17becf"}


def show(fig: go.Figure) -> None:
    """Display ``fig``: self-contained-free HTML in the book build, the default renderer elsewhere."""
    if switches.book():
        from IPython.display import HTML, display

        # the div's id from the figure itself, not a random one: a rebuilt chapter changes only if its figures do
        div_id = "fig-" + hashlib.sha256(fig.to_json().encode()).hexdigest()[:16]
        display(HTML(fig.to_html(include_plotlyjs=False, include_mathjax=False, full_html=False, div_id=div_id,
                                 config={"displaylogo": False})))
    else:
        fig.show()


def accuracy_vs_alpha(summary: list[dict], figure: str, title: str) -> go.Figure:
    """Test accuracy (mean over seeds, min-max band as error bars) against alpha, one line per model,
    with the paper's stated points as open diamonds."""
    fig = go.Figure()
    models = list(dict.fromkeys(s["model"] for s in summary))
    for m in models:
        rows = [s for s in summary if s["model"] == m and s["mean"] is not None]
        fig.add_trace(go.Scatter(
            x=[s["alpha"] for s in rows], y=[s["mean"] for s in rows], mode="lines+markers", name=NAMES.get(m, m),
            line=dict(color=COLORS.get(m)),
            error_y=dict(type="data", symmetric=False, array=[s["max"] - s["mean"] for s in rows],
                         arrayminus=[s["mean"] - s["min"] for s in rows], thickness=1),
            hovertext=[hover(s, ("model", "alpha")) for s in rows], hoverinfo="text"))
    for p in paper.points(figure):
        fig.add_trace(go.Scatter(
            x=[p["alpha"]], y=[p["accuracy"]], mode="markers", name=f"paper: {NAMES.get(p['model'], p['model'])}",
            marker=dict(symbol="diamond-open", size=13, color=COLORS.get(p["model"]), line=dict(width=2)),
            hovertext=[f"paper (text): {p['quote']}"], hoverinfo="text"))
    fig.update_layout(title=title, xaxis_title=ALPHA_AXIS,
                      yaxis_title="test accuracy", yaxis=dict(range=[0, 1], tickformat=".0%"),
                      template="plotly_white", legend=dict(orientation="v"), height=480)
    return fig


def bars_with_alpha_slider(summary: list[dict], figure: str, title: str) -> go.Figure:
    """Per-model test accuracy at one alpha, ours beside the paper's stated values; a slider picks alpha.

    The slider restyles two bar traces over precomputed values (works in static HTML).
    """
    models = list(dict.fromkeys(s["model"] for s in summary))
    alphas = sorted({s["alpha"] for s in summary})
    stated = {(p["model"], p["alpha"]): p["accuracy"] for p in paper.points(figure)}
    by = {(s["model"], s["alpha"]): s for s in summary}

    def ys(a):
        ours = [by[(m, a)]["mean"] if (m, a) in by else None for m in models]
        err = [by[(m, a)]["std"] if (m, a) in by else None for m in models]
        hov = [hover(by[(m, a)], ("model", "alpha")) if (m, a) in by and by[(m, a)]["mean"] is not None else "not run"
               for m in models]
        theirs = [stated.get((m, a)) for m in models]
        return ours, err, hov, theirs

    labels = [NAMES.get(m, m) for m in models]
    ours, err, hov, theirs = ys(alphas[0])
    fig = go.Figure([
        go.Bar(x=labels, y=ours, name="ours (mean ± std over seeds)", error_y=dict(type="data", array=err),
               hovertext=hov, hoverinfo="text", marker_color="#4c72b0"),
        go.Bar(x=labels, y=theirs, name="paper (stated in text)", marker_color="#dd8452"),
    ])
    steps = []
    for a in alphas:
        o, e, h, t = ys(a)
        steps.append(dict(method="restyle", label=f"{a:g}",
                          args=[{"y": [o, t], "error_y.array": [e, None], "hovertext": [h, None]}]))
    fig.update_layout(title=title, barmode="group", yaxis=dict(range=[0, 1], tickformat=".0%", title="test accuracy"),
                      template="plotly_white", height=480,
                      sliders=[dict(active=0, currentvalue=dict(prefix="α = "), steps=steps, pad=dict(t=60))])
    return fig


def learning_curves(records: list[dict], title: str) -> go.Figure:
    """Test accuracy of the chosen learning rate at each evaluation, one line per (model, seed);
    a slider picks alpha (one slider toggling trace visibility, so it works in static HTML)."""
    alphas = sorted({r["config"]["alpha"] for r in records})
    fig, owner = go.Figure(), []
    for a in alphas:
        runs = [r for r in records if r["config"]["alpha"] == a]
        for r in sorted(runs, key=lambda r: (r["config"]["model"], r["seed"])):
            best = r["metrics"]["best"]
            if best["lr"] is None:
                continue
            (entry,) = [p for p in r["metrics"]["per_lr"] if p["lr"] == best["lr"]]
            m = r["config"]["model"]
            fig.add_trace(go.Scatter(
                x=[c["step"] for c in entry["curve"]], y=[c["test_acc"] for c in entry["curve"]], mode="lines+markers",
                name=f"{NAMES.get(m, m)} (seed {r['seed']})",
                line=dict(color=COLORS.get(m), dash="solid" if r["seed"] == 0 else "dot"),
                visible=a == alphas[0], legendgroup=m,
                hovertext=[f"{NAMES.get(m, m)}, alpha={a:g}, lr {best['lr']:g}, seed {r['seed']}<br>step {c['step']}: "
                           f"test {c['test_acc']:.1%}, train loss {c['train_loss']:.3f}" for c in entry["curve"]],
                hoverinfo="text"))
            owner.append(a)
    steps = [dict(method="update", label=f"{a:g}", args=[{"visible": [o == a for o in owner]}]) for a in alphas]
    fig.update_layout(title=title, xaxis_title="optimiser step",
                      yaxis=dict(range=[0, 1], tickformat=".0%", title="test accuracy"),
                      template="plotly_white", height=480,
                      sliders=[dict(active=0, currentvalue=dict(prefix="α = "), steps=steps, pad=dict(t=50))])
    return fig


def chosen_curves(records: list[dict], fields: tuple[str, ...], *, title: str, y: str = "test_acc",
                  ytitle: str = "test accuracy") -> go.Figure:
    """Curve ``y`` of each run's chosen learning rate against passes over the diluted set, one line per run,
    coloured by the values of ``fields`` (dotted: seeds after the first). ``y``: ``test_acc``, ``val_acc``,
    ``train_loss``, ``dark_drift`` or ``lit_drift`` of the stored evaluations."""
    palette = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b"]
    groups = sorted({tuple(r["config"][f] for f in fields) for r in records}, key=str)
    fig = go.Figure()
    for r in sorted(records, key=lambda r: (str(tuple(r["config"][f] for f in fields)), r["seed"])):
        best = r["metrics"]["best"]
        if best["lr"] is None:
            continue
        (entry,) = [p for p in r["metrics"]["per_lr"] if p["lr"] == best["lr"]]
        g = tuple(r["config"][f] for f in fields)
        name = ", ".join(label(f, v) for f, v in zip(fields, g))
        fig.add_trace(go.Scatter(
            x=[c["epoch"] for c in entry["curve"]], y=[c.get(y) for c in entry["curve"]], mode="lines+markers",
            name=f"{name} (seed {r['seed']}, lr {best['lr']:g})",
            line=dict(color=palette[groups.index(g) % len(palette)], dash="solid" if r["seed"] == 0 else "dot")))
    pct = y.endswith("acc")
    fig.update_layout(title=title, xaxis_title="passes over the diluted set", template="plotly_white", height=440,
                      yaxis=dict(title=ytitle, tickformat=".0%" if pct else None, range=[0, 1] if pct else None))
    return fig


# ----------------------------------------------------------------------------- every other figure

FIELD_NAMES = {"alpha": "α", "delta": "δ", "order": "order", "noise_source": "noise source", "repeat": "images",
               "n_clean": "clean labels", "batch_size": "batch size", "loss": "loss", "model": "model",
               "inputs": "inputs", "rho": "AdaDelta ρ", "eps": "AdaDelta ε", "mlp_dropout": "MLP dropout",
               "init": "initialisation"}
VALUE_NAMES = {("noise_source", "same"): "same dataset (repeated)", ("noise_source", "other"): "CIFAR-100 images",
               ("noise_source", "white"): "white noise", ("repeat", True): "repeated", ("repeat", False): "unique",
               ("loss", "h_alpha"): "H_α (infinite batch)", ("loss", "ce"): "cross-entropy",
               ("init", "keras"): "Keras's initialisation (Glorot-uniform, zero biases)",
               ("init", "torch"): "torch's initialisation", ("order", "confusing"): "confusing order",
               ("order", "reverse"): "reverse order", ("order", "random"): "random order",
               ("inputs", "unit"): "inputs x / 255", ("inputs", "standardized"): "standardized inputs"}


def label(field: str, value) -> str:
    """How a config value reads in a legend."""
    if field == "model":
        return NAMES.get(value, value)
    if (field, value) in VALUE_NAMES:
        return VALUE_NAMES[(field, value)]
    return f"{FIELD_NAMES.get(field, field)} = {value:g}" if isinstance(value, (int, float)) else str(value)


def hover(s: dict, fields) -> str:
    """Hover text of one summary row: its config fields, accuracy over seeds, lrs chosen, profile."""
    head = ", ".join(label(f, s[f]) if f in ("model", "noise_source", "repeat", "loss") else
                     f"{FIELD_NAMES.get(f, f)}={s[f]:g}" if isinstance(s[f], (int, float)) else label(f, s[f])
                     for f in fields)
    lrs = ", ".join(f"{lr:g}" for lr in s["lrs"])
    # the mean, with the std (the bar charts' error bars) and the min to max (the line plots' error bars)
    acc = (f"{s['mean']:.1%} (mean over seeds {s['seeds']}: std {s['std']:.1%}, min {s['min']:.1%} to max "
           f"{s['max']:.1%})" if len(s["seeds"]) > 1 else f"{s['mean']:.1%} (seed {s['seeds'][0]} only)")
    return (f"{head}<br>test accuracy {acc}"
            f"<br>lr chosen on {'/'.join(s['selected_on'])}: {lrs}<br>profile {'/'.join(s['profile'])}"
            + (f"<br>seeds where every lr diverged (left out): {s['diverged']}" if s["diverged"] else "")
            + (f"<br>{s['shared']}" if s.get("shared") else ""))


PALETTE = ["#4c72b0", "#dd8452", "#55a868", "#c44e52", "#8172b3", "#937860", "#da8bc3", "#8c8c8c"]


def lines(summary: list[dict], x: str, by: str, *, title: str, xlabel: str, log_x: bool = False,
          paper_points=()) -> go.Figure:
    """Mean test accuracy over seeds against field ``x``, one line per value of field ``by``, with a
    band from the lowest to the highest seed. ``paper_points``: dicts with x, y, text (open diamonds, unless
    they name a ``symbol`` and ``color``)."""
    fig = go.Figure()
    fields = [f for f in summary[0] if f in FIELD_NAMES] if summary else []
    for i, g in enumerate(dict.fromkeys(s[by] for s in summary)):
        rows = sorted((s for s in summary if s[by] == g and s["mean"] is not None), key=lambda s: s[x])
        color = PALETTE[i % len(PALETTE)]
        if any(s["n_seeds"] > 1 for s in rows):
            xs = [s[x] for s in rows]
            fig.add_trace(go.Scatter(x=xs + xs[::-1], y=[s["max"] for s in rows] + [s["min"] for s in rows][::-1],
                                     fill="toself", fillcolor=color, opacity=0.18, line=dict(width=0),
                                     hoverinfo="skip", showlegend=False, legendgroup=str(g)))
        fig.add_trace(go.Scatter(x=[s[x] for s in rows], y=[s["mean"] for s in rows], mode="lines+markers",
                                 name=label(by, g), line=dict(color=color), legendgroup=str(g),
                                 hovertext=[hover(s, fields) for s in rows], hoverinfo="text"))
    for p in paper_points:
        fig.add_trace(go.Scatter(x=[p["x"]], y=[p["y"]], mode="markers", name=p.get("name", "paper (text)"),
                                 marker=dict(symbol=p.get("symbol", "diamond-open"), size=13,
                                             color=p.get("color", "black"), line=dict(width=2)),
                                 hovertext=[p["text"]], hoverinfo="text"))
    fig.update_layout(title=title, xaxis_title=xlabel, template="plotly_white", height=460,
                      yaxis=dict(range=[0, 1], tickformat=".0%", title="test accuracy"))
    if log_x:
        fig.update_xaxes(type="log")
    return fig


def bars_with_slider(summary: list[dict], slider: str, x: str, by: str | None = None, *, title: str) -> go.Figure:
    """Bars of mean test accuracy (± std over seeds) at each value of field ``x`` (one bar group per value
    of ``by``); a slider over the values of field ``slider`` restyles them (precomputed: works in static HTML)."""
    summary = [s for s in summary if s["mean"] is not None]
    if not summary:
        return go.Figure(layout=dict(title=f"{title}: no stored runs yet", template="plotly_white", height=200))
    fields = [f for f in summary[0] if f in FIELD_NAMES]
    steps_at = sorted({s[slider] for s in summary})
    vals = list(dict.fromkeys(s[x] for s in summary))
    # numbers in order; labels (batch 32, ..., H_α) in the order the caller sorted the summary
    xs = sorted(vals) if all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in vals) else vals
    groups = list(dict.fromkeys(s[by] for s in summary)) if by else [None]
    by_key = {(s[slider], s[x], s[by] if by else None): s for s in summary if s["mean"] is not None}

    def ys(v, g):
        rows = [by_key.get((v, xv, g)) for xv in xs]
        return ([r["mean"] if r else None for r in rows], [r["std"] if r else None for r in rows],
                [hover(r, fields) if r else "not run" for r in rows])

    xlabels = [label(x, v) if not isinstance(v, (int, float)) or isinstance(v, bool) else f"{v:g}" for v in xs]
    fig = go.Figure()
    for i, g in enumerate(groups):
        y, e, h = ys(steps_at[0], g)
        fig.add_trace(go.Bar(x=xlabels, y=y, error_y=dict(type="data", array=e), hovertext=h, hoverinfo="text",
                             name=label(by, g) if by else "ours (mean ± std over seeds)",
                             marker_color=PALETTE[i % len(PALETTE)]))
    steps = []
    for v in steps_at:
        cols = [ys(v, g) for g in groups]
        steps.append(dict(method="restyle", label=f"{v:g}" if isinstance(v, (int, float)) else str(v),
                          args=[{"y": [c[0] for c in cols], "error_y.array": [c[1] for c in cols],
                                 "hovertext": [c[2] for c in cols]}]))
    fig.update_layout(title=title, barmode="group", template="plotly_white", height=460,
                      xaxis_title=ALPHA_AXIS if x == "alpha" else FIELD_NAMES.get(x, x),
                      yaxis=dict(range=[0, 1], tickformat=".0%", title="test accuracy"),
                      sliders=[dict(active=0, currentvalue=dict(prefix=f"{FIELD_NAMES.get(slider, slider)} = "),
                                    steps=steps, pad=dict(t=60))])
    return fig


def label_distribution(alpha: float, deltas, ranks, true_class: int, *, exact: dict, empirical: dict,
                       class_names=None) -> go.Figure:
    """Fig 4: the label distribution of one class over all 1 + alpha copies of its images, by class in
    rank order, for each delta (a slider). ``exact[delta]`` and ``empirical[delta]`` are length-m arrays
    (the transition probabilities, and the frequencies that ``nlcore.noise.slot_labels`` actually drew)."""
    m = len(ranks) + 1
    order = [true_class] + list(ranks)
    names = class_names or [str(k) for k in range(m)]
    xl = [f"{names[k]} (true)" if k == true_class else f"{names[k]} (rank {r})" for r, k in enumerate(order)]

    def ys(d):
        return [float(exact[d][k]) for k in order], [float(empirical[d][k]) for k in order]

    e0, f0 = ys(deltas[0])
    fig = go.Figure([
        go.Bar(x=xl, y=e0, name="probability (transition matrix)", marker_color="#4c72b0"),
        go.Bar(x=xl, y=f0, name="frequency drawn by the noise code", marker_color="#dd8452"),
    ])
    fig.add_hline(y=1 / m, line_dash="dot", annotation_text="chance 1/m")
    steps = [dict(method="restyle", label=f"{d:g}", args=[{"y": list(ys(d))}]) for d in deltas]
    fig.update_layout(title=f"Label distribution of class {names[true_class]} over its 1 + α copies (α = {alpha:g})",
                      barmode="group", template="plotly_white", height=440, yaxis=dict(title="probability"),
                      sliders=[dict(active=0, currentvalue=dict(prefix="δ = "), steps=steps, pad=dict(t=70))])
    return fig


def heatmap(z, x, y, *, title: str, xlabel: str, ylabel: str, fmt: str = "d") -> go.Figure:
    """A plain annotated heatmap (confusion matrices, accuracy grids)."""
    fig = go.Figure(go.Heatmap(z=z, x=x, y=y, colorscale="Blues", texttemplate=f"%{{z:{fmt}}}",
                               hovertemplate=f"{ylabel} %{{y}}, {xlabel} %{{x}}: %{{z}}<extra></extra>"))
    fig.update_layout(title=title, xaxis=dict(title=xlabel, type="category"),
                      yaxis=dict(title=ylabel, type="category", autorange="reversed"),
                      template="plotly_white", height=480)
    return fig


def lr_vs_alpha(rows: list[dict], title: str) -> go.Figure:
    """Fig 12: final test accuracy of every learning rate against alpha (mean over seeds; a diverged rate
    is drawn at 0 and marked); a star marks the rate each alpha's runs chose."""
    import statistics

    fig = go.Figure()
    for i, lr in enumerate(sorted({r["lr"] for r in rows})):
        xs = sorted({r["alpha"] for r in rows if r["lr"] == lr})
        ys, hov, chosen = [], [], []
        for a in xs:
            rs = [r for r in rows if r["lr"] == lr and r["alpha"] == a]
            ys.append(statistics.fmean(0.0 if r["acc"] is None else r["acc"] for r in rs))
            div = sum(r["diverged"] for r in rs)
            hov.append(f"lr {lr:g}, α={a:g}: test {ys[-1]:.1%} over seeds {[r['seed'] for r in rs]}"
                       + (f"<br>diverged in {div} seed(s) (counted as 0)" if div else ""))
            chosen.append(any(r["chosen"] for r in rs))
        fig.add_trace(go.Scatter(x=xs, y=ys, mode="lines+markers", name=f"lr {lr:g}", hovertext=hov,
                                 hoverinfo="text", line=dict(color=PALETTE[i % len(PALETTE)]),
                                 marker=dict(symbol=["star" if c else "circle" for c in chosen],
                                             size=[14 if c else 7 for c in chosen])))
    fig.update_layout(title=title, xaxis_title=ALPHA_AXIS, template="plotly_white",
                      yaxis=dict(range=[0, 1], tickformat=".0%", title="test accuracy"), height=460)
    return fig


def calculator(laws: dict, rows: list[dict], title: str, still_to_train=()) -> go.Figure:
    """The clean-label calculator drawn, with two sliders that work in static HTML: one picks the target accuracy, one
    the alpha, and a labelled point shows the calculator's answer there (``rows``:
    :func:`nlcore.critical.answers` over those targets and alphas; none where it refuses). Per target: the
    fitted law n* = c alpha^k over its alphas with its band (:func:`nlcore.critical.band`: 95%, or the seed
    range, as the law's ``label`` says) where the runs give one, the law dotted beyond them (extrapolation), the
    measured crossings, the upper bounds (the smallest size tried already reached the target: a downward
    triangle) and the lower bounds (no size tried reached it: an upward triangle at the largest; an open circle
    there while smaller sizes may yet reach it, :func:`nlcore.critical.may_yet_reach` over ``still_to_train``),
    drawn with or without a law. The alpha slider lists the alphas > 0 where some target has an answer.
    ``laws[target]``: a :func:`nlcore.critical.fit` result plus ``crossings``."""
    import numpy as np

    from .critical import band, interval_text, may_yet_reach

    fig, owner, answer_at = go.Figure(), [], {}
    targets = sorted(laws)
    alphas = sorted({r["alpha"] for r in rows})
    for i, t in enumerate(targets):
        f, color, first = laws[t], PALETTE[i % len(PALETTE)], len(fig.data)
        cross = sorted((a, v) for a, v in f["crossings"].items() if a > 0)
        if f["k"] is not None:
            lo_a, hi_a = min(f["alphas"]), max(f["alphas"])
            xs = np.geomspace(lo_a, hi_a, 40)
            law = f["c"] * xs ** f["k"]
            interval = band(f, xs)
            if interval is not None:
                fig.add_trace(go.Scatter(x=np.r_[xs, xs[::-1]], y=np.r_[interval[1], interval[0][::-1]],
                                         fill="toself", fillcolor=color, opacity=0.2, line=dict(width=0),
                                         hoverinfo="skip",
                                         name=f"{f['label']} band ({f['interval'].removeprefix('95% ')})"))
            k_int = f" ({f['label']}: {f['k_low']:.2f} to {f['k_high']:.2f})" if f["k_low"] is not None else ""
            fig.add_trace(go.Scatter(
                x=xs, y=law, mode="lines", line=dict(color=color), name=f"n* = {f['c']:.3g} α^{f['k']:.2f}{k_int}",
                hovertext=[f"α = {a:.3g}: {n:,.0f} clean labels for {t:.0%}" for a, n in zip(xs, law)],
                hoverinfo="text"))
            out = np.geomspace(hi_a, max(100.0, hi_a), 10)
            if hi_a < 100:
                fig.add_trace(go.Scatter(x=out, y=f["c"] * out ** f["k"], mode="lines", hoverinfo="skip",
                                         line=dict(color=color, dash="dot"), name="extrapolated"))
        def kind(a, v):
            return "open" if v["status"] == "never" and may_yet_reach(v["sizes"], a, still_to_train) else v["status"]

        for status, symbol, name in (("crossed", "circle", "measured crossings"),
                                     ("at_smallest", "triangle-down", "at most (smallest size tried)"),
                                     ("never", "triangle-up", "more than (not reached up to the largest size)"),
                                     ("open", "circle-open", "not reached so far (smaller sizes still to train)")):
            pts = [(a, v) for a, v in cross if kind(a, v) == status]
            if pts:
                y = [v["n"] if status not in ("never", "open") else max(v["sizes"]) for _, v in pts]
                what = dict(crossed="{n} measured", at_smallest="≤ {n} measured", never="> {n} measured",
                            open="not reached up to {n} so far (smaller sizes still to train)")[status]
                fig.add_trace(go.Scatter(
                    x=[a for a, _ in pts], y=y, mode="markers", name=name, hoverinfo="text",
                    marker=dict(color=color, size=10, symbol=symbol,
                                opacity=0.5 if status in ("never", "open") else 1),
                    hovertext=[f"α = {a:g}: " + what.format(n=f"{n:,.0f}")
                               + interval_text(v["low"], v["high"], v.get("label"))
                               for (a, v), n in zip(pts, y)]))
        answer_at[t] = len(fig.data)
        fig.add_trace(go.Scatter(x=[], y=[], mode="markers+text", textposition="top center", name="the answer",
                                 marker=dict(color="black", size=13, symbol="x"), hoverinfo="text"))
        owner += [t] * (len(fig.data) - first)
    at = {(r["target"], r["alpha"]): r for r in rows}

    def point(t, a):
        r = at.get((t, a))
        if r is None or "refused" in r or a <= 0:  # alpha = 0 has no place on a log axis: the table has it
            return [], [], [], []
        n = f"{'≤ ' if r['upper_bound'] else ''}{r['n_clean']:,.0f}"
        return [a], [r["n_clean"]], [n], [f"α = {a:g}, {t:.0%}: {n} clean labels"
                                          + interval_text(r["low"], r["high"], r.get("label"))]

    def restyle(a):
        pts = [point(t, a) for t in targets]
        return [dict(x=[p[0] for p in pts], y=[p[1] for p in pts], text=[p[2] for p in pts],
                     hovertext=[p[3] for p in pts]), [answer_at[t] for t in targets]]

    shown = [a for a in alphas if a > 0 and any("refused" not in at.get((t, a), {"refused": 1}) for t in targets)]
    start = min(shown, key=lambda a: abs(a - 20), default=None)  # alpha = 20 first, as the command's example
    if start is not None:
        for t, (x, y, text, hover) in zip(targets, (point(t, start) for t in targets)):
            fig.data[answer_at[t]].update(x=x, y=y, text=text, hovertext=hover)
    for tr, o in zip(fig.data, owner):
        tr.visible = o == targets[0]
    sliders = [dict(active=0, currentvalue=dict(prefix="target test accuracy: "), pad=dict(t=50),
                    steps=[dict(method="update", label=f"{t:.0%}", args=[{"visible": [o == t for o in owner]}])
                           for t in targets])]
    if shown:
        sliders.append(dict(active=shown.index(start), currentvalue=dict(prefix="α = "), pad=dict(t=130),
                            steps=[dict(method="restyle", label=f"{a:g}", args=restyle(a)) for a in shown]))
    fig.update_layout(title=title, xaxis=dict(type="log", title=ALPHA_AXIS),
                      yaxis=dict(type="log", title="clean labels needed"), template="plotly_white",
                      height=560, sliders=sliders)
    return fig
