"""Training engines: vectorised AdaDelta against torch's, divergence handling, determinism."""

import copy
import json
import math
import os
import subprocess
import sys

import numpy as np
import pytest
import torch

from nlcore import config, engines, evaluate, graphs, machine, models, noise, steps, tensors, train


def _engines(name, lrs):
    cfg = config.make_config("smoke", model=name, lrs=lrs, precision="fp32")
    torch.manual_seed(0)
    net = models.build(name, 1, 28, 10, width=32)
    torch.manual_seed(0)
    st = engines.Stacked(net, lrs, cfg, "cpu", precision="fp32")
    torch.manual_seed(0)
    sq = engines.Sequential(copy.deepcopy(net), lrs, cfg, "cpu", precision="fp32", channels_last=False)
    return st, sq


@pytest.mark.parametrize("name", ["perceptron", "mlp2", "convnet2"])
def test_stacked_adadelta_matches_torch_optim(name):
    lrs = [0.05, 0.5, 1.0]
    st, sq = _engines(name, lrs)
    g = torch.Generator().manual_seed(1)
    for _ in range(6):
        x = torch.randn(32, 1, 28, 28, generator=g)
        y = torch.randint(0, 10, (32,), generator=g)
        ls, lq = st.step(x, y), sq.step(x, y)
        assert ls.tolist() == pytest.approx(lq.tolist(), rel=1e-4, abs=1e-5)
    for i in range(len(lrs)):
        ref = dict(sq.nets[i].named_parameters())
        for k, p in st.params.items():
            torch.testing.assert_close(p[i], ref[k].detach(), rtol=1e-4, atol=1e-5)
    x = torch.randn(64, 1, 28, 28, generator=g)
    assert torch.equal(st.predict(x), sq.predict(x))


@pytest.mark.parametrize("engine", ["stacked", "sequential"])
def test_divergence_is_recorded_and_others_go_on(engine):
    cfg = config.make_config("smoke", model="mlp1", lrs=[0.5, 1e30], engine=engine)
    m = train.train(cfg, progress=False)
    assert m["engine"] == engine
    good, bad = m["per_lr"]
    assert bad["diverged"] and bad["test_acc"] is None
    assert not good["diverged"] and good["test_acc"] > 0.5
    assert m["best"]["lr"] == 0.5


@pytest.mark.parametrize("name,compiled", [("mlp2", False), ("mlp2", True), ("convnet4", False)])
def test_a_diverged_model_leaves_the_others_untouched(name, compiled):
    """Stacked updates diverged models too (unmasked): their non-finite numbers must stay their own. The same
    two-model stack with a sane second lr is the reference, so that model 0 draws the same dropout masks."""
    cfg = config.make_config("smoke", model=name, precision="fp32")
    torch.manual_seed(0)
    net = models.build(name, 1, 28, 10, width=32)
    pair = []
    for lrs in ([0.1, 1e30], [0.1, 0.05]):
        torch.manual_seed(1)
        pair.append(engines.Stacked(net, lrs, cfg, "cpu", precision="fp32", compiled=compiled))
    both, sane = pair
    g = torch.Generator().manual_seed(1)
    for _ in range(5):
        x, y = torch.randn(32, 1, 28, 28, generator=g), torch.randint(0, 10, (32,), generator=g)
        torch.manual_seed(2)
        lb = both.step(x, y)
        torch.manual_seed(2)
        ls = sane.step(x, y)
        assert lb[0].item() == pytest.approx(ls[0].item(), rel=1e-5)
    assert both.compiled == sane.compiled == compiled
    assert both.alive.tolist() == [True, False] and math.isnan(lb[1].item())
    assert not all(torch.isfinite(p[1]).all() for p in both.params.values())  # it did go non-finite
    for k, p in both.params.items():
        torch.testing.assert_close(p[0], sane.params[k][0], rtol=1e-5, atol=1e-6)
    both.check_weights()
    assert both.alive.tolist() == [True, False]
    assert torch.equal(both.predict(x)[0], sane.predict(x)[0])


