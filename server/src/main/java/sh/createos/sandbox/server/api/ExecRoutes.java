package sh.createos.sandbox.server.api;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;
import sh.createos.sandbox.model.ExecRequest;
import sh.createos.sandbox.model.ErrorCode;
import sh.createos.sandbox.server.DomainException;
import sh.createos.sandbox.server.http.Router;
import sh.createos.sandbox.server.sandbox.SandboxService;
import sh.createos.sandbox.server.store.SandboxRecord;

/**
 * {@code POST /v1/sandboxes/{id}/exec}: {@code cmd} + {@code args} run directly (no shell) with the sandbox's
 * envs (values of declared keys overridden by {@code env}) and {@code stdin} as the command's input; buffered by
 * default, NDJSON with {@code ?stream=true} or {@code "stream":true}.
 */
public final class ExecRoutes {
    /** Conventional shell status for "could not execute". */
    static final int START_FAILED_EXIT = 127;
    /** Room for a 10 MiB+ {@code stdin} string after JSON escaping (interactive-api.md §6). */
    static final int MAX_BODY = 32 << 20;

    /** The agent's limit for one request (its OPEN payload), less room for the fields besides argv and env. */
    static final int MAX_AGENT_REQUEST = 65536 - 1024;
    private static final com.fasterxml.jackson.databind.ObjectMapper JSON =
            new com.fasterxml.jackson.databind.ObjectMapper();

    private ExecRoutes() {}

    /** 413 before the agent sees it: a request past its frame limit failed as a 500 (issue 18). */
    static void checkAgentRequestSize(List<String> argv, java.util.Map<String, String> envs) {
        int bytes;
        try {
            bytes = JSON.writeValueAsBytes(java.util.Map.of("argv", argv, "env", envs)).length;
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
            throw new IllegalStateException("cannot encode an exec request", e);
        }
        if (bytes > MAX_AGENT_REQUEST) {
            throw new DomainException(ErrorCode.PAYLOAD_TOO_LARGE, "the command line and envs take " + bytes + " bytes of JSON; at most " + MAX_AGENT_REQUEST
                            + " fit in one request to the agent");
        }
    }

    public static void register(Router router, SandboxService service) {
        router.post("/v1/sandboxes/{id}/exec", true, ex -> {
            ExecRequest req = ex.body(ExecRequest.class, MAX_BODY);
            if (req.cmd() == null || req.cmd().isBlank()) {
                throw DomainException.invalid("'cmd' is required");
            }
            var running = service.running(ex.user(), ex.param("id"));
            byte[] stdin = req.stdin() == null ? null : req.stdin().getBytes(StandardCharsets.UTF_8);
            var defaults = service.execDefaults(running.sandbox());
            var hostRequest = hostRequest(running.sandbox(), req).withCwd(defaults.cwd()).withUser(defaults.user());
            boolean stream = "true".equals(ex.query("stream")) || Boolean.TRUE.equals(req.stream());
            // A command that runs is activity for as long as it runs: no idle auto-pause under it.
            try (var busy = service.activity().busy(running.sandbox().id())) {
                if (stream) {
                    ExecStream.run(ex, running.agent(), hostRequest, stdin);
                    return;
                }
                long started = System.nanoTime();
                BufferedExec.Result result;
                try {
                    result = BufferedExec.run(running.agent(), hostRequest, stdin);
                } catch (IOException e) {
                    throw service.explainLostAgent(running.sandbox().id(), e);
                }
                try (var out = new java.io.BufferedOutputStream(ex.stream(200, "application/json", -1), 1 << 16)) {
                    result.write(out, (System.nanoTime() - started) / 1_000_000);
                }
            }
        });
    }

    private static sh.createos.sandbox.host.agent.ExecRequest hostRequest(SandboxRecord sandbox, ExecRequest req) {
        List<String> argv = new ArrayList<>();
        argv.add(req.cmd());
        if (req.args() != null) {
            for (String arg : req.args()) {
                if (arg == null) {
                    throw DomainException.invalid("'args' must not contain null");
                }
                argv.add(arg);
            }
        }
        Map<String, String> env = env(sandbox.envs(), req.env());
        checkAgentRequestSize(argv, env);
        return new sh.createos.sandbox.host.agent.ExecRequest(argv, env, null, null, null, req.stdin() != null);
    }

    /**
     * The sandbox's envs with the per-exec overrides laid over them. An override may change a value, never add a
     * key (interactive-api.md §6): undeclared keys are a 400 that names them all.
     */
    static Map<String, String> env(Map<String, String> declared, Map<String, String> overrides) {
        if (overrides == null || overrides.isEmpty()) {
            return declared;
        }
        TreeSet<String> undeclared = new TreeSet<>();
        for (var e : overrides.entrySet()) {
            if (e.getValue() == null) {
                throw DomainException.invalid("env value of '" + e.getKey() + "' must be a string, not null");
            }
            if (!declared.containsKey(e.getKey())) {
                undeclared.add(e.getKey());
            }
        }
        if (!undeclared.isEmpty()) {
            throw DomainException.invalid("env key(s) not declared in the sandbox's envs at create: "
                    + String.join(", ", undeclared) + " (an exec may override declared keys, not add new ones)");
        }
        Map<String, String> merged = new HashMap<>(declared);
        merged.putAll(overrides);
        return merged;
    }
}
