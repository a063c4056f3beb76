package sh.createos.sandbox.server.api;

import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import sh.createos.sandbox.model.ExecRequest;
import sh.createos.sandbox.model.ExecResponse;
import sh.createos.sandbox.server.DomainException;
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

    private ExecRoutes() {}

    public static void register(Router router, SandboxService service) {
        router.post("/v1/sandboxes/{id}/exec", true, ex -> {
            ExecRequest req = ex.body(ExecRequest.class);
            if (req.cmd() == null || req.cmd().isBlank()) {
                throw DomainException.invalid("'cmd' is required");
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
                ExecResponse.ExecResult result;
                try {
                    result = BufferedExec.run(running.agent(), hostRequest);
                } catch (IOException e) {
                    throw service.explainLostAgent(running.sandbox().id(), e);
                }
                ex.ok(new ExecResponse(result, (System.nanoTime() - started) / 1_000_000));
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
        return new sh.createos.sandbox.host.agent.ExecRequest(argv, sandbox.envs(), null, null, null, false);
    }
}
