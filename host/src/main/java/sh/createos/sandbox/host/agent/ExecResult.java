package sh.createos.sandbox.host.agent;

/** The buffered outcome of {@link AgentClient#run}; with a PTY, stderr is empty and stdout holds everything. */
public record ExecResult(String stdout, String stderr, int exitCode) {}
