"""The live-kernel controls: the slider redraws from stored runs, the button trains a point."""

from nlcore import results, widgets


def _bars(w):
    return {t.x[0]: t.y[0] for t in w.figure.data}


def test_explorer_redraws_and_trains_a_new_point(results_root):
    w = widgets.explorer("fig1", "smoke", "alpha", models=["perceptron"])
    slider, out, controls, status, log = w.children
    assert list(slider.options) == [0.0, 20.0]  # the profile's grid, nothing stored yet
    assert "no stored run" in w.figure.layout.title.text and not w.figure.data
    new_value, profile, button = controls.children
    new_value.value = 3.0
    button.click()  # trains the perceptron at alpha = 3 (smoke profile), with a progress bar in `log`
    stored = results.load_all(results_root)
    assert [(r["config"]["model"], r["config"]["alpha"]) for r in stored] == [("perceptron", 3.0)]
    assert "stored 1 run" in status.value
    assert slider.value == 3.0 and 3.0 in slider.options
    assert _bars(w) == {"Perceptron": stored[0]["metrics"]["best"]["test_acc"]}  # drawn from the stored run
    slider.value = 0.0  # instant redraw from the store: nothing trained
    assert not w.figure.data and len(results.load_all(results_root)) == 1
    slider.value = 3.0
    assert _bars(w) == {"Perceptron": stored[0]["metrics"]["best"]["test_acc"]}


def test_explorer_reports_bad_input_without_training(results_root):
    w = widgets.explorer("fig1", "smoke", "alpha", models=["perceptron"])
    new_value, _, button = w.children[2].children
    new_value.value = -1.0
    button.click()
    assert "alpha must be a finite number &gt;= 0" in w.children[3].value
    assert results.load_all(results_root) == [] and not button.disabled


def test_runs_of_another_profile_are_shown_beside_not_averaged_in(results_root):
    from nlcore import config, sweep

    # one stored cpu-profile run (written directly: a fake record with a known accuracy)
    cfg = sweep.figure_configs("fig1", "cpu", models=["perceptron"], alphas=[0], seeds=[0])[0]
    metrics = dict(best=dict(lr=0.5, val_acc=0.9, test_acc=0.9, selected_on="val"), per_lr=[], steps=1, slots=1)
    results.save(cfg, metrics, 1.0, results_root)
    w = widgets.explorer("fig1", "cpu", "alpha", models=["perceptron"])
    assert _bars(w) == {"Perceptron": 0.9}
    new_value, profile, button = w.children[2].children
    new_value.value, profile.value = 0.0, "smoke"
    button.click()  # a smoke run at the same alpha: its own bar, labelled by profile
    bars = _bars(w)
    assert set(bars) == {"Perceptron (cpu)", "Perceptron (smoke)"} and bars["Perceptron (cpu)"] == 0.9
    assert config.config_key(cfg) in {r["key"] for r in results.load_all(results_root)}
