#!/bin/bash
# Usage: bench/templates.sh [RUNS]
# Template builds in one run: a three-step Dockerfile built cold beside the same build with every step cached, and
# create-to-first-output from the built template beside the same from devbox:1. Needs `bin/createos-sandbox setup`.
source "$(dirname "$0")/lib.sh"
run_benchmark server sh.createos.sandbox.server.templates.TemplateBenchmark warn "$@"
