#!/bin/bash
# Usage: bench/network.sh [RUNS=3] [MIB=32]
# The sandbox data path beside baselines measured in the same run, against an "outside" host in a network namespace
# (no internet): download MiB/s of the host itself vs the guest (open list, and with an allowlist), and DNS lookup
# latency through the host's forwarder vs straight to the upstream server. Needs root and `bin/createos-sandbox setup`.
source "$(dirname "$0")/lib.sh"
run_benchmark host sh.createos.sandbox.host.net.NetworkBenchmark warn "$@"
