"""Mid-run checkpoints: a run killed with SIGKILL and started again ends with the uninterrupted run's metrics."""

import json
import os
import signal
import subprocess
import sys
import time

import pytest
import torch

from nlcore import checkpoint, machine, results, sweep
from nlcore.config import make_config

SCRIPT = """
import json, sys
from nlcore import machine, sweep
from nlcore.config import make_config
if sys.argv[2] == "compiled":  # the stacked step compiled, as long runs of the perceptron and MLPs are here
    machine.choose_compiled = lambda *a, **k: True
cfg = make_config("smoke", **json.loads(sys.argv[1]))
sweep.run([cfg], device="cpu", progress=False, log=None)
"""


def _metrics(rec):
    m = dict(rec["metrics"])
    m.pop("resumed_at")
    m.pop("earlier_s")
    return m


@pytest.mark.parametrize("model, engine", [("mlp1", "stacked"), ("mlp1", "compiled"), ("convnet4", "sequential")])
def test_a_run_killed_mid_way_resumes_to_the_same_metrics(tmp_path, monkeypatch, model, engine):
    """MLP-1 has dropout 0.2 (its masks drawn outside the compiled step), ConvNet-4 its two dropouts."""
    if engine == "compiled":
        monkeypatch.setattr(machine, "choose_compiled", lambda *a, **k: True)
    fields = dict(model=model, engine="stacked" if engine == "compiled" else engine, precision="fp32", alpha=10,
                  min_steps=60, evals=6, mean_last=3)
    cfg = make_config("smoke", **fields)
    env = dict(os.environ, NLCORE_RESULTS=str(tmp_path / "killed"), NLCORE_CHECKPOINT_S="0")
    where = checkpoint.path(cfg, tmp_path / "killed")
    proc = subprocess.Popen([sys.executable, "-c", SCRIPT, json.dumps(fields), engine], env=env)
    t0, killed_at = time.time(), None
    while time.time() - t0 < 300 and proc.poll() is None:  # kill it once it has checkpointed past step 25
        try:
            step = torch.load(where, weights_only=False)["step"]
        except Exception:  # noqa: BLE001 -- not written yet
            step = 0
        if step >= 25:
            proc.send_signal(signal.SIGKILL)
            killed_at = step
            break
        time.sleep(0.05)
    proc.wait()
    assert killed_at is not None and proc.returncode == -signal.SIGKILL, "the run ended before it could be killed"
    assert not results.run_path(cfg, tmp_path / "killed").exists() and where.exists()
    trained_s = torch.load(where, weights_only=False)["trained_s"]  # the killed process's, to its last save
    assert 0 < trained_s < time.time() - t0

    resumed = sweep.run([cfg], device="cpu", progress=False, root=tmp_path / "killed", log=None)[0]
    whole = sweep.run([cfg], device="cpu", progress=False, root=tmp_path / "whole", log=None)[0]
    assert resumed["metrics"]["resumed_at"] and resumed["metrics"]["resumed_at"][0] >= killed_at
    assert whole["metrics"]["resumed_at"] == [] and whole["metrics"]["earlier_s"] == 0
    # the record's seconds count the killed process's too, to its last checkpoint
    assert resumed["metrics"]["earlier_s"] == trained_s
    assert resumed["wall_time_s"] > trained_s and results.run_seconds(resumed) == resumed["wall_time_s"]
    assert resumed["metrics"]["compiled"] == whole["metrics"]["compiled"] == (engine == "compiled")
    assert _metrics(resumed) == _metrics(whole)  # every evaluation, loss and accuracy identical
    assert not where.exists(), "the checkpoint is removed once the run is stored"


def test_a_checkpoint_from_another_engine_or_a_torn_file_is_not_resumed(tmp_path):
    cfg = make_config("smoke", model="perceptron", engine="sequential", precision="fp32", alpha=5)
    where = checkpoint.path(cfg, tmp_path)
    where.parent.mkdir(parents=True)
    where.write_bytes(b"not a checkpoint")
    info = dict(engine="sequential", precision="fp32", channels_last=False, compiled=False)
    with pytest.warns(UserWarning, match="unreadable"):
        assert checkpoint.Checkpointer(where, info).load() is None
    checkpoint.Checkpointer(where, dict(info, precision="bf16")).save(dict(step=3))
    with pytest.warns(UserWarning, match="starts over"):
        assert checkpoint.Checkpointer(where, info).load() is None


def test_checkpoint_interval_is_validated(monkeypatch):
    monkeypatch.setenv("NLCORE_CHECKPOINT_S", "soon")
    with pytest.raises(ValueError, match="NLCORE_CHECKPOINT_S"):
        checkpoint.interval_s()


def test_a_stored_run_adds_the_seconds_of_the_processes_before(tmp_path):
    cfg = make_config("smoke", model="perceptron")
    metrics = dict(best=dict(lr=0.1, test_acc=0.5, val_acc=0.5, selected_on="val"), per_lr=[])
    assert results.save(cfg, dict(metrics, earlier_s=30.0), 100.0, tmp_path / "a")["wall_time_s"] == 130.0
    assert results.save(cfg, dict(metrics, earlier_s=None), 100.0, tmp_path / "b")["wall_time_s"] == 100.0


def test_a_stored_run_keeps_the_note_of_how_the_machine_was_shared(tmp_path, monkeypatch):
    cfg = make_config("smoke", model="perceptron")
    metrics = dict(best=dict(lr=0.1, test_acc=0.5, val_acc=0.5, selected_on="val"), per_lr=[])
    assert "note" not in results.save(cfg, metrics, 1.0, tmp_path / "a")  # unset: no note
    monkeypatch.setenv("NLCORE_RUN_NOTE", "trained while 4 processes shared the GPU")
    results.save(cfg, metrics, 1.0, tmp_path / "b")
    assert results.load(cfg, tmp_path / "b")["note"] == "trained while 4 processes shared the GPU"


def test_run_seconds_counts_every_process_of_a_resumed_run():
    """A record whose earlier processes' seconds were not counted is scaled to its whole run, at the speed of
    its last process; one that counts them, or one trained in one process, is read as stored."""
    def rec(wall, resumed_at, **m):
        return dict(wall_time_s=wall, metrics=dict(steps=1000, resumed_at=resumed_at, **m))

    assert results.run_seconds(rec(100.0, [])) == 100.0
    assert results.run_seconds(rec(100.0, [200], earlier_s=30.0)) == 100.0  # save() added the 30 already
    assert results.run_seconds(rec(100.0, [200])) == pytest.approx(125.0)  # 800 steps took 100 s
    assert results.run_seconds(rec(100.0, [200, 600], earlier_s=None)) == pytest.approx(250.0)
