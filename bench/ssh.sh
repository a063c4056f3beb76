#!/bin/bash
# Usage: bench/ssh.sh [RUNS] [MIB]
# The SSH gateway beside the REST API, in one run against one sandbox: MiB/s of an `sftp put` of a MIB MiB file
# beside `PUT /v1/sandboxes/{id}/files` of the same file, and the round trip of `ssh … true` (a new OpenSSH
# connection each time) beside `POST …/exec`. Needs `bin/createos-sandbox setup` and openssh-client.
source "$(dirname "$0")/lib.sh"
run_benchmark server sh.createos.sandbox.server.ssh.SshBenchmark warn "$@"
