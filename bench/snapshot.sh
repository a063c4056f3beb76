#!/bin/bash
# Usage: bench/snapshot.sh [RUNS] [MEM_MIB]
# Snapshot latencies through the engine beside their baselines in one run: create by template restore vs cold boot;
# pause / resume / fork vs bare QEMU save (migrate exec:cat) and restore (-incoming); snapshot size on disk.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
export JAVA_HOME=${JAVA_HOME:-/usr/lib/jvm/temurin-25-jdk-amd64}
export PATH=$JAVA_HOME/bin:$PATH
cd "$root"
mvn -q -B -pl host -am test-compile >&2
mvn -q -B -pl host dependency:build-classpath -Dmdep.includeScope=test -Dmdep.outputFile=target/bench.classpath >&2
exec java -cp "host/target/test-classes:host/target/classes:$(cat host/target/bench.classpath)" \
    -Dorg.slf4j.simpleLogger.defaultLogLevel=info \
    sh.createos.sandbox.host.vmm.SnapshotBenchmark "$@"
