#!/bin/bash
# Usage: bench/images.sh [RUNS] [MEM_MIB]
# Per image of the kit, in one run: create (template restore) to the first exec output beside devbox:1, and the
# template's size on disk. Needs `bin/createos-sandbox setup`.
source "$(dirname "$0")/lib.sh"
run_benchmark host sh.createos.sandbox.host.vmm.ImageBenchmark warn "$@"
