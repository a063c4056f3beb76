#!/bin/bash
# Usage: bench/disks.sh [RUNS=3] [MIB=32]
# S3 disks: sequential write and read MiB/s through an s3fs mount in a sandbox beside an S3 API upload and download
# of the same bytes from the host, against one S3Proxy in a network namespace. Needs root and
# `bin/createos-sandbox setup`.
source "$(dirname "$0")/lib.sh"
run_benchmark server sh.createos.sandbox.server.disks.DiskBenchmark warn "$@"
