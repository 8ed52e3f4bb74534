#!/usr/bin/env bash
# QLoRA against LoRA: resident weight memory, RSS, peak RSS and step time of a training step with LoRA r=8 on every
# linear layer over a dense float32 base (lora) and over an NF4 base with double-quantised scales (qlora), each
# with and without activation checkpointing, on the benchmark config and on a 1.1B-parameter Llama (random weights).
# One JVM per line, so that each peak is its own (DJL creates tensors over direct buffers: the 1.1B model needs
# -XX:MaxDirectMemorySize beyond the heap). Usage, from the repository root:
#   bench/qlora-memory.sh [configs: "benchmark 1b"] [warmup steps] [timed steps]
set -euo pipefail
cd "$(dirname "$0")/.."
CONFIGS="${1:-benchmark 1b}"
WARMUP="${2:-1}"
STEPS="${3:-3}"

./mvnw -q -B -pl shared-model/lm -am test-compile dependency:build-classpath -DskipTests \
  -Dmdep.outputFile=target/bench.classpath -Dmdep.includeScope=test
CP="shared-model/lm/target/test-classes:shared-model/lm/target/classes:$(cat shared-model/lm/target/bench.classpath)"

echo "machine: $(nproc) CPU(s), $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), $(free -g | awk '/Mem:/{print $2}') GiB; $(java -version 2>&1 | head -1)"
for config in $CONFIGS; do
  for method in lora qlora; do
    for mode in plain checkpointed; do
      OPT_OUT_TRACKING=true java -Xmx2g -XX:MaxDirectMemorySize=20g -cp "$CP" dev.streamtune.lm.bench.QloraBenchmark "$method" "$config" "$mode" \
        "$WARMUP" "$STEPS" 2>/dev/null | grep -E '^(lora|qlora) '
    done
  done
done