@pytest.mark.parametrize("name", ["mlp2", "convnet2"])
def test_sequential_on_device_steps_like_the_one_that_reads_each_loss(name):
    """``on_device`` (CUDA's default, so that a step can be a CUDA graph) reads nothing back: the same
    models, losses and weights as the host-reading step, and a diverged model is marked by its loss on the
    device, stepped on without touching the others, and kept diverged by check_weights."""
    cfg = config.make_config("smoke", model=name, precision="fp32")
    torch.manual_seed(0)
    net = models.build(name, 1, 28, 10, width=32)
    host = engines.Sequential(copy.deepcopy(net), [0.1, 0.05], cfg, "cpu", precision="fp32", channels_last=False)
    dev = engines.Sequential(copy.deepcopy(net), [0.1, 0.05], cfg, "cpu", precision="fp32", channels_last=False,
                                on_device=True)
    bad = engines.Sequential(copy.deepcopy(net), [0.1, 1e30], cfg, "cpu", precision="fp32", channels_last=False,
                                on_device=True)
    assert dev.graphable and not host.graphable
    g = torch.Generator().manual_seed(1)
    for _ in range(5):
        x, y = torch.randn(32, 1, 28, 28, generator=g), torch.randint(0, 10, (32,), generator=g)
        lh, ld, lb = host.step(x, y), dev.step(x, y), bad.step(x, y)
        assert ld.dtype == torch.float32 and lh.dtype == torch.float64
        assert ld.tolist() == pytest.approx(lh.tolist(), rel=1e-6)
        assert lb[0].item() == ld[0].item()
    assert dev.alive.tolist() == [True, True] and bad.alive.tolist() == [True, False]
    assert math.isnan(lb[1].item())
    assert not all(torch.isfinite(p).all() for p in bad.nets[1].parameters())  # it did go non-finite
    for a, b, c in zip(host.nets[0].parameters(), dev.nets[0].parameters(), bad.nets[0].parameters()):
        assert torch.equal(a, b) and torch.equal(b, c)
    bad.check_weights()
    dev.check_weights()
    assert bad.alive.tolist() == [True, False] and dev.alive.tolist() == [True, True]
    assert torch.equal(bad.predict(x)[0], host.predict(x)[0])


def test_a_failed_capture_turns_graphs_off_for_that_engine_kind_only(monkeypatch):
    """A CUDA-graph capture failure is kept per engine class: the other engine's steps are still captured
    (checked without a GPU: which steps would be graphed, and what Steps reports)."""
    monkeypatch.delenv("NLCORE_CUDA_GRAPHS", raising=False)
    monkeypatch.setattr(graphs, "GRAPH_FAILURES", {"Stacked": "RuntimeError('capture')"})
    assert graphs.cuda_graphs_enabled("cuda", "Sequential") and not graphs.cuda_graphs_enabled("cuda", "Stacked")
    assert not graphs.cuda_graphs_enabled("cpu", "Sequential")
    cfg = config.make_config("smoke", model="mlp1", lrs=[0.1, 0.5])
    net = models.build("mlp1", 1, 28, 10, width=32)
    seq = engines.Sequential(copy.deepcopy(net), cfg["lrs"], cfg, "cpu", precision="fp32", channels_last=False,
                             on_device=True)
    st = engines.Stacked(copy.deepcopy(net), cfg["lrs"], cfg, "cpu", precision="fp32")
    d = dict(y=torch.zeros(10, dtype=torch.long))
    s_seq, s_st = steps.Steps(d, cfg, seq, "cuda"), steps.Steps(d, cfg, st, "cuda")
    assert s_seq.graphable and s_seq.graph_error is None
    assert not s_st.graphable and s_st.graph_error == "RuntimeError('capture')"
    monkeypatch.setenv("NLCORE_CUDA_GRAPHS", "0")
    assert not graphs.cuda_graphs_enabled("cuda", "Sequential")


def test_smoke_run_metrics_and_determinism():
    cfg = config.make_config("smoke", model="mlp1", alpha=2)
    a = train.train(cfg, progress=False)
    b = train.train(cfg, progress=False)
    assert a["per_lr"] == b["per_lr"]  # same config and seed: same metrics on CPU, run to run
    assert a["steps"] == 20 and a["slots"] == 1500 and a["engine"] in ("stacked", "sequential")  # measured
    assert len(a["per_lr"]) == len(cfg["lrs"]) and len(a["per_lr"][0]["curve"]) == cfg["evals"]
    for p in a["per_lr"]:
        assert 0 <= p["test_acc"] <= 1 and 0 <= p["val_acc"] <= 1 and math.isfinite(p["curve"][-1]["train_loss"])
    assert a["best"]["selected_on"] == "val"
    assert a["best"]["val_acc"] == max(p["val_acc"] for p in a["per_lr"])


