#!/bin/bash
# Usage: bench/interactive.sh [RUNS] [KEYSTROKES] [MIB]
# In one run against one sandbox: the keystroke echo round trip through the keyless /shell beside a buffered exec
# round trip, and a MIB MiB tunnel download beside GET /files of the same guest file. Needs `bin/createos-sandbox setup`.
source "$(dirname "$0")/lib.sh"
run_benchmark server sh.createos.sandbox.server.shell.InteractiveBenchmark warn "$@"
