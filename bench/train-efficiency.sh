#!/usr/bin/env bash
# Model FLOPs per second of a full fine-tuning step at the benchmark config (TrainStepBenchmark) against the
# machine's float32 matrix-multiply peak, measured in the same run as the better of a large square matmul through
# DJL's libtorch and through NumPy on the system BLAS. Then the tiny config (hidden 64, 2 layers, seq 32) against
# PyTorch eager, where per-operation overhead dominates. Usage, from the repository root:
#   bench/train-efficiency.sh [warmup steps] [timed steps] [tiny warmup steps] [tiny timed steps]
# The tiny config's step is about 10 ms, so its warmup must be long enough for the JVM's JIT to finish compiling
# the step's Java side (C2 took a quarter of the two CPUs for the first seconds); 300 + 500 steps by default.
set -euo pipefail
cd "$(dirname "$0")/.."
WARMUP="${1:-5}"
STEPS="${2:-30}"
TINY_WARMUP="${3:-300}"
TINY_STEPS="${4:-500}"
PYTHON=/usr/bin/python3
./mvnw -q -B -pl shared-model/lm -am test-compile dependency:build-classpath -DskipTests \
  -Dmdep.outputFile=target/bench.classpath -Dmdep.includeScope=test
CP="shared-model/lm/target/test-classes:shared-model/lm/target/classes:$(cat shared-model/lm/target/bench.classpath)"
echo "machine: $(nproc) CPU(s), $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs); BLAS $(readlink -f /usr/lib/x86_64-linux-gnu/libblas.so.3 2>/dev/null || echo unknown)"
OPT_OUT_TRACKING=true java -cp "$CP" dev.streamtune.lm.bench.MatmulPeak 2048 10 2>/dev/null
if "$PYTHON" -c 'import numpy' 2>/dev/null; then
  "$PYTHON" - <<'PY'
import time, numpy as np
n = 2048
a = np.random.rand(n, n).astype(np.float32); b = np.random.rand(n, n).astype(np.float32)
best = min((lambda: (lambda s: (a @ b, time.perf_counter() - s)[1])(time.perf_counter()))() for _ in range(10))
print(f"numpy matmul {n} x {n} float32 GFLOP/s {2 * n ** 3 / best / 1e9:.1f}  (best of 10)")
PY
fi
OPT_OUT_TRACKING=true java -cp "$CP" dev.streamtune.lm.bench.TrainStepBenchmark full "$WARMUP" "$STEPS" 2>/dev/null | grep '^djl'
for method in full lora; do
  TRAIN_BENCH_CONFIG=tiny OPT_OUT_TRACKING=true java -cp "$CP" dev.streamtune.lm.bench.TrainStepBenchmark "$method" "$TINY_WARMUP" "$TINY_STEPS" 2>/dev/null | grep '^djl'
  if "$PYTHON" -c 'import torch' 2>/dev/null; then
    TRAIN_BENCH_CONFIG=tiny "$PYTHON" bench/train_step_reference.py "$method" "$TINY_WARMUP" "$TINY_STEPS"
  fi
done
