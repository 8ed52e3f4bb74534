#!/usr/bin/env bash
# tokenize-service end to end through a real Kafka broker (started here, or KAFKA_BOOTSTRAP_SERVERS): its production
# jar, a recipe, N examples rendered from the real ShareGPT data, timed until all are batched.
# Usage, from the repository root: bench/tokenize-service-throughput.sh [SHARED_DIR] [EXAMPLES]
set -euo pipefail
cd "$(dirname "$0")/.."
./mvnw -B -q -DskipTests package -pl tokenize-service,local-stack -am
exec java -Dstreamtune.root="$PWD" -cp "local-stack/target/classes:$(cat local-stack/target/runtime.classpath)" \
  dev.streamtune.localstack.run.TokenizeThroughput "${1:-../shared}" "${2:-10000}"
