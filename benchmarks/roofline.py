"""Where a compiled stacked MLP step spends its time on this CPU, and the ratio that bounds.

    python benchmarks/roofline.py                 # MLP-1, MLP-2, MLP-4; JSON on the last line

For the 5-model learning-rate grid (MNIST shapes, batch 128, bf16 autocast, the step compiled as
``nlcore.train`` compiles it), times: the whole step; the AdaDelta update alone (the engine's own
update code, compiled, on the same parameters); the matrix products alone (bf16, the shapes of the
forward and of the weight gradients, which the step computes). Each is the best of 3 interleaved rounds
(``nlcore.machine.best_times``).
``ratio_bound`` = the baseline's rate from ``throughput.py``'s stored JSON over the rate of a step that
did nothing but the matrix products and the update: with these kernels (not a hardware bound), what an
engine that keeps fp32 AdaDelta state could reach against that baseline here.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import torch

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
from nlcore import config, engines, machine, models, results  # noqa: E402

LRS = [0.01, 0.05, 0.1, 0.5, 1.0]


def measure(name: str) -> dict:
    cfg = config.make_config("smoke", model=name, lrs=LRS)
    eng = engines.Stacked(models.build(name, 1, 28, 10), LRS, cfg, "cpu", precision="bf16", compiled=True)
    x, y = torch.randn(128, 1, 28, 28), torch.randint(0, 10, (128,))
    grads = {k: torch.randn_like(p) * 1e-3 for k, p in eng.params.items()}

    def update():  # the engine's own AdaDelta update, alone
        eng.update(grads)

    weights = [p for k, p in eng.params.items() if k.endswith("weight")]  # (G, out, in) each
    acts = [torch.randn(len(LRS), 128, w.shape[2], dtype=torch.bfloat16) for w in weights]
    outs = [torch.randn(len(LRS), 128, w.shape[1], dtype=torch.bfloat16) for w in weights]
    wb = [w.to(torch.bfloat16) for w in weights]

    def products():  # forward, weight gradient and (all but the first layer) input gradient, in bf16
        for i, (a, o, w) in enumerate(zip(acts, outs, wb)):
            torch.bmm(a, w.transpose(1, 2))
            torch.bmm(o.transpose(1, 2), a)
            if i:
                torch.bmm(o, w)

    t = machine.best_times({"step": lambda: eng.step(x, y), "update": torch.compile(update), "products": products},
                         steps=20, warmup=3)
    n = sum(p.numel() for p in eng.params.values())
    return dict(parameters_all_models=n, step_ms=round(t["step"] * 1e3, 2), update_ms=round(t["update"] * 1e3, 2),
                products_ms=round(t["products"] * 1e3, 2),
                update_gb_s=round(28 * n / t["update"] / 1e9, 1),  # p, g, v, a read; p, v, a written (fp32)
                floor_img_s=round(128 * len(LRS) / (t["update"] + t["products"])))


def main() -> dict:
    torch.set_num_threads(torch.get_num_threads())
    machine.keep_freed_memory()  # as make_engine does on a CPU
    stored = sorted((REPO / "benchmarks" / "results").glob("throughput-cpu*.json"))
    base = json.loads(stored[-1].read_text())["by_model"] if stored else {}
    out = {}
    for name in ("mlp1", "mlp2", "mlp4"):
        r = measure(name)
        if name in base:
            r["baseline_img_s"] = base[name]["baseline_img_s"]
            r["ratio_bound"] = round(r["floor_img_s"] / r["baseline_img_s"], 2)
        out[name] = r
        print(name, r, flush=True)
    out = dict(by_model=out, threads=torch.get_num_threads(), torch=torch.__version__,
               code_version=results.code_version())
    print(json.dumps(out))
    return out


if __name__ == "__main__":
    main()
