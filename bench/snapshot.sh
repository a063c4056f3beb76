#!/bin/bash
# Usage: bench/snapshot.sh [RUNS] [MEM_MIB]
# Snapshot latencies through the engine beside their baselines in one run: create by template restore vs cold boot;
# pause / resume / fork vs bare QEMU save (migrate exec:cat) and restore (-incoming); snapshot size on disk.
source "$(dirname "$0")/lib.sh"
run_benchmark host sh.createos.sandbox.host.vmm.SnapshotBenchmark info "$@"
