#!/bin/bash
# Usage: bench/processes.sh [RUNS] [MIB]
# Managed-process output throughput (connect?after=0 until the exit frame) beside a streamed exec's
# (exec?stream=true) for the same command on one sandbox, alternately in one run. Needs `bin/createos-sandbox setup`.
source "$(dirname "$0")/lib.sh"
run_benchmark server sh.createos.sandbox.server.ProcessBenchmark warn "$@"
