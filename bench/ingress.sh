#!/bin/bash
# Usage: bench/ingress.sh [RUNS] [REQUESTS] [MIB]
# The ingress proxy beside a direct connection to the guest's address, in one run: median latency of a small GET
# and the throughput of a MIB MiB download, same client, same server in the guest. Needs root (the host network
# gives the guest its address) and `bin/createos-sandbox setup`.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
export JAVA_HOME=${JAVA_HOME:-/usr/lib/jvm/temurin-25-jdk-amd64}
export PATH=$JAVA_HOME/bin:$PATH
cd "$root"
# One reactor run: the server's test classpath includes the host's test classes, resolved from this build.
mvn -q -B -pl server -am test-compile dependency:build-classpath -Dmdep.includeScope=test \
    -Dmdep.outputFile=target/bench.classpath >&2
exec java -cp "server/target/test-classes:server/target/classes:$(cat server/target/bench.classpath)" \
    -Dorg.slf4j.simpleLogger.defaultLogLevel=warn \
    sh.createos.sandbox.server.ingress.IngressBenchmark "$@"
