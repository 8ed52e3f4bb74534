#!/usr/bin/env bash
# ingest -> format -> tokenize on N conversations made from the real ShareGPT and Alpaca data in SHARED_DIR: the
# same stage code chained in one process without Kafka, then the three services' production jars through a real
# broker and PostgreSQL (started here). Prints conversations/s and tokens/s for both, their ratio, and each stage's
# consumer-group lag every second. JFR_DIR=DIR records a JFR profile of each service and the broker there,
# over the measured run.
# Usage, from the repository root: bench/pipeline-throughput.sh [CONVERSATIONS] [SHARED_DIR]
set -euo pipefail
cd "$(dirname "$0")/.."
# One reactor run: the services' quarkus-app folders are built, and the project's own modules resolve to what this
# run built, so nothing has to be installed in the local Maven repository first.
./mvnw -q -B -pl pipeline-tests -am package dependency:build-classpath -DskipTests \
  -Dmdep.outputFile=target/bench.classpath -Dmdep.includeScope=test
CP="pipeline-tests/target/test-classes:$(cat pipeline-tests/target/bench.classpath)"
exec java -Dstreamtune.root="$PWD" -cp "$CP" dev.streamtune.pipeline.PipelineThroughput "${1:-100000}" "${2:-../shared}"
