package sh.createos.sandbox.model;

import java.util.List;
import java.util.Map;

/**
 * Body of {@code POST …/exec}: {@code cmd} runs directly (no shell) with {@code args}. {@code stdin} (text) is
 * written to the command's stdin, then closed; {@code env} overrides values of keys declared at create.
 */
public record ExecRequest(String cmd, List<String> args, Boolean stream, String stdin, Map<String, String> env) {
    public ExecRequest(String cmd, List<String> args, Boolean stream) {
        this(cmd, args, stream, null, null);
    }
}
