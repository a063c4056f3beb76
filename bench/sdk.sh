#!/bin/bash
# Usage: bench/sdk.sh [EXECS] [MIB]
# The Java SDK beside its baselines, in one run: an exec round trip through Sandbox.runCommand beside a bare
# HttpClient POST of the same endpoint, and files() upload/download MiB/s beside curl of the same file.
# Needs `bin/createos-sandbox setup`.
source "$(dirname "$0")/lib.sh"
run_benchmark sdk sh.createos.sandbox.sdk.SdkBenchmark warn "$@"
