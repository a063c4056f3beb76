#!/bin/bash
# Usage: bench/api.sh [RUNS] [EXECS]
# What the control plane adds to the engine, in one run: create-to-first-exec-output through the REST API beside
# QemuVmm.boot to agent ready, and a trivial exec's round trip through the API beside the same exec sent straight to
# the agent. Needs `bin/createos-sandbox setup`.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
export JAVA_HOME=${JAVA_HOME:-/usr/lib/jvm/temurin-25-jdk-amd64}
export PATH=$JAVA_HOME/bin:$PATH
cd "$root"
mvn -q -B -pl server -am test-compile >&2
mvn -q -B -pl server dependency:build-classpath -Dmdep.includeScope=test -Dmdep.outputFile=target/bench.classpath >&2
exec java -cp "server/target/test-classes:server/target/classes:$(cat server/target/bench.classpath)" \
    -Dorg.slf4j.simpleLogger.defaultLogLevel=warn \
    sh.createos.sandbox.server.ApiBenchmark "$@"
