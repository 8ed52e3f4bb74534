#!/usr/bin/env bash
# The soak: CONVERSATIONS conversations made from the real ShareGPT and Alpaca data in SHARED_DIR (made one at a time
# as they are produced) through all five services' production jars, against a broker and PostgreSQL started here,
# while a continuous LoRA run on stories260K trains and eval-service scores its checkpoints. Every interval, one line
# per service: heap live after GC, old generation, RSS, and its stage's lag, the trainer's steps, the checkpoints
# scored; at the end the first sample past the warm-up against the last, and each stage's books (BALANCED or not).
# A benchmark: it prints figures and asserts nothing.
# SOAK_OPTIONS sets the soak's system properties: -Dsoak.interval=PT15S (PT1M), -Dsoak.warm-up=PT5M,
# -Dsoak.save-steps=100, -Dsoak.tail=PT10M (how long to wait for the trainer and the evaluator once the data stages
# caught up), -Dsoak.max-duration=PT6M (none by default: the run stops
# then, however far the stream got).
# Usage, from the repository root: bench/soak.sh [CONVERSATIONS] [SHARED_DIR]
set -euo pipefail
cd "$(dirname "$0")/.."
# One reactor run: the services' quarkus-app folders are built, and the project's own modules resolve to what this
# run built, so nothing has to be installed in the local Maven repository first.
./mvnw -q -B -pl pipeline-tests -am package dependency:build-classpath -DskipTests \
  -Dmdep.outputFile=target/bench.classpath -Dmdep.includeScope=test
CP="pipeline-tests/target/test-classes:$(cat pipeline-tests/target/bench.classpath)"
# shellcheck disable=SC2086 # SOAK_OPTIONS is a list of options
exec java -Dstreamtune.root="$PWD" ${SOAK_OPTIONS:-} -cp "$CP" dev.streamtune.pipeline.Soak "${1:-1000000}" "${2:-../shared}"
