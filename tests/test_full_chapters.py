"""Every chapter executed over a store in which every run of every figure is stored, with synthetic metrics.

Most of the ``full`` profile's runs take hours each on a CPU and land one at a time. The chapter sections
that read them (the figures at the paper's scale, their claims, the front page's scoreboard) must render
once their runs land, not first fail then. This test fills a temporary store (never ``results/``) through
the sweep's own path, ``sweep.train_figure`` (pilots, Figure 8's descent down the sizes, the confusion runs
Figure 5 waits on), with ``train.train`` replaced by a function that returns synthetic learning curves of
the shape a real run stores, then executes every notebook at the ``cpu`` profile with nothing to train.
The synthetic numbers exist only in the temporary store: nothing the book shows comes from them.
"""

import json
import math
import os
import random
import re
import subprocess
import sys
from pathlib import Path

import pytest

from nlcore import config, data, evaluate, results, sweep, train

pytestmark = pytest.mark.slow
REPO = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
CLEAN = {"perceptron": 0.90, "mlp1": 0.95, "mlp2": 0.96, "mlp4": 0.96, "convnet2": 0.97, "convnet4": 0.98}


def synthetic_train(cfg: dict, device=None, progress=True, checkpoint=None) -> dict:
    """Metrics shaped as :func:`nlcore.train.train` returns them, from a smooth made-up law in which the
    clean labels needed for a given accuracy grow as alpha^1.2 (so Figure 8's lines cross their targets
    inside the sizes tried and Figure 9 has a law to fit), structured noise near delta = 1 and noise from
    the same dataset cost more, each rate a little below the best, curves that rise and level off, jitter
    from the config's key (the same config gives the same numbers)."""
    rng = random.Random(config.config_key(cfg))
    m = data.num_classes(cfg["dataset"])
    chance = 1 / m
    clean = CLEAN.get(cfg["model"], 0.98) if cfg["dataset"] == "mnist" else 0.7
    share = 1 / (1 + cfg["n_clean"] / (20 * cfg["alpha"] ** 1.2)) if cfg["alpha"] else 0.0
    share *= (1 + 3 * cfg["delta"] ** 4) * {"same": 1.0, "other": 0.5}.get(cfg["noise_source"], 0.1)
    top = clean - (clean - chance) * min(1.0, share) + rng.gauss(0, 0.003)
    steps = train.num_steps(cfg)
    per_lr = []
    for lr in cfg["lrs"]:
        level = chance + (top - chance) * (1 - 0.15 * abs(math.log10(lr) + 1))
        curve = []
        for s in train.eval_steps(cfg):
            reached = chance + (level - chance) * (1 - math.exp(-4 * s / steps))
            e = dict(step=s, epoch=s * cfg["batch_size"] / max(1, cfg["n_clean"] * (1 + cfg["alpha"])),
                     train_loss=2.3 - (reached - chance), val_acc=min(1, reached + rng.gauss(0, 0.005)),
                     test_acc=min(1, reached + rng.gauss(0, 0.005)))
            if m > 10:
                e["test_top5"] = min(1, 2 * e["test_acc"])
            if cfg["model"] == "perceptron" or cfg["model"].startswith("mlp"):
                e.update(dark_drift=0.0 if cfg["inputs"] == "unit" else 0.01, lit_drift=0.05 * s / steps)
            curve.append(e)
        per_lr.append(dict(lr=lr, diverged=False, curve=curve, **evaluate.final(curve, cfg["mean_last"])))
    best = evaluate.select_lr(per_lr, cfg["lr_select"])
    n_test = 1000
    right = round(n_test / m * best["test_acc"])
    confusion = [[right if c == k else (n_test // m - right) // (m - 1) + (c * 7 + k * 3) % 3 for k in range(m)]
                 for c in range(m)]
    return dict(per_lr=per_lr, best=best, steps=steps, slots=train.num_slots(cfg, cfg["n_clean"]),
                confusion=confusion, engine="sequential", precision="fp32", channels_last=False,
                compiled=False, device="cpu", world_size=1, cuda_graph=False, resumed_at=[], earlier_s=0.0)


@pytest.fixture(scope="module")
def every_run_stored(tmp_path_factory):
    """A store with every run of every figure at the cpu and full profiles (ImageNet's need its images)."""
    root = tmp_path_factory.mktemp("all-stored") / "results"
    mp = pytest.MonkeyPatch()
    mp.setattr(train, "train", synthetic_train)
    try:
        for profile in ("cpu", "full"):
            for figure, spec in sweep.FIGURES.items():
                if profile in spec["grid"] and figure not in sweep.NOT_RUN:
                    sweep.train_figure(figure, profile, root=root, progress=False, log=None)
    finally:
        mp.undo()
    return root


def test_the_store_holds_every_planned_run(every_run_stored):
    """Nothing a chapter plans at the full profile is left waiting: pilots, sizes and orders all listed."""
    for figure, spec in sweep.FIGURES.items():
        if "full" not in spec["grid"] or spec.get("descend"):  # a descent stops at its floor by design
            continue
        planned = sweep.figure_configs(figure, "full", root=every_run_stored)
        estimated = sweep.figure_configs(figure, "full", root=every_run_stored, unpiloted="estimate")
        assert len(planned) == len(estimated) > 0, figure
        assert all(results.load(c, every_run_stored) for c in planned), figure


def _outputs(nb: dict) -> str:
    text = []
    for cell in nb["cells"]:
        for o in cell.get("outputs", []):
            text.append("".join(o.get("text", "")))
            for mime, v in o.get("data", {}).items():
                if mime.startswith("text/") or mime == "application/papermill.record/text/plain":
                    text.append(v if isinstance(v, str) else "".join(v))
    return "\n".join(text)


@pytest.mark.parametrize("name", ["intro", "exp1", "exp2", "exp3", "exp4", "exp5"])
def test_a_chapter_renders_with_every_run_stored(every_run_stored, tmp_path, name):
    """The chapter runs to its end without training, and its sections at the paper's scale report their
    figures complete: no 'Not stored yet', no error text in any output."""
    out = tmp_path / f"{name}.ipynb"
    env = dict(os.environ, NLCORE_BOOK="1", NLCORE_RESULTS=str(every_run_stored))
    r = subprocess.run([BIN / "papermill", REPO / "notebooks" / f"{name}.ipynb", out, "-p", "profile", "cpu",
                        "-p", "train_missing", "False", "-k", "python3", "--cwd", REPO, "--no-progress-bar"],
                       env=env, capture_output=True, text=True)
    assert r.returncode == 0, r.stderr[-3000:]
    text = _outputs(json.loads(out.read_text()))
    assert "Traceback" not in text and "Error" not in text
    assert not any(f"training {k}" in text for k in range(1, 1000))
    # every section that names its stored runs has them all; Figure 8's says so in its own words (its descent
    # down the sizes stops at a floor, so fewer than all sizes are runs of the figure)
    stored = re.findall(r"Stored: (.{0,20}?) runs of `", text)  # findings.stored_line's words
    assert stored or name in ("intro", "exp4"), "no stored line: has its wording changed?"
    assert all(done == "all" for done in stored), stored
    assert "Not stored yet" not in text and "so far (smaller sizes still to train)" not in text
    if name == "exp1":  # the paper-scale verdicts and the two-pass run beside its one-pass run
        assert "The front page scores the paper's two stated numbers" in text
        assert "Over 2 passes the run reads" in text and "Seed 0's one-pass run reads" in text
    if name == "exp4":
        assert "Stored: all 56 Figure 8 runs the sizes rule needs at profile full" in text
    if name == "exp5":  # Figure 11 at both budgets: the cpu and full sections, and the equal-steps one
        assert "No stored run at equal steps yet." not in text
        assert text.count("*Larger batches are more robust*") == 3
    if name == "intro":  # the batch claim's row shows the equal-steps runs beside its verdict
        assert "at equal steps instead (`fig11steps`): batch 256" in text
