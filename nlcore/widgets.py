"""Live controls for a Jupyter kernel (ipywidgets): pick alpha or delta and see the stored runs at once,
or train one more point with a progress bar.

Widgets compute only with a running kernel (Jupyter, Binder, Colab), and their saved state would make
the static book load require.js from a CDN; so the notebooks show :func:`explorer` only when
``NLCORE_BOOK`` is not set, in a cell tagged ``remove-cell``. In the static book the plotly sliders do
the same job over precomputed runs.
"""

from __future__ import annotations

import html
import warnings

import ipywidgets as W
import plotly.graph_objects as go
from IPython.display import display

from . import plots, results, sweep


def _values(figure: str, profile: str, field: str, records: list[dict]) -> list:
    grid = sweep.FIGURES[figure]["grid"][profile]
    return sorted({r["config"][field] for r in records} | set(grid.get(field, [])))


def _bars(records: list[dict], field: str, value, *, x, title: str) -> go.Figure:
    """Mean test accuracy (± std over seeds) of the stored runs with ``field == value``, one bar per ``x``."""
    recs = [r for r in records if r["config"][field] == value]
    several = len({r["config"]["profile"] for r in recs}) > 1
    groups: dict = {}
    for r in recs:  # one bar per label and profile: runs of different profiles are never averaged together
        name = x(r["config"]) + (f" ({r['config']['profile']})" if several else "")
        groups.setdefault(name, []).append(r)
    fig = go.Figure()
    for name, rs in groups.items():
        (s,) = results.summarize(rs, by=("profile",))
        if s["mean"] is None:
            continue
        fig.add_trace(go.Bar(x=[name], y=[s["mean"]], error_y=dict(type="data", array=[s["std"]]), name=name,
                             hovertext=f"{name}: {s['mean']:.1%} ± {s['std']:.1%}, seeds {s['seeds']}, "
                                       f"lr {', '.join(f'{lr:g}' for lr in s['lrs'])}", hoverinfo="text"))
    fig.update_layout(title=f"{title}: {plots.FIELD_NAMES.get(field, field)} = {value:g}"
                      + ("" if recs else " (no stored run: train it below)"), showlegend=False,
                      yaxis=dict(range=[0, 1], tickformat=".0%", title="test accuracy"),
                      template="plotly_white", height=380)
    return fig


def explorer(figure: str, profile: str, field: str = "alpha", *, x=None, device=None, models=None) -> W.VBox:
    """A slider over ``field`` (``"alpha"``, ``"delta"``...) that redraws the stored runs of ``figure`` at
    ``profile`` instantly, and a button that trains the figure's runs at any value (smoke or cpu profile).

    ``x``: the bar label of a run, a function of its config (default: the model's name); ``models``:
    train only these of the figure's models (default: all).
    Returns the widget: ``.children`` are the slider, the figure's output, the training controls, a status
    line and the progress output; ``.figure`` is the plotly figure drawn last.
    """
    x = x or (lambda c: plots.NAMES.get(c["model"], c["model"]))
    title = sweep.FIGURES[figure]["title"]
    state = dict(records=sweep.figure_records(figure, profile, models=models))
    values = _values(figure, profile, field, state["records"]) or [0.0]
    slider = W.SelectionSlider(options=values, value=values[0], description=plots.FIELD_NAMES.get(field, field),
                               continuous_update=True, layout=W.Layout(width="60%"))
    new_value = W.FloatText(value=values[-1], description="train at", layout=W.Layout(width="200px"))
    train_profile = W.Dropdown(options=["smoke", "cpu"], value="smoke", description="profile",
                               layout=W.Layout(width="200px"))
    button = W.Button(description="Train this point", button_style="primary")
    out, log, status = W.Output(), W.Output(), W.HTML()
    box = W.VBox([slider, out, W.HBox([new_value, train_profile, button]), status, log])

    def redraw(*_):
        box.figure = _bars(state["records"], field, slider.value, x=x, title=f"{title} (stored, profile {profile})")
        out.clear_output(wait=True)
        with out:
            plots.show(box.figure)

    def train(*_):
        v, p = float(new_value.value), train_profile.value
        sel = dict(alphas=[v]) if field == "alpha" else dict(grid={field: [v]})
        button.disabled = True
        status.value = f"training {plots.FIELD_NAMES.get(field, field)} = {v:g} at the {p} profile..."
        log.clear_output()
        with log:  # the progress bars
            try:
                got = sweep.figure_records(figure, p, train_missing=True, progress=True, device=device,
                                           models=models, **sel)
            except ValueError as e:  # bad alpha/delta: the message names the parameter and its range
                status.value = f"<b>error</b>: {html.escape(str(e))}"
                return
            finally:
                button.disabled = False
        status.value = f"stored {len(got)} run(s) of {figure} at the {p} profile"
        if p == profile:
            state["records"] = got
        else:  # shown beside the stored ones of the chapter's profile
            state["records"] = sweep.figure_records(figure, profile, models=models) + got
        opts = sorted(set(slider.options) | {v})
        slider.options = opts
        slider.value = v
        redraw()

    slider.observe(redraw, names="value")
    button.on_click(train)
    redraw()
    return box


def calculator(records: list[dict], *, profile: str, model: str = "convnet4", dataset: str = "mnist",
               still_to_train=()) -> W.VBox:
    """The clean-label calculator live: an alpha and a target slider, and the answer of
    :func:`nlcore.critical.clean_labels` over ``records`` (Figure 8's stored runs of ``profile``) in words,
    or why there is none, recomputed as either slider moves. ``still_to_train``: the alphas whose lines have
    sizes still to train (:func:`nlcore.sweep.open_alphas`), where "not reached" may change. ``.children``:
    the alpha slider, the target slider, the extrapolate box and the answer (HTML)."""
    from . import critical, data

    alpha = W.FloatSlider(value=20, min=0, max=200, step=0.5, description="α", continuous_update=False,
                          layout=W.Layout(width="60%"))
    target = W.FloatSlider(value=0.9, min=0.5, max=0.99, step=0.01, description="target", readout_format=".0%",
                           continuous_update=False, layout=W.Layout(width="60%"))
    extrapolate, answer = W.Checkbox(value=False, description="extrapolate beyond the measured alphas"), W.HTML()
    m = data.num_classes(dataset)

    def redraw(*_):
        try:
            with warnings.catch_warnings(record=True) as caught:  # extrapolating: shown with the answer
                warnings.simplefilter("always")
                out = critical.clean_labels(records, alpha=alpha.value, target=target.value,
                                            extrapolate=extrapolate.value)
        except ValueError as e:  # refused: outside the measured range, no law yet, not reached
            still = isinstance(e, critical.NotReached) and critical.may_yet_reach(e.sizes, e.alpha, still_to_train)
            answer.value = f"<b>no answer</b>: {html.escape(str(e))}; profile {profile}" + (
                f"; {critical.STILL_TO_TRAIN}" if still else "")
            return
        out.update(label_accuracy=critical.label_accuracy(out["alpha"], m), dataset=dataset, profile=profile)
        answer.value = "".join(f"<b>warning</b>: {html.escape(str(w.message))}<br>" for w in caught) + html.escape(
            critical.sentence(out, plots.NAMES.get(model, model))).replace("\n", "<br>")

    for w in (alpha, target, extrapolate):
        w.observe(redraw, names="value")
    redraw()
    return W.VBox([alpha, target, extrapolate, answer])


def show(*args, **kwargs) -> W.VBox:
    """Display :func:`explorer` (and return it)."""
    w = explorer(*args, **kwargs)
    display(w)
    return w
