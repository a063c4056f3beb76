#!/bin/bash
# Usage: bench/hosts.sh [CREATES] [EXECS]
# Many hosts, one control plane, in one run: CREATES (default 20) creates in flight against one host daemon, then
# against two (time until all run, sandboxes per second), and an exec of `true` through a remote host daemon beside
# the same exec on the embedded local host. Needs `bin/createos-sandbox setup`.
source "$(dirname "$0")/lib.sh"
run_benchmark server sh.createos.sandbox.server.remote.HostsBenchmark warn "$@"
