"""GPU-only checks (skipped without CUDA; run by benchmarks/gpu.sh on a lent GPU machine).

The captured CUDA graph of a training step (``nlcore.steps.Steps``) must compute what the eager step does,
and ``train.train`` must use it and say so in its metrics.
"""

import pytest
import torch

from nlcore import config, engines, graphs, machine, tensors, train
from nlcore.steps import Steps

pytestmark = pytest.mark.skipif(not torch.cuda.is_available(), reason="no GPU here")


def _params(eng):
    if isinstance(eng, engines.Stacked):
        return {k: v.cpu() for k, v in eng.params.items()}
    return {f"{i}.{k}": v.detach().cpu() for i, net in enumerate(eng.nets) for k, v in net.named_parameters()}


def _run(model, graphs, n_steps=12, precision="fp32", engine="stacked"):
    """Losses (n_steps, G) and final params of n_steps on the same slot batches."""
    cfg = config.make_config("smoke", model=model, alpha=10, engine=engine, precision=precision)
    d = tensors.prepare(cfg, "cuda")
    eng, info = machine.make_engine(cfg, "cuda", shape=d.x.shape[1:], classes=d.m)
    steps = Steps(d, cfg, eng, "cuda")
    steps.graphable &= graphs
    g = torch.Generator().manual_seed(3)
    slots = train.num_slots(cfg, len(d.y))
    losses = [steps(torch.randint(0, slots, (cfg["batch_size"],), generator=g).cuda()).clone()
              for _ in range(n_steps)]
    torch.cuda.synchronize()
    return torch.stack(losses).cpu(), _params(eng), steps


@pytest.mark.parametrize("model,engine", [("perceptron", "stacked"), ("mlp2", "stacked"), ("mlp2", "sequential"),
                                          ("convnet2", "sequential")])
def test_cuda_graph_step_equals_eager_step(model, engine, monkeypatch):
    """No dropout in these models: graph replays and eager steps must agree step for step (the sequential
    engine's graph holds every model's forward, backward and capturable torch.optim.Adadelta step).
    cuDNN's deterministic algorithms, not timed ones, so that both runs use the same convolutions."""
    monkeypatch.setenv("NLCORE_CUDNN_BENCHMARK", "0")
    monkeypatch.setattr(torch.backends.cudnn, "deterministic", True)
    le, pe, se = _run(model, graphs=False, engine=engine)
    lg, pg, sg = _run(model, graphs=True, engine=engine)
    assert not se.cuda_graph
    assert sg.cuda_graph, f"capture failed: {sg.graph_error}"
    assert sg.calls == Steps.WARMUP + 1  # later steps were replays
    torch.testing.assert_close(lg, le, rtol=1e-5, atol=1e-6)
    for k in pe:
        torch.testing.assert_close(pg[k], pe[k], rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("engine", ["stacked", "sequential"])
def test_cuda_graph_trains_a_convnet_with_dropout_in_bf16(engine):
    """ConvNet-4 (dropout, bf16 autocast): captured, and the loss falls as it does eagerly."""
    lg, _, sg = _run("convnet4", graphs=True, n_steps=40, precision="bf16", engine=engine)
    le, _, _ = _run("convnet4", graphs=False, n_steps=40, precision="bf16", engine=engine)
    assert sg.cuda_graph, f"capture failed: {sg.graph_error}"
    assert torch.isfinite(lg).all()
    assert lg[-10:].mean() < lg[:5].mean()
    torch.testing.assert_close(lg[-10:].mean(), le[-10:].mean(), rtol=0.15, atol=0.05)


@pytest.mark.parametrize("engine", ["stacked", "sequential"])
def test_train_on_cuda_uses_the_graph_and_matches_eager(monkeypatch, engine):
    # 30 steps over a 3,000-slot diluted set: 24 steps an epoch, so an epoch's short last batch runs
    # eagerly between graph replays (for the sequential engine: with its own .grad tensors, then the graph's)
    cfg = config.make_config("smoke", model="mlp2", alpha=5, engine=engine, precision="fp32", min_steps=30)
    got = train.train(cfg, "cuda", progress=False)
    monkeypatch.setenv("NLCORE_CUDA_GRAPHS", "0")
    eager = train.train(cfg, "cuda", progress=False)
    assert got["cuda_graph"] and not eager["cuda_graph"] and got["engine"] == engine
    for a, b in zip(got["per_lr"], eager["per_lr"]):
        assert a["test_acc"] == pytest.approx(b["test_acc"], abs=2e-3)


@pytest.mark.parametrize("engine", ["stacked", "sequential"])
def test_dropout_draws_fresh_numbers_at_every_replay(engine):
    """The graph must advance the CUDA generator at each replay (or every replay would reuse one mask)."""
    _, _, steps = _run("convnet4", graphs=True, n_steps=Steps.WARMUP + 2, precision="bf16", engine=engine)
    assert steps.cuda_graph
    gen = torch.cuda.default_generators[0]
    before = gen.get_offset()
    steps(torch.zeros(steps.cfg["batch_size"], dtype=torch.int64, device="cuda"))
    torch.cuda.synchronize()
    assert gen.get_offset() > before


def test_a_failed_capture_trains_on_eagerly(monkeypatch):
    """A step that reads a value back to the host cannot be captured: the run must go on, eagerly, its
    dropout too (a failed capture leaves CUDA's generator marked as capturing: graphs._unmark_generator)."""
    monkeypatch.setattr(graphs, "GRAPH_FAILURES", {})
    real = engines.Stacked.step

    def host_sync(self, x, y):
        out = real(self, x, y)
        float(out.sum())  # a device-to-host read: forbidden while capturing
        return out

    monkeypatch.setattr(engines.Stacked, "step", host_sync)
    le, pe, se = _run("mlp2", graphs=True)
    assert not se.cuda_graph and se.graph_error and graphs.GRAPH_FAILURES
    assert "unmarking" not in se.graph_error
    assert torch.nn.functional.dropout(torch.ones(64, device="cuda"), 0.5).eq(0).any()  # eager draws work
    monkeypatch.setattr(graphs, "GRAPH_FAILURES", {})
    monkeypatch.setattr(engines.Stacked, "step", real)
    lr, pr, _ = _run("mlp2", graphs=False)
    # mlp2 draws dropout masks every step, so equal losses and weights also say that the failed capture and
    # the unmarking left the eager generator's offset where a run that never captured has it
    assert config.make_config("smoke", model="mlp2", alpha=10)["mlp_dropout"] > 0
    torch.testing.assert_close(le, lr, rtol=1e-5, atol=1e-6)
    for k in pe:
        torch.testing.assert_close(pe[k], pr[k], rtol=1e-5, atol=1e-6)