def test_engine_choice_is_measured_and_respects_what_cannot_stack():
    cfg = config.make_config("smoke", model="mlp1", alpha=2)
    net = models.build("mlp1", 1, 28, 10)
    assert machine.choose_engine(cfg, net) in ("stacked", "sequential")
    stored = json.loads(machine.calibration_file().read_text())  # measured once, kept for every process
    keys = [json.loads(k) for k in stored]
    assert any("engine" in k and "mlp1" in k for k in keys)
    assert machine.choose_engine(dict(cfg, engine="stacked"), net) == "stacked"  # an explicit choice is kept
    assert machine.choose_engine(dict(cfg, lrs=[0.1]), net) == "sequential"  # nothing to stack
    bn = models.build("resnet18", 3, 32, 10)
    assert machine.choose_engine(dict(cfg, model="resnet18"), bn, shape=(3, 32, 32)) == "sequential"


def test_lr_selection_on_either_split():
    per = [dict(lr=0.1, diverged=False, val_acc=0.9, test_acc=0.5),
           dict(lr=1.0, diverged=False, val_acc=0.8, test_acc=0.7),
           dict(lr=5.0, diverged=True, val_acc=None, test_acc=None)]
    assert evaluate.select_lr(per, "val")["lr"] == 0.1
    assert evaluate.select_lr(per, "test")["lr"] == 1.0
    assert evaluate.select_lr(per[2:], "val")["all_diverged"]


def test_steps_follow_epochs_and_min_steps():
    cfg = config.make_config("cpu", model="mlp1", alpha=100)
    assert train.num_steps(cfg) == math.ceil(5000 * 101 / 128)
    cfg = config.make_config("cpu", model="mlp1", alpha=0)
    assert train.num_steps(cfg) == 1000


def test_clean_subset_and_validation_split_are_disjoint():
    cfg = config.make_config("smoke", model="mlp1")
    d = tensors.prepare(cfg, "cpu")
    assert len(d.x) == cfg["n_clean"] and len(d.xval) == cfg["n_val"]

    def flat(t):
        return {bytes(r) for r in t.reshape(len(t), -1).numpy()}

    assert not flat(d.x) & flat(d.xval)


@pytest.mark.parametrize("inputs", ["unit", "standardized"])
def test_white_noise_source_images(inputs):
    """noise_source='white': noisy slots show Gaussian images with the clean data's mean and std (in pixels
    / 255, whatever the model's inputs); clean slots show the real images (Sec 3.3)."""
    cfg = config.make_config("smoke", model="mlp1", alpha=4, noise_source="white", repeat=False, inputs=inputs)
    d = tensors.prepare(cfg, "cpu")
    n = len(d.y)
    slots = torch.arange(n * 5)
    labels = torch.zeros_like(slots)
    x, _ = tensors.batch(d, cfg, slots, labels)
    clean = (d.x.float() / 255 - d.mean) / d.std
    assert torch.allclose(x[:n], clean)
    noisy = x[n:] * d.std + d.mean  # back in pixels / 255
    assert abs(noisy.mean().item() - d.pix_mean.item()) < 0.01  # matched mean and variance
    assert abs(noisy.std().item() - d.pix_std.item()) < 0.01
    perm = torch.randperm(len(slots))[:300]
    x2, _ = tensors.batch(d, cfg, slots[perm], labels[perm])
    assert torch.equal(x[perm], x2)  # a slot shows the same image in any batch


def test_structured_noise_trains_end_to_end():
    """delta > 0 through train(): the labels the loop sees follow the structured transition matrix."""
    import numpy as np

    cfg = config.make_config("smoke", model="perceptron", alpha=20, delta=1.0, order="random")
    d = tensors.prepare(cfg, "cpu")
    T = d.T
    assert np.allclose(T.sum(1), 1) and not np.allclose(T, 0.1)
    m = train.train(cfg, progress=False)
    assert m["best"]["lr"] is not None
    conf = np.arange(100).reshape(10, 10)  # class c is most often confused with 9 (or 8 for c = 9)
    ranks = noise.class_order("confusing", 10, conf).tolist()
    ok = tensors.prepare(config.make_config("smoke", model="perceptron", alpha=20, delta=1.0, ranks=ranks), "cpu")
    wrong = ok.T[0, 1:]  # class 0's wrong classes 1..9: the most confused (9) is the most likely, 1 the least
    assert np.argmax(wrong) + 1 == 9 and np.argmin(wrong) + 1 == 1
    with pytest.raises(ValueError, match="needs ranks"):
        config.make_config("smoke", model="perceptron", alpha=20, delta=1.0, order="confusing")


