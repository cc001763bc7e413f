"""Run figures' sweeps at a profile in the background, cheapest runs first, seed 0 of every model first.

    python scripts/sweep_bg.py cpu fig11 fig5 fig7   (resumable: rerun after a crash, finished runs are skipped)
"""
import sys

from nlcore import sweep

COST = {"perceptron": 0, "mlp1": 1, "mlp2": 2, "convnet2": 3, "convnet4": 4, "mlp4": 5, "convnet6": 6}
profile, figures = sys.argv[1], sys.argv[2:]
for figure in figures:
    print(f"== {figure} ({profile})", flush=True)
    if sweep.FIGURES[figure].get("needs") == "confusion":
        sweep.confusion_matrix(profile, train_missing=True)
    cfgs = sorted(sweep.figure_configs(figure, profile),
                  key=lambda c: (c["seed"], COST.get(c["model"], 9), c["alpha"], c["n_clean"]))
    sweep.run(cfgs, progress=False, log=lambda s: print(s, flush=True))
