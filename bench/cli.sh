#!/usr/bin/env bash
# bench/cli.sh [RUNS=10]: (1) wall time of `createos --version` (bin/createos with its AppCDS archive) beside a bare
# `java -version` of the same JDK, interleaved so both see the same machine load. Needs `bin/createos-sandbox setup`
# (build/cli.classpath; the archive build/cli.jsa is recorded by the first run).
set -euo pipefail
runs=${1:-10}
home=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
java=${JAVA_HOME:-/usr/lib/jvm/temurin-25-jdk-amd64}/bin/java
"$home/bin/createos" --version >/dev/null # warm: records the archive when missing
ms() { local t0 t1; t0=$(date +%s%N); "$@" >/dev/null 2>&1; t1=$(date +%s%N); echo $(((t1 - t0) / 1000000)); }
median() { sort -n | awk '{a[NR]=$1} END {print (NR % 2) ? a[(NR+1)/2] : int((a[NR/2]+a[NR/2+1])/2)}'; }
cli=() jv=()
for ((i = 1; i <= runs; i++)); do
    cli+=("$(ms "$home/bin/createos" --version)")
    jv+=("$(ms "$java" -version)")
done
c=$(printf '%s\n' "${cli[@]}" | median) j=$(printf '%s\n' "${jv[@]}" | median)
echo "runs: $runs   load: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "createos --version  ms: ${cli[*]}   median $c"
echo "java -version       ms: ${jv[*]}   median $j"
echo "ratio (createos / java): $(awk -v c="$c" -v j="$j" 'BEGIN {printf "%.2f", c / j}')"

# The second half (skip with CLI_BENCH_SYNC=0): a real server and sandbox, `sb sync` carrying a one-line edit
# beside `sb push` of the same file, alternated (cli's test scope: sh.createos.sandbox.cli.CliSyncBenchmark).
if [[ ${CLI_BENCH_SYNC:-1} != 0 ]]; then
    export CREATEOS_SANDBOX_HOME=$home
    source "$home/bench/lib.sh"
    run_benchmark cli sh.createos.sandbox.cli.CliSyncBenchmark warn "${SYNC_RUNS:-5}"
fi