def test_confusion_matrix_is_stored_and_counts_the_test_set():
    cfg = config.make_config("smoke", model="perceptron", alpha=0)
    m = train.train(cfg, progress=False)
    cm = np.array(m["confusion"])
    assert cm.shape == (10, 10) and cm.sum() == cfg["n_test"] == 1000  # every (smoke-subset) test image once
    assert np.trace(cm) / cm.sum() == pytest.approx(m["best"]["test_acc"], abs=1e-6)


def test_h_alpha_matches_equation_3():
    """H_alpha = -1/(1+a) log p[f0] - a/(m(1+a)) sum_k log p[k], computed directly on small tensors."""
    g = torch.Generator().manual_seed(0)
    logits, y = torch.randn(7, 10, generator=g, dtype=torch.float64), torch.randint(0, 10, (7,), generator=g)
    for a in (0.0, 1.0, 20.0, 100.0):
        logp = torch.log_softmax(logits, 1)
        direct = (-logp[torch.arange(7), y] / (1 + a) - a / (10 * (1 + a)) * logp.sum(1)).mean()
        assert torch.allclose(engines.h_alpha(logits, y, a), direct, rtol=1e-12)
        # and it is the expected cross-entropy of a uniform-noise label drawn as the paper says
        p_label = torch.full((7, 10), a / (10 * (1 + a)), dtype=torch.float64)
        p_label[torch.arange(7), y] += 1 / (1 + a)
        assert torch.allclose(direct, -(p_label * logp).sum(1).mean(), rtol=1e-12)


def test_h_alpha_run_trains_on_clean_examples_only():
    cfg = config.make_config("smoke", model="perceptron", alpha=50, loss="h_alpha")
    assert train.num_slots(cfg, cfg["n_clean"]) == cfg["n_clean"]
    assert engines.label_smoothing(cfg) == pytest.approx(50 / 51)
    m = train.train(cfg, progress=False)
    assert m["slots"] == cfg["n_clean"] and m["best"]["lr"] is not None
    with pytest.raises(ValueError, match="h_alpha"):
        config.make_config("smoke", model="perceptron", alpha=50, loss="h_alpha", delta=0.5, order="random")


@pytest.mark.parametrize("engine", ["stacked", "sequential"])
def test_engines_train_on_h_alpha(engine):
    """With loss='h_alpha' the loss an engine reports (and differentiates) is eq. 3 on the clean labels."""
    cfg = config.make_config("smoke", model="perceptron", alpha=20, loss="h_alpha", precision="fp32", engine=engine)
    torch.manual_seed(0)
    net = models.build("perceptron", 1, 28, 10)
    cls = engines.Stacked if engine == "stacked" else engines.Sequential
    eng = cls(net, cfg["lrs"], cfg, "cpu", precision="fp32", channels_last=False)
    g = torch.Generator().manual_seed(1)
    x, y = torch.randn(64, 1, 28, 28, generator=g), torch.randint(0, 10, (64,), generator=g)
    want = engines.h_alpha(net(x), y, 20.0).item()  # every model of the grid starts from net's weights
    got = eng.step(x, y)
    assert got.tolist() == pytest.approx([want] * len(cfg["lrs"]), rel=1e-5)


def test_top5_accuracy_counts_a_hit_in_any_of_the_five_best():
    class Stub:  # ranks classes 0, 1, 2, ... for every image
        alive = [True]

        def predict(self, x, k=1):
            return torch.arange(k).expand(len(x), k).unsqueeze(0)

    x = torch.zeros(6, 1, 2, 2, dtype=torch.uint8)
    y = torch.tensor([0, 1, 4, 5, 9, 4])  # top-1 hits: one image; top-5 (classes 0-4): four images
    z = torch.zeros(1, 1, 1, 1)
    assert evaluate.accuracy(Stub(), x, y, mean=z, std=z + 1) == [pytest.approx(1 / 6)]
    assert evaluate.accuracy(Stub(), x, y, mean=z, std=z + 1, k=5) == [pytest.approx(4 / 6)]


