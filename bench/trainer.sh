#!/usr/bin/env bash
# trainer-service benchmarks against a real broker and PostgreSQL (started here) and the service's production jar:
#   bench/trainer.sh throughput [BATCHES] [full|lora]   tokens/s through Kafka vs the same training loop in-process
#   bench/trainer.sh resume                              restart-to-first-step after 10 and after 1,000 batches
# SHARED_DIR (default ../shared) holds models/stories260K (its tokenizer sets the vocabulary).
set -euo pipefail
cd "$(dirname "$0")/.."
./mvnw -q -B -pl pipeline-tests -am package dependency:build-classpath -DskipTests \
  -Dmdep.outputFile=target/bench.classpath -Dmdep.includeScope=test
CP="pipeline-tests/target/test-classes:$(cat pipeline-tests/target/bench.classpath)"
exec env OPT_OUT_TRACKING=true java -Dstreamtune.root="$PWD" -Dstreamtune.shared.dir="${SHARED_DIR:-../shared}" \
  -cp "$CP" dev.streamtune.pipeline.TrainerBenchmark "$@"
