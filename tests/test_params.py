"""Notebook parameters: every wrong value is refused before training, naming the parameter and the syntax."""

import ast
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from nlcore import params

REPO = Path(__file__).resolve().parents[1]


def defaults(notebook: str) -> dict:
    """The notebook's parameters cell, evaluated."""
    cells = json.loads((REPO / "notebooks" / f"{notebook}.ipynb").read_text())["cells"]
    (cell,) = [c for c in cells if "parameters" in c["metadata"].get("tags", [])]
    ns: dict = {}
    for node in ast.parse("".join(cell["source"])).body:
        ns[node.targets[0].id] = ast.literal_eval(node.value)
    return ns


def test_each_notebook_checks_exactly_its_parameters_right_after_the_parameters_cell():
    for name, names in params.NOTEBOOKS.items():
        assert set(defaults(name)) == set(names), name
        cells = json.loads((REPO / "notebooks" / f"{name}.ipynb").read_text())["cells"]
        i = next(i for i, c in enumerate(cells) if "parameters" in c["metadata"].get("tags", []))
        assert f'params.check("{name}", globals())' in "".join(cells[i + 1]["source"])
        assert params.check(name, dict(defaults(name))) == defaults(name)  # the defaults pass


# (parameter, bad value as papermill delivers it, words the error must contain)
BAD = [
    ("profile", "huge", "one of ['smoke', 'cpu', 'full', 'paper']"),
    ("profile", None, "one of"),
    ("alpha", -1, "a number >= 0"),
    ("alpha", "ten", "a number >= 0"),
    ("alpha", float("nan"), "a number >= 0"),
    ("alpha", True, "a number >= 0"),
    ("delta", "abc", "a number in [0, 1]"),
    ("delta", 1.5, "a number in [0, 1]"),
    ("seeds", "[", "a non-empty list of integers >= 0"),
    ("seeds", [], "a non-empty list"),
    ("seeds", "[]", "a non-empty list"),
    ("seeds", [0, -1], "integers >= 0"),
    ("seeds", [0.5], "integers >= 0"),
    ("seeds", 3, "a non-empty list"),
    ("models", ["resnet7"], "model names"),
    ("models", [], "a non-empty list"),
    ("models", "mlp1", "a non-empty list"),
    ("device", "gpu", "'cpu', 'cuda' or 'cuda:N'"),
    ("train_missing", "no", "True or False"),
    ("train_missing", 0, "True or False"),
    ("cifar10", "yes", "True or False"),
    ("true_class", 10, "an integer in [0, 9]"),
    ("true_class", "4", "an integer in [0, 9]"),
    ("n_clean", 0, "an integer >= 1"),
    ("n_clean", 2.5, "an integer >= 1"),
    ("targets", [], "a non-empty list"),
    ("targets", [0.5, 1.0], "accuracies in (0, 1)"),
    ("targets", "[0.9, 90]", "accuracies in (0, 1)"),
]


@pytest.mark.parametrize("name, value, words", BAD)
def test_every_notebook_refuses_a_bad_value_naming_the_parameter_and_the_syntax(name, value, words):
    checked = [nb for nb, names in params.NOTEBOOKS.items() if name in names]
    assert checked
    for nb in checked:
        ns = dict(defaults(nb), **{name: value})
        with pytest.raises(ValueError) as e:
            params.check(nb, ns)
        msg = str(e.value)
        assert f"parameter {name!r} must be" in msg and words in msg and "With papermill: -" in msg, msg


def test_lists_given_as_text_are_parsed():
    ns = dict(defaults("exp4"), seeds="[0, 1]", targets="[0.5, 0.9]")
    out = params.check("exp4", ns)
    assert out["seeds"] == [0, 1] and ns["seeds"] == [0, 1] and ns["targets"] == [0.5, 0.9]
    ns = dict(defaults("exp1"), models='["mlp1", "convnet4"]', alpha=50, device="cuda:1")
    assert params.check("exp1", ns)["models"] == ["mlp1", "convnet4"]


def test_papermill_refuses_an_empty_list_before_training(tmp_path):
    env = dict(os.environ, NLCORE_RESULTS=str(tmp_path / "results"), NLCORE_BOOK="1")
    r = subprocess.run([Path(sys.executable).parent / "papermill", REPO / "notebooks" / "exp3.ipynb",
                        tmp_path / "out.ipynb", "-p", "profile", "smoke", "-y", "seeds: []", "-k", "python3",
                        "--cwd", REPO, "--no-progress-bar"], env=env, capture_output=True, text=True)
    assert r.returncode != 0 and "parameter 'seeds' must be None or a non-empty list" in r.stderr + r.stdout
    assert not (tmp_path / "results" / "runs").exists() or not list((tmp_path / "results" / "runs").glob("*.json"))
