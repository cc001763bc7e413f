#!/usr/bin/env bash
# The prepared GPU check, for a lent GPU machine (one device call of under 10 minutes: every step has its
# own time limit, 120 + 300 + 150 s by default, and a failing step does not stop the next; with GPU_SWEEP,
# step 4 adds GPU_SWEEP_S (300 s): skip steps 1-3 then, GPU_TEST_S=0 GPU_BENCH_S=0 GPU_RUNS=, to stay under):
#   1. tests/test_gpu.py: the captured CUDA graph of a training step equals the eager step (both engines);
#   2. benchmarks/throughput.py --device cuda: engine vs plain PyTorch on the same GPU, with and without
#      the graph, stacked and sequential, ConvNets with cuDNN's heuristic algorithms too, and the lr grid
#      packed 1, 4, 16 times per step;
#   3. paper-profile runs of Figure 1 (and others named in GPU_RUNS; empty: none), most telling first,
#      until GPU_RUNS_S seconds are spent: stored as usual, then packed into $OUT/gpu-runs.tgz;
#   4. with GPU_SWEEP="fig8 confusion fig5 ..." (MNIST figures), those figures' sweeps at the full profile,
#      in order, until GPU_SWEEP_S seconds are spent, on a copy of the committed store (so only the runs
#      missing from it train, and runs that wait on stored ones are listed), the new records packed into
#      $OUT/gpu-sweep-runs.tgz. Steps 1 and 2 are skipped with GPU_TEST_S=0 and GPU_BENCH_S=0.
# Usage there (python3 with torch already installed; no pip, no git):
#   NLCORE_DATA=<folder with mnist/> NLCORE_CODE_VERSION=<git sha of this tree> bash benchmarks/gpu.sh
# Here, afterwards: tar xzf gpu-runs.tgz -C results/  (the records keep their device and code version);
# tar xzf gpu-sweep-runs.tgz --skip-old-files -C results/  (a run the CPU stored meanwhile is kept).
set -uo pipefail
cd "$(dirname "$0")/.."
PY=${PY:-python3}
OUT=${OUT:-benchmarks/results}
mkdir -p "$OUT"
export PYTHONPATH=$PWD PYTHONUNBUFFERED=1
export NLCORE_RESULTS=${NLCORE_RESULTS:-/tmp/nlcore-gpu-results} NLCORE_CALIBRATION=$OUT/calibration.json
START=$(date +%s)
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv 2>&1 | tee "$OUT/gpu.log"
$PY -c "import torch; print('torch', torch.__version__, torch.cuda.get_device_name())" 2>&1 | tee -a "$OUT/gpu.log"

# (the torch.compile tests are CPU-only and slow to compile: not this machine's business)
(( ${GPU_TEST_S:-120} > 0 )) && timeout "${GPU_TEST_S:-120}" $PY -m pytest -q -p no:cacheprovider tests/test_gpu.py tests/test_train.py -k "not compil" 2>&1 \
  | tail -n 30 | tee -a "$OUT/gpu.log"

if (( ${GPU_BENCH_S:-300} > 0 )); then
  timeout "${GPU_BENCH_S:-300}" $PY benchmarks/throughput.py --device cuda --no-memory \
    --models ${GPU_BENCH_MODELS:-convnet4 perceptron mlp2} --pack 1 4 16 2>&1 | tee "$OUT/throughput-gpu.log"
  tail -n 1 "$OUT/throughput-gpu.log" > "$OUT/throughput-gpu.json"
fi

# "figure model alpha seed" per run, most telling first (Fig 1's headline: ConvNet-4 and the perceptron at
# alpha = 100, the paper's 91% and 40%)
RUNS=${GPU_RUNS-"fig1 perceptron 100 0;fig1 convnet4 100 0;fig1 convnet4 50 0;fig1 convnet4 0 0;fig1 mlp1 100 0"}
DEADLINE=$(( $(date +%s) + ${GPU_RUNS_S:-150} ))
IFS=';' read -ra LIST <<< "$RUNS"
for run in "${LIST[@]}"; do
  read -r fig model alpha seed <<< "$run"
  left=$(( DEADLINE - $(date +%s) ))
  if (( left < 20 )); then echo "skipped (time): $run" | tee -a "$OUT/gpu.log"; continue; fi
  t0=$(date +%s)
  timeout "$left" $PY -m nlcore sweep "$fig" --profile paper --models "$model" --alphas "$alpha" --seeds "$seed" \
    --device cuda --no-progress 2>&1 | tail -n 3 | tee -a "$OUT/gpu.log"
  echo "run $run: rc ${PIPESTATUS[0]}, $(( $(date +%s) - t0 )) s" | tee -a "$OUT/gpu.log"
  [ -d "$NLCORE_RESULTS/runs" ] && tar czf "$OUT/gpu-runs.tgz" -C "$NLCORE_RESULTS" runs
done

if [ -n "${GPU_SWEEP:-}" ]; then
  STORE=/tmp/nlcore-sweep-results
  mkdir -p "$STORE" && cp -r results/runs "$STORE/" && touch "$STORE/.start"
  DEADLINE=$(( $(date +%s) + ${GPU_SWEEP_S:-300} ))
  for fig in $GPU_SWEEP; do
    left=$(( DEADLINE - $(date +%s) ))
    if (( left < 20 )); then echo "skipped (time): sweep $fig" | tee -a "$OUT/gpu.log"; continue; fi
    t0=$(date +%s)
    NLCORE_RESULTS=$STORE timeout "$left" $PY -m nlcore sweep "$fig" --profile full --device cuda --no-progress 2>&1 \
      | tail -n 5 | tee -a "$OUT/gpu.log"
    echo "sweep $fig: rc ${PIPESTATUS[0]}, $(( $(date +%s) - t0 )) s" | tee -a "$OUT/gpu.log"
    (cd "$STORE" && find runs -name '*.json' -newer .start | tar czf "$OUT/gpu-sweep-runs.tgz" -T -)
  done
fi
echo "gpu.sh: $(( $(date +%s) - START )) s in all" | tee -a "$OUT/gpu.log"
