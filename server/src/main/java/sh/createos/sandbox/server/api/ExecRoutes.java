package sh.createos.sandbox.server.api;

import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import sh.createos.sandbox.model.ExecRequest;
import sh.createos.sandbox.server.http.ApiException;
import sh.createos.sandbox.server.http.Router;
import sh.createos.sandbox.server.sandbox.SandboxService;
import sh.createos.sandbox.server.store.SandboxRecord;

/**
 * {@code POST /v1/sandboxes/{id}/exec}: {@code cmd} + {@code args} run directly (no shell) with the sandbox's
 * envs; buffered by default, NDJSON with {@code ?stream=true} or {@code "stream":true}.
 */
public final class ExecRoutes {
    /** Conventional shell status for "could not execute". */
    static final int START_FAILED_EXIT = 127;

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
            throw new ApiException(413, sh.createos.sandbox.model.ErrorCode.PAYLOAD_TOO_LARGE.wire(),
                    "the command line and envs take " + bytes + " bytes of JSON; at most " + MAX_AGENT_REQUEST
                            + " fit in one request to the agent");
        }
    }

    public static void register(Router router, SandboxService service) {
        router.post("/v1/sandboxes/{id}/exec", true, ex -> {
            ExecRequest req = ex.body(ExecRequest.class);
            if (req.cmd() == null || req.cmd().isBlank()) {
                throw ApiException.badRequest("'cmd' is required");
            }
            var running = service.running(ex.user(), ex.param("id"));
            var hostRequest = hostRequest(running.sandbox(), req);
            boolean stream = "true".equals(ex.query("stream")) || Boolean.TRUE.equals(req.stream());
            // A command that runs is activity for as long as it runs: no idle auto-pause under it.
            try (var busy = service.activity().busy(running.sandbox().id())) {
                if (stream) {
                    ExecStream.run(ex, running.agent(), hostRequest);
                    return;
                }
                long started = System.nanoTime();
                BufferedExec.Result result;
                try {
                    result = BufferedExec.run(running.agent(), hostRequest);
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
                    throw ApiException.badRequest("'args' must not contain null");
                }
                argv.add(arg);
            }
        }
        checkAgentRequestSize(argv, sandbox.envs());
        return new sh.createos.sandbox.host.agent.ExecRequest(argv, sandbox.envs(), null, null, null, false);
    }
}
