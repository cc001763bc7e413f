"""Plotly figures of stored results, with the paper's stated numbers beside ours.

Figures work in static HTML: sliders move over precomputed traces, nothing needs
a kernel. :func:`show` renders for the book (HTML that uses the plotly.js the book
serves itself, no CDN) when ``NLCORE_BOOK=1``, and as a normal plotly figure in a
live Jupyter kernel otherwise.
"""

from __future__ import annotations

import os

import plotly.graph_objects as go

from . import paper

NAMES = {"perceptron": "Perceptron", "mlp1": "MLP, 1 hidden layer", "mlp2": "MLP, 2 hidden layers",
         "mlp4": "MLP, 4 hidden layers", "convnet2": "ConvNet, 2 layers", "convnet4": "ConvNet, 4 layers",
         "convnet6": "ConvNet, 6 layers", "resnet18": "ResNet-18", "resnet101": "ResNet-101"}
COLORS = {"perceptron": "#1f77b4", "mlp1": "#ff7f0e", "mlp2": "#2ca02c", "mlp4": "#d62728", "convnet4": "#9467bd",
          "convnet2": "#8c564b", "convnet6": "#e377c2", "resnet18": "#7f7f7f", "resnet101": "#17becf"}


def show(fig: go.Figure) -> None:
    """Display ``fig``: self-contained-free HTML in the book build, the default renderer elsewhere."""
    if os.environ.get("NLCORE_BOOK") == "1":
        from IPython.display import HTML, display

        display(HTML(fig.to_html(include_plotlyjs=False, include_mathjax=False, full_html=False,
                                 config={"displaylogo": False})))
    else:
        fig.show()


def _hover(s: dict) -> str:
    lrs = ", ".join(f"{lr:g}" for lr in s["lrs"])
    return (f"{NAMES.get(s['model'], s['model'])}<br>alpha={s['alpha']:g}<br>test accuracy {s['mean']:.1%}"
            f" ± {s['std']:.1%} (seeds {s['seeds']})<br>lr chosen on {'/'.join(s['selected_on'])}: {lrs}"
            f"<br>profile {'/'.join(s['profile'])}"
            + (f"<br>seeds where every lr diverged (left out): {s['diverged']}" if s["diverged"] else ""))


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
            hovertext=[_hover(s) for s in rows], hoverinfo="text"))
    for p in paper.points(figure):
        fig.add_trace(go.Scatter(
            x=[p["alpha"]], y=[p["accuracy"]], mode="markers", name=f"paper: {NAMES.get(p['model'], p['model'])}",
            marker=dict(symbol="diamond-open", size=13, color=COLORS.get(p["model"]), line=dict(width=2)),
            hovertext=[f"paper (text): {p['quote']}"], hoverinfo="text"))
    fig.update_layout(title=title, xaxis_title="alpha (noisy labels per clean label)",
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
        hov = [_hover(by[(m, a)]) if (m, a) in by and by[(m, a)]["mean"] is not None else "not run" for m in models]
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
                      sliders=[dict(active=0, currentvalue=dict(prefix="alpha = "), steps=steps, pad=dict(t=60))])
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
                      sliders=[dict(active=0, currentvalue=dict(prefix="alpha = "), steps=steps, pad=dict(t=50))])
    return fig
