#!/usr/bin/env bash
# The prepared GPU check, for a lent GPU machine (one device call of under 10 minutes: every step has its
# own time limit, 120 + 270 + 30 + 150 s by default, and a failing step does not stop the next; with GPU_SWEEP,
# step 4 adds GPU_SWEEP_S (300 s): skip steps 1-3 then, GPU_TEST_S=0 GPU_BENCH_S=0 GPU_RESNET_S=0 GPU_RUNS=, or
# keep their sum with GPU_SWEEP_S under 570 s):
#   1. tests/test_gpu.py: the captured CUDA graph of a training step equals the eager step (both engines);
#   2. benchmarks/throughput.py --device cuda: engine vs plain PyTorch on the same GPU, with and without
#      the graph, stacked and sequential, ConvNets with cuDNN's heuristic algorithms too, and the lr grid
#      packed 1, 4, 16 times per step;
#   2b. benchmarks/resnet_cost.py --device cuda: Figure 2's ResNet-101 step timed (GPU_RESNET_S, 30 s; 0 skips);
#   3. paper-profile runs of Figure 1 (and others named in GPU_RUNS; empty: none), most telling first,
#      until GPU_RUNS_S seconds are spent: stored as usual, then packed into $OUT/gpu-runs.tgz;
#   4. with GPU_SWEEP="fig1len fig7 | fig8:convnet4@50#0 | fig5 fig11" (scripts/sweep_bg.py items of MNIST
#      figures, '|' between the lists of parallel workers), those runs at the full profile until GPU_SWEEP_S
#      seconds are spent, each worker its own list (locks give each run to one worker); on a copy of the committed store
#      (so only the runs missing from it train, and runs that wait on stored ones are listed), the new
#      records packed into $OUT/gpu-sweep-runs.tgz, each worker's log in $OUT/sweep-N.log (8 files come
#      back at most: 5 workers). GPU_MPS=1 runs the workers under CUDA MPS where it starts and works.
#      Steps 1 and 2 are skipped with GPU_TEST_S=0 and GPU_BENCH_S=0.
# Usage there (python3 with torch already installed; no pip, no git):
#   NLCORE_DATA=<folder with mnist/> NLCORE_CODE_VERSION=<git sha of this tree> bash benchmarks/gpu.sh
# Here, afterwards: tar xzf gpu-runs.tgz -C results/  (the records keep their device and code version);
# tar xzf gpu-sweep-runs.tgz --skip-old-files -C results/  (a run the CPU stored meanwhile is kept).
set -uo pipefail
cd "$(dirname "$0")/.."
PY=${PY:-python3}
OUT=${OUT:-benchmarks/results}
mkdir -p "$OUT" /tmp/nlcore-calibration
export PYTHONPATH=$PWD PYTHONUNBUFFERED=1
export NLCORE_RESULTS=${NLCORE_RESULTS:-/tmp/nlcore-gpu-results} NLCORE_CALIBRATION=/tmp/nlcore-calibration/calibration.json
START=$(date +%s)
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv 2>&1 | tee "$OUT/gpu.log"
$PY -c "import torch; print('torch', torch.__version__, torch.cuda.get_device_name())" 2>&1 | tee -a "$OUT/gpu.log"

# (the torch.compile tests are CPU-only and slow to compile: not this machine's business)
(( ${GPU_TEST_S:-120} > 0 )) && timeout "${GPU_TEST_S:-120}" $PY -m pytest -q -p no:cacheprovider tests/test_gpu.py tests/test_train.py -k "not compil" 2>&1 \
  | tail -n 30 | tee -a "$OUT/gpu.log"

if (( ${GPU_BENCH_S:-270} > 0 )); then
  timeout "${GPU_BENCH_S:-270}" $PY benchmarks/throughput.py --device cuda --no-memory \
    --models ${GPU_BENCH_MODELS:-convnet4 perceptron mlp2} --pack 1 4 16 2>&1 | tee "$OUT/throughput-gpu.log"
  tail -n 1 "$OUT/throughput-gpu.log" > "$OUT/throughput-gpu.json"
fi

