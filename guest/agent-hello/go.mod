module createos-sandbox/guest/agent-hello

go 1.19
