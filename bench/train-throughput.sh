#!/usr/bin/env bash
# Training-step throughput of the model runtime (DJL on PyTorch) against the same model in PyTorch eager, per
# method (full fine-tuning, LoRA r=8 on q,v, JoLA), one process per method and runtime so that each peak RSS is its
# own. Usage, from the repository root: bench/train-throughput.sh [warmup steps] [timed steps]
set -euo pipefail
cd "$(dirname "$0")/.."
WARMUP="${1:-3}"
STEPS="${2:-10}"

# The reference: Debian's PyTorch on the system Python, with OpenBLAS (Debian's default reference BLAS would make
# the comparison meaningless, see shared/design/DJL_NOTES.md).
PYTHON=/usr/bin/python3
if ! "$PYTHON" -c 'import torch' 2>/dev/null; then
  if command -v apt-get >/dev/null; then
    SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
    echo "installing python3-torch and libopenblas0-openmp with apt-get..." >&2
    $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -q python3-torch libopenblas0-openmp >&2 || true
  fi
fi

# One reactor run, so that the project's own artifacts never have to come from the local Maven repository.
./mvnw -q -B -pl shared-model/lm -am test-compile dependency:build-classpath -DskipTests \
  -Dmdep.outputFile=target/bench.classpath -Dmdep.includeScope=test
CP="shared-model/lm/target/test-classes:shared-model/lm/target/classes:$(cat shared-model/lm/target/bench.classpath)"

echo "machine: $(nproc) CPU(s), $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), $(free -g | awk '/Mem:/{print $2}') GiB; $(java -version 2>&1 | head -1)"
echo "reference BLAS: $(readlink -f /usr/lib/x86_64-linux-gnu/libblas.so.3 2>/dev/null || echo unknown)"
for method in full lora jola; do
  OPT_OUT_TRACKING=true java -cp "$CP" dev.streamtune.lm.bench.TrainStepBenchmark "$method" "$WARMUP" "$STEPS" 2>/dev/null | grep '^djl'
  if "$PYTHON" -c 'import torch' 2>/dev/null; then
    "$PYTHON" bench/train_step_reference.py "$method" "$WARMUP" "$STEPS"
  else
    echo "torch $method: no PyTorch for $PYTHON (apt-get unavailable): reference skipped"
  fi
done
