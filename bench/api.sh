#!/bin/bash
# Usage: bench/api.sh [RUNS] [EXECS]
# What the control plane adds to the engine, in one run: create-to-first-exec-output through the REST API beside
# QemuVmm.boot to agent ready, and a trivial exec's round trip through the API beside the same exec sent straight to
# the agent. Needs `bin/createos-sandbox setup`.
source "$(dirname "$0")/lib.sh"
run_benchmark server sh.createos.sandbox.server.ApiBenchmark warn "$@"
