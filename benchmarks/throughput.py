"""Throughput of the nlcore engine against plain PyTorch on the same work (MNIST, the lr grid).

    python benchmarks/throughput.py            # ConvNet-4 at alpha = 10 with the 5-value lr grid, + the MLPs
    python benchmarks/throughput.py --quick    # the same, fewer steps (under a minute on 2 cores)

The baseline is the paper's protocol as a competent user writes it: the diluted set as a ConcatDataset
of the clean TensorDataset (images already float and normalised in memory) and alpha relabelled copies
sharing those images, a DataLoader (batch 128, shuffle), fp32, one model per learning rate trained after
another. The engine is nlcore's hot loop (``nlcore.train``: uint8 images on the device, noisy labels
drawn per slot, no DataLoader, the lr grid stacked or sequential, precision chosen by measuring). Both
count every model's images and time training steps only (evaluation is the same code on both sides).

Also printed: ``bound_ratio`` (the loop / the same engine, precision and, on CUDA, graph stepping on one
batch already in memory: 1.0 means the data path costs nothing), ``peak_fraction`` (the engine's model
FLOP/s, counted by torch's FlopCounterMode, over this CPU's fp32 peak, measured as the best of large
fp32 matrix products: the peak a real kernel reaches here, not a datasheet number) and peak resident
memory at alpha = 100 on all 60,000 MNIST images for the engine, the baseline (relabelled copies sharing
the images) and a materialised baseline (each copy its own uint8 images), each in a fresh process.
Per model also: ``baseline_peak_fraction`` and ``ratio_ceiling_fp32`` (the fp32 peak over the baseline's FLOP/s:
the most any fp32 engine could gain over it on this device; bf16 can go past it where the device has bf16
units: ``ratio_ceiling_bf16``, from the bf16 peak measured the same way), ``engine_peak_fraction_own_precision``
(against the peak of the precision the engine chose), ``compiled`` (the stacked step compiled by
torch.compile: chosen by measuring, ``nlcore.machine.choose_compiled``; the benchmark's run is unbounded, so
it compiles whenever the compiled step is faster), ``engine_uncompiled_img_s`` and ``ratio_uncompiled``
(compiling off: what a run too short to pay for compiling trains with), ``compiled_in_fig1_cpu_at_alpha``
(which Figure 1 runs at the cpu profile compile, given their length) and ``engine_setup_s`` (data,
machine choices and warm-up steps of the first repeat, with torch's on-disk compile cache and the
calibration already warm: a cold first compilation takes 2-20 s here).
Both sides run with the malloc setting the engine makes on a CPU (``nlcore.machine.keep_freed_memory``:
freed blocks reused instead of page-faulted in again), set once for the whole process, and so does each
memory process.
On CUDA also: ``engine_img_s_by_engine`` (stacked and sequential, each a graph per step; ``engine="auto"``
picks between them by measuring; the chosen one's rate is ``engine_img_s``, the other is timed once),
``engine_no_graph_img_s``, ``packed_img_s`` (the lr grid repeated k times in one stacked step) and, for
ConvNets, ``engine_no_cudnn_benchmark_img_s`` (cuDNN's heuristic
algorithms instead of timed ones).
Throughputs are the median of 3 interleaved repeats (1 with --quick); ``ratio_repeats`` is each repeat's
engine over the baseline timed just before it. The last line is JSON.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import time
from unittest import mock

import torch
import torch.nn.functional as F
from torch.utils.data import ConcatDataset, DataLoader, TensorDataset

from nlcore import config, data, graphs, machine, models, results, sweep, tensors, train
from nlcore.steps import Steps

LRS = [0.01, 0.05, 0.1, 0.5, 1.0]


def _mnist(n: int):
    x, y = data.load("mnist", "train")
    return x[:n], y[:n]


def _sync(device: str) -> None:
    if device.startswith("cuda"):
        torch.cuda.synchronize()


def baseline(model: str, alpha: float, steps: int, n: int, lrs=LRS, device: str = "cpu",
             materialise: bool = False) -> dict:
    """Plain PyTorch: ConcatDataset + DataLoader, fp32, one model per lr after another (batches moved to
    ``device`` as a user would, pinned memory on a GPU). The relabelled copies share the clean images;
    ``materialise=True`` gives each copy its own uint8 images (converted per batch), as a dataset of
    noisy examples written to disk and read back would have. Timed: the training steps after one
    warm-up step per model (building models and optimisers is not timed, as for the engine). On a GPU
    cuDNN times its convolution algorithms (``cudnn.benchmark``), a competent user's one line, as the
    engine does."""
    if device.startswith("cuda"):
        torch.backends.cudnn.benchmark = True
    x, y = _mnist(n)
    mean, std = data.pixel_stats(x)
    mean, std = mean.view(1, -1, 1, 1), std.view(1, -1, 1, 1)
    g = torch.Generator().manual_seed(0)
    if materialise:
        sets = [TensorDataset(x, y)] + [TensorDataset(x.clone(), torch.randint(0, 10, (n,), generator=g))
                                        for _ in range(int(alpha))]
    else:
        xf = (x.float() / 255 - mean) / std
        sets = [TensorDataset(xf, y)] + [TensorDataset(xf, torch.randint(0, 10, (n,), generator=g))
                                         for _ in range(int(alpha))]
    loader = DataLoader(ConcatDataset(sets), batch_size=128, shuffle=True, pin_memory=device.startswith("cuda"))
    dt = 0.0
    for lr in lrs:
        torch.manual_seed(0)
        net = models.build(model, 1, 28, 10).to(device)
        opt = torch.optim.Adadelta(net.parameters(), lr=lr)
        it, done = iter(loader), -1  # step -1: the untimed warm-up
        while done < steps:
            try:
                xb, yb = next(it)
            except StopIteration:
                it = iter(loader)
                continue
            if done == 0:
                _sync(device)
                t0 = time.perf_counter()
            if materialise:
                xb = (xb.float() / 255 - mean) / std
            xb, yb = xb.to(device, non_blocking=True), yb.to(device, non_blocking=True)
            loss = F.cross_entropy(net(xb), yb)
            opt.zero_grad()
            loss.backward()
            opt.step()
            done += 1
        _sync(device)
        dt += time.perf_counter() - t0
    return dict(img_s=steps * 128 * len(lrs) / dt, seconds=dt)


def engine(model: str, alpha: float, steps: int, n: int, lrs=LRS, device: str = "cpu",
           precision: str = "auto", graphs: bool = True, engine: str = "auto") -> dict:
    """nlcore's loop as ``train.train`` runs it: tensors.prepare, machine.make_engine, Steps (on CUDA the
    captured graph unless ``graphs=False``). Timed: ``steps`` steps after the same number of untimed
    warm-up steps with or without the graph (Steps.WARMUP + 1: the graph's warm-up and capture)."""
    cfg = config.make_config("cpu", model=model, alpha=alpha, n_clean=n, lrs=lrs, n_val=0, lr_select="test",
                             precision=precision, engine=engine)
    t_setup = time.perf_counter()
    d = tensors.prepare(cfg, device)
    eng, info = machine.make_engine(cfg, device, shape=d.x.shape[1:], classes=d.m)
    run = Steps(d, cfg, eng, device)
    run.graphable &= graphs
    slots = train.num_slots(cfg, n)
    gen = torch.Generator().manual_seed(1)
    total = torch.zeros(len(lrs), dtype=torch.float64, device=device)
    done, t0 = -(Steps.WARMUP + 1), None  # negative: untimed warm-up steps
    while done < steps:
        perm = torch.randperm(slots, generator=gen).to(device)
        for i in range(0, slots - 127, 128):
            if done >= steps:
                break
            if done == 0:
                _sync(device)
                t0 = time.perf_counter()
                setup_s = t0 - t_setup  # data, machine choices, warm-up steps (and compiling, if it compiles)
            total += run(perm[i:i + 128]).to(device, torch.float64)  # as train.train sums the losses
            done += 1
    _sync(device)
    dt = time.perf_counter() - t0
    return dict(img_s=steps * 128 * len(lrs) / dt, seconds=dt, engine=info["engine"], precision=info["precision"],
                channels_last=info["channels_last"], compiled=info["compiled"], cuda_graph=run.cuda_graph,
                graph_error=run.graph_error, setup_s=setup_s)


def uncompiled(model: str, alpha: float, steps: int, n: int) -> dict:
    """The CPU engine with compiling off (``NLCORE_COMPILE=0``): what runs too short to pay for it use."""
    with mock.patch.dict(os.environ, NLCORE_COMPILE="0"):
        return engine(model, alpha, steps, n)


def compiled_at_cpu_profile(model: str) -> list[float]:
    """The alphas of Figure 1 at the cpu profile whose runs of ``model`` compile (``machine.choose_compiled``
    with this machine's stored measurements and each run's length)."""
    out = []
    for cfg in sweep.figure_configs("fig1", "cpu", models=[model]):
        _, info = machine.make_engine(cfg, "cpu", shape=(1, 28, 28), classes=10, steps=train.num_steps(cfg))
        if info["compiled"] and cfg["alpha"] not in out:
            out.append(cfg["alpha"])
    return out


def _packed(k: int) -> list[float]:
    """The lr grid k times, each copy nudged (a config's lrs must be distinct): k * 5 models per step."""
    return [lr * (1 + 1e-6 * j) for j in range(k) for lr in LRS]


def bound(model: str, steps: int, lrs=LRS, device: str = "cpu") -> float:
    """Images/s (every model's) of the engine the loop uses, with its precision, memory format and, on CUDA,
    its graph, stepping on one batch already on the device: the loop without its data path."""
    cfg = config.make_config("cpu", model=model, lrs=lrs)
    eng, _ = machine.make_engine(cfg, device, shape=(1, 28, 28), classes=10)
    x, y = torch.randn(128, 1, 28, 28, device=device), torch.randint(0, 10, (128,), device=device)
    step = graphs.fixed_step(eng, x, y, device)
    for _ in range(3):
        step()
    _sync(device)
    t0 = time.perf_counter()
    for _ in range(steps):
        step()
    _sync(device)
    return steps * 128 * len(lrs) / (time.perf_counter() - t0)


def train_flops(model: str) -> float:
    """FLOPs of one training image (forward + backward), counted by torch on a batch of 128."""
    from torch.utils.flop_counter import FlopCounterMode

    net = models.build(model, 1, 28, 10)
    x, y = torch.randn(128, 1, 28, 28), torch.randint(0, 10, (128,))
    with FlopCounterMode(display=False) as fc:
        F.cross_entropy(net(x), y).backward()
    return fc.get_total_flops() / 128


def mm_peak(seconds: float = 3.0, device: str = "cpu", dtype=torch.float32) -> float:
    """Best FLOP/s of matrix products (2048 x 2048, TF32 off) in ``dtype``: the practical peak of the device."""
    torch.backends.cuda.matmul.allow_tf32 = False
    a, b = (torch.randn(2048, 2048, device=device, dtype=dtype) for _ in range(2))
    best, t_end = 0.0, time.perf_counter() + seconds
    while time.perf_counter() < t_end:
        _sync(device)
        t0 = time.perf_counter()
        for _ in range(4):
            torch.mm(a, b)
        _sync(device)
        best = max(best, 4 * 2 * 2048**3 / (time.perf_counter() - t0))
    return best


def memory(kind: str, alpha: float = 100.0, n: int = 60000) -> float:
    """Peak resident memory (GiB) of building the diluted MNIST set and taking 3 steps, in a fresh process.
    ``kind``: "engine", "baseline" (copies share the images) or "materialised" (each copy has its own)."""
    call = {"engine": "t.engine(", "baseline": "t.baseline(", "materialised": "t.baseline(materialise=True, "}[kind]
    code = (f"import sys; sys.path.insert(0, {str(__import__('pathlib').Path(__file__).parent)!r}); "
            f"import throughput as t; t.machine.keep_freed_memory(); "
            f"{call}model='mlp1', alpha={alpha}, steps=3, n={n}, lrs=[0.1]); "
            "print(t.peak_rss_kib())")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return int(out.stdout.split()[-1]) / 2**20


def peak_rss_kib() -> int:
    """This process's peak resident memory in KiB: VmHWM of /proc/self/status on Linux. (``ru_maxrss`` is
    not used: Linux carries a parent's peak across fork and exec into it, so a child of a large process
    reads at least the parent's size.)"""
    try:
        for line in open("/proc/self/status"):
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    except OSError:
        pass
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


def _cpu_name() -> str:
    try:
        for line in open("/proc/cpuinfo"):
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def main(argv=None) -> dict:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--quick", action="store_true", help="fewer steps: under a minute")
    ap.add_argument("--alpha", type=float, default=10.0)
    ap.add_argument("--n", type=int, default=5000, help="clean MNIST images (the cpu profile's 5,000)")
    ap.add_argument("--models", nargs="+", default=["convnet4", "perceptron", "mlp1", "mlp2", "mlp4"])
    ap.add_argument("--no-memory", action="store_true")
    ap.add_argument("--device", default="cpu", help="cpu or cuda (the GPU script: benchmarks/gpu.sh)")
    ap.add_argument("--pack", nargs="*", type=int, default=[1, 4, 16, 64],
                    help="on CUDA: also time the lr grid repeated k times in one stacked engine (k * 5 models)")
    args = ap.parse_args(argv)
    torch.set_num_threads(torch.get_num_threads())
    machine.keep_freed_memory()  # the engine sets it on a CPU; the baseline, timed in this process, gets it too
    by_model = {}
    for m in args.models:
        conv = m.startswith("convnet")
        steps = (8 if args.quick else 40) if conv else (40 if args.quick else 300)
        cuda = args.device.startswith("cuda")
        if cuda:
            steps = 300 if conv else 600
        reps = 1 if args.quick else 3  # the median of interleaved repeats
        runs = [(baseline(m, args.alpha, steps, args.n, device=args.device),
                 engine(m, args.alpha, steps, args.n, device=args.device),
                 engine(m, args.alpha, steps, args.n, device=args.device, precision="fp32"),
                 engine(m, args.alpha, steps, args.n, device=args.device, graphs=False) if cuda else None,
                 uncompiled(m, args.alpha, steps, args.n) if not cuda else None)
                for _ in range(reps)]
        b = statistics.median(r[0]["img_s"] for r in runs)
        e_info = runs[0][1]
        e = statistics.median(r[1]["img_s"] for r in runs)
        e32 = statistics.median(r[2]["img_s"] for r in runs)
        extra = {}
        if not cuda:  # what a run too short to pay for compiling trains with, and which runs compile
            extra["engine_uncompiled_img_s"] = round(statistics.median(r[4]["img_s"] for r in runs))
            extra["ratio_uncompiled"] = round(extra["engine_uncompiled_img_s"] / b, 2)
            extra["compiled_in_fig1_cpu_at_alpha"] = compiled_at_cpu_profile(m)
        if cuda:  # the graph's share, and how far packing more models per step fills the device
            extra["engine_no_graph_img_s"] = round(statistics.median(r[3]["img_s"] for r in runs))
            extra["cuda_graph"], extra["graph_error"] = e_info["cuda_graph"], e_info["graph_error"]
            extra["packed_img_s"] = {str(len(LRS) * k): round(engine(m, args.alpha, steps, args.n, _packed(k),
                                                                     device=args.device, engine="stacked")["img_s"])
                                     for k in args.pack}
            # both engines, each its steps a graph: the one engine="auto" chose is timed above (median of the
            # repeats), the other once here
            other = "sequential" if e_info["engine"] == "stacked" else "stacked"
            extra["engine_img_s_by_engine"] = {e_info["engine"]: round(e), other: round(
                engine(m, args.alpha, steps, args.n, device=args.device, engine=other)["img_s"])}
            if conv:  # cuDNN's algorithms by its heuristics instead of timed (machine.make_engine times them)
                with mock.patch.dict(os.environ, NLCORE_CUDNN_BENCHMARK="0"):
                    extra["engine_no_cudnn_benchmark_img_s"] = round(engine(m, args.alpha, steps, args.n,
                                                                            device=args.device)["img_s"])
        bd = statistics.median(bound(m, steps, device=args.device) for _ in range(reps))
        # each repeat's engine over the baseline timed just before it: the spread the median hides
        ratio_repeats = [round(r[1]["img_s"] / r[0]["img_s"], 2) for r in runs]
        by_model[m] = dict(baseline_img_s=round(b), engine_img_s=round(e), ratio=round(e / b, 2),
                           ratio_repeats=ratio_repeats,
                           engine_fp32_img_s=round(e32), ratio_fp32=round(e32 / b, 2),
                           bound_img_s=round(bd), bound_ratio=round(e / bd, 2), engine=e_info["engine"],
                           precision=e_info["precision"], channels_last=e_info["channels_last"],
                           compiled=e_info["compiled"], engine_setup_s=round(e_info["setup_s"], 1),
                           steps_per_lr=steps, repeats=reps, **extra)
        how = f"{e_info['engine']}{', compiled' if e_info['compiled'] else ''}, {e_info['precision']}"
        print(f"{m}: baseline {b:,.0f} img/s, engine {e:,.0f} img/s ({how}) "
              f"= {e / b:.2f}x (repeats {ratio_repeats}); engine at fp32 {e32:,.0f} ({e32 / b:.2f}x); "
              f"bare step {bd:,.0f} img/s {extra}",
              flush=True)
    peak = mm_peak(1.0 if args.quick else 3.0, args.device)
    peak16 = mm_peak(1.0 if args.quick else 3.0, args.device, torch.bfloat16)
    for m, v in by_model.items():  # the roofline: what fraction of the fp32 peak each side reaches already
        f = train_flops(m)
        own = peak16 if v["precision"] == "bf16" else peak  # the peak of the precision the engine runs in
        v.update(train_flops_per_image=round(f), baseline_peak_fraction=round(v["baseline_img_s"] * f / peak, 3),
                 engine_peak_fraction=round(v["engine_img_s"] * f / peak, 3),
                 engine_peak_fraction_own_precision=round(v["engine_img_s"] * f / own, 3),
                 ratio_ceiling_fp32=round(peak / (v["baseline_img_s"] * f), 2),
                 ratio_ceiling_bf16=round(peak16 / (v["baseline_img_s"] * f), 2))
    ref = args.models[0]
    flops = train_flops(ref)
    out = dict(model=ref, alpha=args.alpha, lrs=LRS, batch_size=128, n_clean=args.n,
               baseline_img_s=by_model[ref]["baseline_img_s"], engine_img_s=by_model[ref]["engine_img_s"],
               ratio=by_model[ref]["ratio"], bound_ratio=by_model[ref]["bound_ratio"],
               peak_fraction=round(by_model[ref]["engine_img_s"] * flops / peak, 3),
               peak_fraction_fp32=round(by_model[ref]["engine_fp32_img_s"] * flops / peak, 3),
               peak_note="peak_fraction: the engine at its chosen precision (bf16 for ConvNet-4 here) over the fp32 "
                         "peak, so it can exceed what fp32 allows; peak_fraction_fp32 is like for like",
               peak_fraction_own_precision=by_model[ref]["engine_peak_fraction_own_precision"],
               train_flops_per_image=round(flops), fp32_peak_flop_s=round(peak), bf16_peak_flop_s=round(peak16),
               peak_how="best FLOP/s of 2048x2048 torch.mm on the device in fp32 (TF32 off) and in bf16, "
                        "measured here",
               by_model=by_model, threads=torch.get_num_threads(), torch=torch.__version__,
               code_version=results.code_version(),
               device=torch.cuda.get_device_name() if args.device.startswith("cuda") else _cpu_name(),
               quick=args.quick)
    if not args.no_memory and args.device == "cpu":
        out["memory_gib_alpha100_n60000"] = {k: round(memory(k), 2) for k in ("engine", "baseline", "materialised")}
    print(json.dumps(out))
    return out


if __name__ == "__main__":
    main()
