#!/bin/bash
# Usage: bench/ingress.sh [RUNS] [REQUESTS] [MIB]
# The ingress proxy beside a direct connection to the guest's address, in one run: median latency of a small GET
# and the throughput of a MIB MiB download, same client, same server in the guest. Needs root (the host network
# gives the guest its address) and `bin/createos-sandbox setup`.
source "$(dirname "$0")/lib.sh"
run_benchmark server sh.createos.sandbox.server.ingress.IngressBenchmark warn "$@"
