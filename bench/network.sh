#!/bin/bash
# Usage: bench/network.sh [RUNS=3] [MIB=32]
# The sandbox data path beside baselines measured in the same run, against an "outside" host in a network namespace
# (no internet): download MiB/s of the host itself vs the guest (open list, and with an allowlist), and DNS lookup
# latency through the host's forwarder vs straight to the upstream server. Needs root and `bin/createos-sandbox setup`.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
export JAVA_HOME=${JAVA_HOME:-/usr/lib/jvm/temurin-25-jdk-amd64}
export PATH=$JAVA_HOME/bin:$PATH
cd "$root"
mvn -q -B -pl host -am test-compile >&2
mvn -q -B -pl host dependency:build-classpath -Dmdep.includeScope=test -Dmdep.outputFile=target/bench.classpath >&2
exec java -cp "host/target/test-classes:host/target/classes:$(cat host/target/bench.classpath)" \
    -Dorg.slf4j.simpleLogger.defaultLogLevel=warn \
    sh.createos.sandbox.host.net.NetworkBenchmark "$@"
