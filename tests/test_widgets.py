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