def test_fastest_takes_turns_and_keeps_each_engines_best_round():
    """A one-off stall of the fast engine (other work on the machine) must not hand the choice to the slow one."""
    import time

    class Fake:
        graphable = False

        def __init__(self, seconds, stall_at=None):
            self.seconds, self.stall_at, self.calls = seconds, stall_at, 0

        def step(self, x, y):
            self.calls += 1
            time.sleep(self.seconds + (0.05 if self.calls == self.stall_at else 0.0))

    fast, slow = Fake(0.001, stall_at=3), Fake(0.004)  # the fast one stalls inside its first timed round
    assert machine.fastest({"slow": slow, "fast": fast}, None, None, "cpu") == "fast"
    assert fast.calls == slow.calls == 2 + 3 * 4  # 2 warm-up steps, then 3 rounds of 4


def test_precision_is_measured_for_models_without_convolutions_too():
    cfg = config.make_config("smoke", model="mlp1")
    prec, cl = machine.choose_precision(cfg, models.build("mlp1", 1, 28, 10), "cpu", (1, 28, 28))
    assert prec in ("fp32", "bf16") and cl is False
    keys = [json.loads(k) for k in json.loads(machine.calibration_file().read_text())]
    assert any("precision" in k and "mlp1" in k for k in keys)


# ----------------------------------------------------------------------------- torch.compile (CPU)


@pytest.mark.parametrize("model, mlp_dropout", [("perceptron", 0.0), ("mlp1", 0.2)])
def test_compiled_stacked_step_matches_eager_and_short_batches_stay_eager(model, mlp_dropout):
    """With dropout, both draw their masks outside the step from torch's generator: the same masks."""
    lrs = [0.05, 0.5, 1.0]
    cfg = config.make_config("smoke", model=model, lrs=lrs, precision="fp32", mlp_dropout=mlp_dropout)
    net = models.build(model, 1, 28, 10, mlp_dropout=mlp_dropout)
    eager = engines.Stacked(net, lrs, cfg, "cpu", precision="fp32")
    comp = engines.Stacked(net, lrs, cfg, "cpu", precision="fp32", compiled=True)
    assert len(eager.masks) == (1 if mlp_dropout else 0)
    g = torch.Generator().manual_seed(1)
    from torch._dynamo.utils import counters
    for b in (128, 128, 128, 40):  # 40: an epoch's short last batch, run eagerly (no second compilation)
        x, y = torch.randn(b, 1, 28, 28, generator=g), torch.randint(0, 10, (b,), generator=g)
        graphs = counters["stats"]["unique_graphs"]
        torch.manual_seed(b)
        out = comp.step(x, y)
        torch.manual_seed(b)
        torch.testing.assert_close(out, eager.step(x, y), rtol=1e-5, atol=1e-6)
        if b == 40:
            assert counters["stats"]["unique_graphs"] == graphs
    assert comp.compiled and comp.compile_error is None
    for k in eager.params:
        torch.testing.assert_close(comp.params[k], eager.params[k], rtol=1e-5, atol=1e-6)
        torch.testing.assert_close(comp.v[k], eager.v[k], rtol=1e-5, atol=1e-9)


def test_compiling_is_chosen_only_where_it_pays(monkeypatch):
    """steps * (eager - compiled) > compile seconds; short runs never measure a compilation; failures stick."""
    cfg = config.make_config("smoke", model="mlp1", lrs=[0.1, 1.0])
    net = models.build("mlp1", 1, 28, 10)
    asked = []

    def fake(answers):
        def calibrated(key, measure):
            asked.append(key[0])
            return answers[key[0]]
        return calibrated

    monkeypatch.setattr(machine, "calibrated", fake({"eager_step_s": 0.010, "compiled": dict(compile_s=20.0,
                                                                                          step_s=0.006)}))
    choose = lambda steps, **kw: machine.choose_compiled(dict(cfg, **kw), net, "cpu", (1, 28, 28),  # noqa: E731
                                                        precision="bf16", channels_last=False, eager="sequential",
                                                        steps=steps)
    assert not choose(100) and asked == ["eager_step_s"]  # 1 s of eager work: compiling is not even measured
    assert not choose(4000)  # saves 16 s, costs 20 s
    assert choose(6000)  # saves 24 s
    assert choose(None)  # unbounded (the benchmark): faster is enough
    assert not choose(10**6, engine="sequential") and not choose(10**6, lrs=[0.1])
    monkeypatch.setattr(machine, "calibrated", fake({"eager_step_s": 0.010, "compiled": dict(error="no compiler")}))
    assert not choose(10**6)
    monkeypatch.setenv("NLCORE_COMPILE", "0")
    monkeypatch.setattr(machine, "calibrated", fake({"eager_step_s": 0.010, "compiled": dict(compile_s=0, step_s=0)}))
    assert not choose(10**6)
    assert not machine.choose_compiled(cfg, net, "cuda", (1, 28, 28), precision="bf16", channels_last=False,
                                   eager="stacked", steps=None)