# Figure 2's ResNet-101 (CIFAR-10 cannot travel here; its cost needs only random images): one step timed
if (( ${GPU_RESNET_S:-30} > 0 )); then
  timeout "${GPU_RESNET_S:-30}" $PY benchmarks/resnet_cost.py --device cuda --steps 5 2>&1 | tail -n 2 | tee -a "$OUT/gpu.log"
  cp benchmarks/results/resnet101-gpu-*.json "$OUT/" 2>/dev/null
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
  # packed beside $OUT and moved in whole, so that a call killed mid-pack still returns the last whole archive
  pack() { (cd "$STORE" && find runs -name '*.json' -newer .start | tar czf /tmp/gpu-sweep-runs.tgz -T -) \
             && mv -f /tmp/gpu-sweep-runs.tgz "$OUT/"; }
  if [ -n "${GPU_MPS:-}" ] && command -v nvidia-cuda-mps-control >/dev/null; then
    # MPS lets the workers' small kernels share the GPU instead of taking turns; kept only if a CUDA call works
    export CUDA_MPS_PIPE_DIRECTORY=/tmp/mps-pipe CUDA_MPS_LOG_DIRECTORY=/tmp/mps-log
    mkdir -p /tmp/mps-pipe /tmp/mps-log && nvidia-cuda-mps-control -d
    trap 'echo quit | nvidia-cuda-mps-control' EXIT
    if timeout 60 $PY -c "import torch; print('MPS: CUDA works,', torch.ones(2, device='cuda').sum().item())" \
        2>&1 | tee -a "$OUT/gpu.log" | grep -q works; then :; else
      echo quit | nvidia-cuda-mps-control; trap - EXIT; unset CUDA_MPS_PIPE_DIRECTORY CUDA_MPS_LOG_DIRECTORY
      echo "MPS: off (the CUDA call failed under it)" | tee -a "$OUT/gpu.log"
    fi
  fi
  # workers: GPU_SWEEP's '|'-separated lists, each of scripts/sweep_bg.py items, most telling first (the store's
  # locks give each run to one process). Without MPS the workers take turns on the GPU, so that the first list
  # keeps its share, there are two: the first list, then all others in order.
  IFS='|' read -ra ALL <<< "$GPU_SWEEP"
  LISTS=(); for l in "${ALL[@]}"; do [ -n "${l// }" ] && LISTS+=("$l"); done  # empty lists ('a||b') are no workers
  if [ -z "${CUDA_MPS_PIPE_DIRECTORY:-}" ] && (( ${#LISTS[@]} > 2 )); then
    rest="${LISTS[*]:1}"; LISTS=("${LISTS[0]}" "$rest")
  fi
  note=""  # a record's note: how the GPU was shared (benchmarks/cost.py leaves such runs out of its speeds)
  (( ${#LISTS[@]} > 1 )) && note="trained while ${#LISTS[@]} processes shared the GPU"
  [ -n "$note" ] && [ -n "${CUDA_MPS_PIPE_DIRECTORY:-}" ] && note="$note under MPS"
  pids=()
  for w in "${!LISTS[@]}"; do
    # shellcheck disable=SC2086
    NLCORE_RESULTS=$STORE NLCORE_RUN_NOTE="${note:+$note (benchmarks/gpu.sh)}" OMP_NUM_THREADS=2 \
      timeout "${GPU_SWEEP_S:-300}" $PY scripts/sweep_bg.py full ${LISTS[$w]} > "$OUT/sweep-$w.log" 2>&1 &
    pids+=($!)
  done
  trap 'kill "${pids[@]}" 2>/dev/null; [ -n "${CUDA_MPS_PIPE_DIRECTORY:-}" ] && echo quit | nvidia-cuda-mps-control' EXIT
  t0=$(date +%s)
  alive() { for p in "${pids[@]}"; do kill -0 "$p" 2>/dev/null && return 0; done; return 1; }
  while alive; do sleep 10; pack; done
  wait; pack
  echo "sweep: ${#LISTS[@]} workers${note:+ ($note)}, $(( $(date +%s) - t0 )) s, $(tar tzf "$OUT/gpu-sweep-runs.tgz" | wc -l) runs stored" \
    | tee -a "$OUT/gpu.log"
  [ -n "${CUDA_MPS_PIPE_DIRECTORY:-}" ] && echo quit | nvidia-cuda-mps-control; trap - EXIT
fi
cp "$NLCORE_CALIBRATION" "$OUT/" 2>/dev/null  # the machine's measured choices (beside it, its lock: not copied)
echo "gpu.sh: $(( $(date +%s) - START )) s in all" | tee -a "$OUT/gpu.log"
