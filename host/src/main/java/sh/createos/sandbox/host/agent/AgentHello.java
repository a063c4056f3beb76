package sh.createos.sandbox.host.agent;

/** What the agent said about itself when it answered HELLO. */
public record AgentHello(String agent, String kernel, String hostname, long bootMs) {}
