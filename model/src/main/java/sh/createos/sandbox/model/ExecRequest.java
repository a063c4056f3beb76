package sh.createos.sandbox.model;

import java.util.List;

/** Body of {@code POST …/exec}: {@code cmd} runs directly (no shell) with {@code args}. */
public record ExecRequest(String cmd, List<String> args, Boolean stream) {}