@pytest.mark.parametrize("noise_source", ["same", "white"])
def test_a_compiled_run_records_it_and_trains_like_the_eager_one(monkeypatch, noise_source):
    cfg = config.make_config("smoke", model="perceptron", alpha=2, precision="fp32", engine="stacked",
                             noise_source=noise_source, repeat=noise_source == "same")
    eager = train.train(cfg, progress=False)
    monkeypatch.setattr(machine, "choose_compiled", lambda *a, **k: True)
    comp = train.train(cfg, progress=False)
    assert comp["compiled"] and not eager["compiled"] and comp["engine"] == "stacked"
    for a, b in zip(comp["per_lr"], eager["per_lr"]):  # float rounding apart, the same training
        assert a["curve"][-1]["train_loss"] == pytest.approx(b["curve"][-1]["train_loss"], rel=1e-4)
        assert a["test_acc"] == pytest.approx(b["test_acc"], abs=0.005)


def test_a_compilation_that_cannot_happen_falls_back_to_eager_and_says_so():
    """Past torch's cap on compiled variants the step would quietly run eagerly: here it raises, the engine
    trains eagerly and ``compiled`` turns False (what a run records)."""
    cfg = config.make_config("smoke", model="mlp1", lrs=[0.1, 1.0], precision="fp32")
    net = models.build("mlp1", 1, 28, 10, width=24)
    comp = engines.Stacked(net, cfg["lrs"], cfg, "cpu", precision="fp32", compiled=True)
    assert torch._dynamo.config.recompile_limit >= engines.COMPILE_CACHE  # room for a sweep's kinds
    eager = engines.Stacked(net, cfg["lrs"], cfg, "cpu", precision="fp32")
    x, y = torch.randn(128, 1, 28, 28), torch.randint(0, 10, (128,))
    with torch._dynamo.config.patch(recompile_limit=0):  # no room for this kind (torch's own patcher undoes it)
        torch.testing.assert_close(comp.step(x, y), eager.step(x, y))
        assert not comp.compiled and comp.compile_error
        torch.testing.assert_close(comp.step(x, y), eager.step(x, y))  # and stays eager


_FAULTS_OF_A_REUSED_BLOCK = """
import ctypes, resource, sys
libc = ctypes.CDLL("libc.so.6")
libc.malloc.restype = ctypes.c_void_p
if sys.argv[1] == "kept":
    from nlcore import machine
    assert machine.keep_freed_memory()
def touch_and_free(n=16 << 20):  # a 16 MiB block, as a step's temporaries are
    p = libc.malloc(n)
    ctypes.memset(p, 1, n)
    libc.free(ctypes.c_void_p(p))
touch_and_free()
f = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
touch_and_free()
print(resource.getrusage(resource.RUSAGE_SELF).ru_minflt - f)
"""


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc's malloc")
def test_keep_freed_memory_reuses_a_freed_block_instead_of_faulting_it_in_again():
    """A freed 16 MiB block, allocated again: glibc's default unmaps it and faults its 4,096 pages in again;
    after keep_freed_memory it is reused with (almost) no page faults. Each case in a fresh process."""
    if not machine.keep_freed_memory():
        pytest.skip("not glibc")
    try:  # with transparent huge pages always on, the default case takes a few 2 MiB faults, not 4,096
        if "[always]" in open("/sys/kernel/mm/transparent_hugepage/enabled").read():
            pytest.skip("transparent huge pages always on: page faults do not count 4 KiB pages")
    except OSError:
        pass
    env = {k: v for k, v in os.environ.items()
           if not k.startswith("MALLOC_") and k not in ("GLIBC_TUNABLES", "NLCORE_MALLOC")}

    def faults(mode):
        out = subprocess.run([sys.executable, "-c", _FAULTS_OF_A_REUSED_BLOCK, mode], capture_output=True, text=True,
                             check=True, env=env)
        return int(out.stdout.split()[-1])

    assert faults("default") > 3000
    assert faults("kept") < 300
    assert machine.keep_freed_memory() is True  # idempotent: set once per process


