"""Trustworthy sweeps: SIGKILL and restart, two writers on one store, bit-exact noise, bad input at every door."""

import hashlib
import json
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
import torch
from reference import lowbias32

from nlcore import noise

REPO = Path(__file__).resolve().parents[1]
SWEEP = [sys.executable, "-m", "nlcore", "sweep", "fig1", "--profile", "smoke", "--no-progress"]
VOLATILE = ("wall_time_s", "created", "code_version")


def _env(root):
    return dict(os.environ, NLCORE_RESULTS=str(root), PYTHONPATH=str(REPO))


def _stored(root):
    """key -> record without the fields that differ between two identical runs (time, code version)."""
    out = {}
    for p in sorted((Path(root) / "runs").glob("*.json")):
        rec = json.loads(p.read_text())  # every file must be whole, valid JSON
        assert rec["key"] == p.stem
        out[p.stem] = {k: v for k, v in rec.items() if k not in VOLATILE}
    return out


def _snapshot(root):
    runs = Path(root) / "runs"
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in runs.iterdir()} if runs.exists() else {}


ARGS = ["--models", "perceptron", "mlp1", "--alphas", "0", "1", "2", "3"]


def test_sigkill_and_restart_until_done(tmp_path):
    """Kill the sweep at random points, restart it each time; in the end every run is stored once,
    nothing partial is left, and the metrics equal an uninterrupted sweep's."""
    ref = tmp_path / "reference"
    subprocess.run(SWEEP + ARGS, env=_env(ref), check=True, capture_output=True)
    expected = _stored(ref)
    assert len(expected) == 8

    root, rng, kills = tmp_path / "killed", random.Random(0), 0
    runs = root / "runs"
    for _ in range(20):
        before = len(list(runs.glob("*.json"))) if runs.exists() else 0
        proc = subprocess.Popen(SWEEP + ARGS, env=_env(root), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        # kill at a random moment shortly after this process has stored a new run (so every cycle makes progress
        # and the kill lands while the next run trains or is being written)
        while proc.poll() is None and len(list(runs.glob("*.json")) if runs.exists() else []) <= before:
            time.sleep(0.02)
        time.sleep(rng.uniform(0.0, 0.15))
        if proc.poll() is not None:
            break  # it finished before the kill
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        kills += 1
        got = _stored(root)  # after every kill: only whole, valid files
        assert all(expected[k] == v for k, v in got.items())
    subprocess.run(SWEEP + ARGS, env=_env(root), check=True, capture_output=True)
    assert kills >= 3, f"only {kills} kills landed mid-sweep"
    assert _stored(root) == expected
    leftovers = [p.name for p in (root / "runs").iterdir() if not p.name.endswith(".json")]
    assert leftovers == []  # no .tmp or .lock left behind
    print(f"survived {kills} SIGKILL/restart cycles")


def test_two_writers_on_one_store(tmp_path):
    root = tmp_path / "shared"
    a = subprocess.Popen(SWEEP + ["--models", "perceptron", "--alphas", "0", "1", "2", "3"], env=_env(root),
                         stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    b = subprocess.Popen(SWEEP + ["--models", "perceptron", "--alphas", "2", "3", "4", "5"], env=_env(root),
                         stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    out = a.communicate(timeout=300)[0] + b.communicate(timeout=300)[0]
    assert a.returncode == 0 and b.returncode == 0, out
    stored = _stored(root)
    assert sorted(r["config"]["alpha"] for r in stored.values()) == [0, 1, 2, 3, 4, 5]
    trained = [ln for ln in out.splitlines() if ln.startswith("[")]
    assert len(trained) == 6, out  # every run trained by exactly one of the two processes
    assert [p.name for p in (root / "runs").iterdir() if not p.name.endswith(".json")] == []


# SHA-256 of the int8 labels of 110,000 slots (10,000 clean, alpha = 10, structured noise delta = 0.5,
# random order seed 3, noise seed 42). Integer arithmetic only: the same bits on every machine and device.
GOLDEN_LABELS = "245c37ccf398dcaa2838829402531655a33af8015ab28b4cf9e9bb492acd3e90"


def _labels(device="cpu"):
    ranks = noise.class_order("random", 10, seed=3)
    thr = noise.thresholds(noise.transition_matrix(10, 10, 0.5, ranks)).to(device)
    y = (torch.arange(10000) % 10).to(device)
    return noise.slot_labels(torch.arange(110000, device=device), y, thr, seed=42).to(torch.int8).cpu()


def test_slot_labels_match_a_pure_python_reference():
    """The torch implementation against plain Python integers, slot by slot."""
    ranks = noise.class_order("random", 10, seed=3)
    T = noise.transition_matrix(10, 10, 0.5, ranks)
    thr = noise.thresholds(T)
    got = _labels()
    key = lowbias32((42 * 0x9E3779B1 + 1 * 0x85EBCA77) & 0xFFFFFFFF)
    for j in list(range(0, 110000, 97)) + [109999]:
        true = j % 10000 % 10
        if j < 10000:
            want = true
        else:
            h = lowbias32(lowbias32(j ^ key) + key)
            want = sum(h >= int(t) for t in thr[true])
        assert int(got[j]) == want, j


def test_noisy_labels_are_bit_identical_to_the_golden_record():
    """Recorded once on the machine that wrote this test: any machine must give the same bytes."""
    got = hashlib.sha256(_labels().numpy().tobytes()).hexdigest()
    assert got == GOLDEN_LABELS


@pytest.mark.skipif(not torch.cuda.is_available(), reason="no GPU here")
def test_noisy_labels_identical_on_gpu():
    assert torch.equal(_labels("cuda"), _labels("cpu"))


def test_thresholds_are_exact_integers():
    thr = noise.thresholds(np.full((10, 10), 0.1))
    assert thr.dtype == torch.int64 and thr[0].tolist() == [round(k * 2**32 / 10) for k in range(1, 10)]


# ---------------------------------------------------------------- bad input at every entry point

CLI_CASES = [
    (["--alphas", "-1"], "alpha must be a finite number >= 0"),
    (["--alphas", "ten"], "--alphas"),
    (["--profile", "huge"], "--profile"),
    (["--models", "vgg"], "not in fig1"),
    (["--seeds", "x"], "--seeds"),
]


@pytest.mark.parametrize("args,message", CLI_CASES)
def test_cli_refuses_bad_input_before_training(tmp_path, args, message):
    root = tmp_path / "results"
    before = _snapshot(root)
    r = subprocess.run(SWEEP + args, env=_env(root), capture_output=True, text=True)
    assert r.returncode == 2 and message in r.stderr, r.stderr
    assert _snapshot(root) == before


def test_cli_missing_data_is_a_clear_error(tmp_path):
    env = dict(_env(tmp_path / "results"), NLCORE_DATA=str(tmp_path / "nowhere"))
    r = subprocess.run(SWEEP + ["--models", "perceptron", "--alphas", "0"], env=env, capture_output=True, text=True)
    assert r.returncode == 2 and "not found in" in r.stderr and str(tmp_path / "nowhere") in r.stderr
    assert not list((tmp_path / "results" / "runs").glob("*.json"))


def test_cli_unwritable_store(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    r = subprocess.run(SWEEP, env=_env(blocker / "results"), capture_output=True, text=True)
    assert r.returncode == 2 and "not writable" in r.stderr


NOTEBOOK_CASES = [  # refused by nlcore.params.check before anything trains (every case: tests/test_params.py)
    (["-p", "alpha", "-5"], "parameter 'alpha' must be None or a number >= 0"),
    (["-p", "profile", "huge"], "parameter 'profile' must be one of"),
    (["-p", "models", '["vgg"]'], "parameter 'models' must be None or a non-empty list of model names"),
    (["-p", "alpha", "abc"], "parameter 'alpha' must be None or a number >= 0"),
    (["-p", "models", '["resnet101"]'], "not in fig1"),  # a model, but not one of Figure 1's
]


@pytest.mark.parametrize("args,message", NOTEBOOK_CASES)
def test_notebook_refuses_bad_parameters(tmp_path, args, message):
    root = tmp_path / "results"
    before = _snapshot(root)
    r = subprocess.run([Path(sys.executable).parent / "papermill", REPO / "notebooks" / "exp1.ipynb",
                        tmp_path / "out.ipynb", "-k", "python3", "--cwd", REPO] + args,
                       env=_env(root), capture_output=True, text=True)
    assert r.returncode != 0 and message in r.stderr + r.stdout
    assert _snapshot(root) == before
