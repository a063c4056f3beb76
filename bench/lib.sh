# Sourced by the bench scripts: run_benchmark MODULE MAIN_CLASS LOG_LEVEL [ARGS...] compiles MODULE with what it
# depends on and runs MAIN_CLASS from its test classpath (benchmarks live beside the tests that share their helpers).
set -euo pipefail
export JAVA_HOME=${JAVA_HOME:-/usr/lib/jvm/temurin-25-jdk-amd64}
export PATH=$JAVA_HOME/bin:$PATH

run_benchmark() {
    local module=$1 main=$2 level=$3
    shift 3
    cd "$(dirname "${BASH_SOURCE[0]}")/.."
    # One reactor run, so a module's test classpath takes its dependencies' test classes from this build.
    mvn -q -B -pl "$module" -am test-compile dependency:build-classpath -Dmdep.includeScope=test \
        -Dmdep.outputFile=target/bench.classpath >&2
    exec java -cp "$module/target/test-classes:$module/target/classes:$(cat "$module/target/bench.classpath")" \
        -Dorg.slf4j.simpleLogger.defaultLogLevel="$level" "$main" "$@"
}
