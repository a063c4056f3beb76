#!/bin/bash
# Usage: bench/boot.sh [RUNS] [MEM_MIB]
# Median time of a whole VM boot (QemuVmm.boot until the agent answers HELLO) beside a bare QEMU boot of the same
# kernel + initramfs to its first userspace line, measured alternately in one run. Needs `bin/createos-sandbox setup`.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
export JAVA_HOME=${JAVA_HOME:-/usr/lib/jvm/temurin-25-jdk-amd64}
export PATH=$JAVA_HOME/bin:$PATH
cd "$root"
mvn -q -B -pl host -am test-compile >&2
mvn -q -B -pl host dependency:build-classpath -Dmdep.includeScope=test -Dmdep.outputFile=target/bench.classpath >&2
exec java -cp "host/target/test-classes:host/target/classes:$(cat host/target/bench.classpath)" \
    -Dorg.slf4j.simpleLogger.defaultLogLevel=info \
    sh.createos.sandbox.host.vmm.BootBenchmark "$@"
