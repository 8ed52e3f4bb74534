#!/usr/bin/env bash
# Tokenizer throughput on the real ShareGPT and Alpaca text in ../shared (jtokkit against the Rust tokenizers via
# DJL on the same GPT-2 vocabulary, plus cl100k, OLMo-2 and llama2.c), one thread and all cores, and the cost of
# the token-array wire encoding. Usage, from the repository root: bench/tokenizer-throughput.sh [SHARED_DIR]
set -euo pipefail
cd "$(dirname "$0")/.."
SHARED="${1:-../shared}"
# One reactor run: the project's own modules (events, lm, streams, local-stack...) resolve to their target/classes,
# so nothing has to be installed in the local Maven repository first.
./mvnw -q -B -pl tokenize-service -am test-compile dependency:build-classpath -DskipTests \
  -Dmdep.outputFile=target/bench.classpath -Dmdep.includeScope=test
CP="tokenize-service/target/test-classes:tokenize-service/target/classes:$(cat tokenize-service/target/bench.classpath)"
java -cp "$CP" dev.streamtune.tokenize.bench.TokenizerBenchmark "$SHARED" 2>/dev/null
