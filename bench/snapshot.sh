#!/bin/bash
# Usage: bench/snapshot.sh [RUNS] [MEM_MIB]
# Snapshot latencies through the engine beside their baselines in one run: create by template restore vs cold boot,
# create from a pre-started QEMU (the pool) vs bare restore, the steps of each start, idle host memory per VM;
# pause / resume / fork (from the full stream and from the converted RAM file) vs bare QEMU save (migrate exec:cat)
# and restore (-incoming); the conversion itself; snapshot size on disk.
source "$(dirname "$0")/lib.sh"
run_benchmark host sh.createos.sandbox.host.vmm.SnapshotBenchmark info "$@"
