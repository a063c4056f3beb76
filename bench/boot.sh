#!/bin/bash
# Usage: bench/boot.sh [RUNS] [MEM_MIB]
# Median time of a whole VM boot (QemuVmm.boot until the agent answers HELLO) beside a bare QEMU boot of the same
# kernel + initramfs to its first userspace line, measured alternately in one run. Needs `bin/createos-sandbox setup`.
source "$(dirname "$0")/lib.sh"
run_benchmark host sh.createos.sandbox.host.vmm.BootBenchmark info "$@"