@pytest.mark.parametrize("inputs", ["unit", "standardized"])
def test_always_dark_pixels_get_no_gradient_from_unit_inputs_only(inputs):
    """x / 255 leaves a pixel that is 0 in every clean image at 0, so its first-layer weights never move;
    standardized, it carries -mean/std and under label noise its weights drift."""
    cfg = config.make_config("smoke", model="perceptron", alpha=20, inputs=inputs, evals=2, mean_last=1)
    d = tensors.prepare(cfg, "cpu")
    assert int((d.x.flatten(1).amax(0) == 0).sum()) > 0  # MNIST's border
    if inputs == "unit":
        assert float(d.mean.abs().max()) == 0 and float((d.std - 1).abs().max()) == 0
    r = train.train(cfg, progress=False)
    for p in r["per_lr"]:
        for e in p["curve"]:
            assert e["lit_drift"] > 0
            assert (e["dark_drift"] == 0) if inputs == "unit" else (e["dark_drift"] > 0)


def test_the_reported_accuracy_is_the_mean_of_the_last_evaluations():
    cfg = config.make_config("smoke", model="mlp1", alpha=2, evals=5, mean_last=3)
    r = train.train(cfg, progress=False)
    for p in r["per_lr"]:
        assert len(p["curve"]) == 5
        assert p["test_acc"] == pytest.approx(sum(e["test_acc"] for e in p["curve"][-3:]) / 3)
        assert p["val_acc"] == pytest.approx(sum(e["val_acc"] for e in p["curve"][-3:]) / 3)
    assert r["best"]["val_acc"] == max(p["val_acc"] for p in r["per_lr"])
    assert r["resumed_at"] == []


def test_stacked_dropout_masks_on_a_cpu_keep_1_minus_p_and_differ_between_models():
    """MaskDropout's masks: (G, batch, width) of 0 and 1 / (1 - p), kept with probability 1 - p, a fresh draw
    per model and per step; the model in eval mode ignores them."""
    lrs = [0.1, 0.5, 1.0]
    cfg = config.make_config("smoke", model="mlp2", lrs=lrs, precision="fp32", mlp_dropout=0.2)
    eng = engines.Stacked(models.build("mlp2", 1, 28, 10, mlp_dropout=0.2), lrs, cfg, "cpu", precision="fp32")
    assert [p for _, p in eng.masks] == [0.2, 0.2] and not eng.graphable
    x, y = torch.randn(128, 1, 28, 28), torch.randint(0, 10, (128,))
    eng.step(x, y)
    first = {k: eng.buffers[f"{k}.mask"].clone() for k, _ in eng.masks}
    eng.step(x, y)
    for k, _ in eng.masks:
        m = eng.buffers[f"{k}.mask"]
        assert m.shape == (3, 128, 512) and set(m.unique().tolist()) == {0.0, 1.25}
        keep = (m > 0).float().mean().item()
        assert abs(keep - 0.8) < 6 * (0.16 / m.numel()) ** 0.5
        assert not torch.equal(m[0], m[1]) and not torch.equal(m, first[k])
    p1 = eng.predict(x)
    assert torch.equal(p1, eng.predict(x))  # eval mode: no dropout


def test_h_alpha_trains_as_many_steps_as_cross_entropy_on_the_diluted_set():
    """A pass of H_alpha (clean examples only) takes the steps of a pass over the diluted set it stands for."""
    ce = config.make_config("full", model="convnet2", alpha=20, n_clean=10000, epochs=1.0)
    h = dict(ce, loss="h_alpha")
    assert train.num_steps(h) == train.num_steps(ce) == math.ceil(10000 * 21 / 128)
    assert train.num_slots(h, h["n_clean"]) == 10000  # an epoch of its permutation is still the clean set
    assert train.num_steps(dict(h, epochs=0.0, min_steps=400)) == 400  # the cpu profile's runs: the floor alone
