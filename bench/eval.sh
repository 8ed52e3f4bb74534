#!/usr/bin/env bash
# eval-service's throughput (EvalBenchmark): teacher-forced scoring against a training step's forward on the trainer's
# benchmark config, and generation tokens/s with and without the key/value cache. Usage, from the repository root:
#   bench/eval.sh [repetitions]
set -euo pipefail
cd "$(dirname "$0")/.."
REPETITIONS="${1:-10}"
./mvnw -q -B -pl eval-service -am test-compile dependency:build-classpath -DskipTests \
  -Dmdep.outputFile=target/bench.classpath -Dmdep.includeScope=test
CP="eval-service/target/test-classes:eval-service/target/classes:$(cat eval-service/target/bench.classpath)"
echo "machine: $(nproc) CPU(s), $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)"
OPT_OUT_TRACKING=true java -cp "$CP" dev.streamtune.eval.bench.EvalBenchmark "$REPETITIONS" 2>/dev/null
