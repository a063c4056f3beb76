module createos.sh/sandbox/agent

go 1.19
