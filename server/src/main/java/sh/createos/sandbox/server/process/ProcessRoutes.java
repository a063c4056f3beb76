package sh.createos.sandbox.server.process;

import java.io.IOException;
import java.io.InputStream;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import sh.createos.sandbox.host.agent.AgentProcesses;
import sh.createos.sandbox.host.agent.ProcessOutput;
import sh.createos.sandbox.host.agent.ProcessStart;
import sh.createos.sandbox.host.agent.PtySize;
import sh.createos.sandbox.model.ErrorCode;
import sh.createos.sandbox.model.Json;
import sh.createos.sandbox.server.http.ApiException;
import sh.createos.sandbox.server.http.Exchange;
import sh.createos.sandbox.server.http.Router;
import sh.createos.sandbox.server.sandbox.SandboxService;
import sh.createos.sandbox.server.sandbox.SandboxService.RunningSandbox;

/**
 * Managed processes, {@code /v1/sandboxes/{id}/processes…} (interactive-api.md §5). The guest agent owns the
 * processes, their output rings and sequence numbers; these routes translate. Every route needs a running sandbox
 * of the caller (404 otherwise, 409 when not running) and counts as activity; connect and wait hold the sandbox
 * busy while they last.
 */
public final class ProcessRoutes {
    static final int MAX_INPUT = 1 << 20;
    static final int DEFAULT_GRACE_MS = 1000;
    static final int MAX_GRACE_MS = 60_000;
    static final int DEFAULT_WAIT_MS = 30_000;
    static final int MAX_WAIT_MS = 55_000;
    private static final Set<String> SIGNALS =
            Set.of("HUP", "INT", "QUIT", "KILL", "TERM", "USR1", "USR2", "WINCH");

    private ProcessRoutes() {}

    record PtyBody(Integer rows, Integer cols) {}

    record CreateBody(String cmd, List<String> args, String cwd, Map<String, String> env, PtyBody pty) {}

    record InputBody(String dataBase64) {}

    record ResizeBody(Integer rows, Integer cols) {}

    record SignalBody(String signal) {}

    record Processes(List<ProcessView> processes) {}

    record InputAccepted(long inputSeq) {}

    record Ok(boolean ok) {}

    @FunctionalInterface
    private interface AgentCall<T> {
        T call(AgentProcesses processes) throws IOException;
    }

    public static void register(Router router, SandboxService service) {
        String base = "/v1/sandboxes/{id}/processes";
        String one = base + "/{process_id}";
        router.post(base, true, ex -> {
            CreateBody body = ex.body(CreateBody.class);
            RunningSandbox sb = service.running(ex.user(), ex.param("id"));
            ProcessStart start = startRequest(sb, body, service.execDefaults(sb.sandbox()));
            ex.ok(ProcessView.of(call(service, sb, p -> p.start(start))));
        });
        router.get(base, true, ex -> {
            RunningSandbox sb = service.running(ex.user(), ex.param("id"));
            ex.ok(new Processes(call(service, sb, AgentProcesses::list).stream().map(ProcessView::of).toList()));
        });
        router.get(one, true, ex -> {
            RunningSandbox sb = service.running(ex.user(), ex.param("id"));
            ex.ok(ProcessView.of(call(service, sb, p -> p.get(ex.param("process_id")))));
        });
        router.delete(one, true, ex -> {
            int grace = intQuery(ex, "grace_ms", DEFAULT_GRACE_MS, 0, Integer.MAX_VALUE);
            RunningSandbox sb = service.running(ex.user(), ex.param("id"));
            Duration d = Duration.ofMillis(Math.min(grace, MAX_GRACE_MS));
            try (var busy = service.activity().busy(sb.sandbox().id())) {
                ex.ok(ProcessView.of(call(service, sb, p -> p.kill(ex.param("process_id"), d))));
            }
        });
        router.get(one + "/connect", true, ex -> {
            long after = intQuery(ex, "after", 0, 0, Integer.MAX_VALUE);
            RunningSandbox sb = service.running(ex.user(), ex.param("id"));
            ProcessOutput output = call(service, sb, p -> p.connect(ex.param("process_id"), after));
            try (var busy = service.activity().busy(sb.sandbox().id())) {
                ProcessConnectStream.run(ex, output);
            }
        });
        router.post(one + "/input", true, ex -> {
            byte[] data = inputOf(ex);
            RunningSandbox sb = service.running(ex.user(), ex.param("id"));
            ex.ok(new InputAccepted(call(service, sb, p -> p.input(ex.param("process_id"), data))));
        });
        router.post(one + "/stdin/close", true, ex -> {
            RunningSandbox sb = service.running(ex.user(), ex.param("id"));
            call(service, sb, p -> {
                p.closeStdin(ex.param("process_id"));
                return null;
            });
            ex.ok(new Ok(true));
        });
        router.post(one + "/resize", true, ex -> {
            ResizeBody body = ex.body(ResizeBody.class);
            if (body.rows() == null || body.cols() == null || body.rows() <= 0 || body.cols() <= 0
                    || body.rows() > 65_535 || body.cols() > 65_535) {
                throw ApiException.badRequest("'rows' and 'cols' are required, 1..65535");
            }
            RunningSandbox sb = service.running(ex.user(), ex.param("id"));
            call(service, sb, p -> {
                p.resize(ex.param("process_id"), body.rows(), body.cols());
                return null;
            });
            ex.ok(new Ok(true));
        });
        router.post(one + "/signal", true, ex -> {
            SignalBody body = ex.body(SignalBody.class);
            String name = body.signal() == null ? "" : body.signal().trim().toUpperCase(java.util.Locale.ROOT);
            String bare = name.startsWith("SIG") ? name.substring(3) : name;
            if (!SIGNALS.contains(bare)) {
                throw ApiException.badRequest("'signal' must be one of SIGHUP, SIGINT, SIGQUIT, SIGKILL, SIGTERM, "
                        + "SIGUSR1, SIGUSR2, SIGWINCH");
            }
            RunningSandbox sb = service.running(ex.user(), ex.param("id"));
            call(service, sb, p -> {
                p.signal(ex.param("process_id"), bare);
                return null;
            });
            ex.ok(new Ok(true));
        });
        router.get(one + "/wait", true, ex -> {
            String scope = ex.query("scope");
            if (scope != null && !scope.isEmpty() && !scope.equals("leader") && !scope.equals("tree")) {
                throw ApiException.badRequest("'scope' must be leader or tree");
            }
            int timeout = Math.min(intQuery(ex, "timeout_ms", DEFAULT_WAIT_MS, 0, Integer.MAX_VALUE), MAX_WAIT_MS);
            RunningSandbox sb = service.running(ex.user(), ex.param("id"));
            AgentProcesses.WaitResult result;
            try (var busy = service.activity().busy(sb.sandbox().id())) {
                result = call(service, sb, p -> p.await(ex.param("process_id"), "tree".equals(scope),
                        Duration.ofMillis(timeout)));
            }
            if (!result.done()) {
                throw ProcessErrors.api(408, ErrorCode.WAIT_TIMEOUT, "wait timed out");
            }
            ex.ok(ProcessView.of(result.process()));
        });
    }

    private static <T> T call(SandboxService service, RunningSandbox sb, AgentCall<T> call) throws Exception {
        try {
            return call.call(sb.agent().processes());
        } catch (IOException e) {
            throw ProcessErrors.map(service, sb.sandbox().id(), e);
        }
    }

    private static ProcessStart startRequest(RunningSandbox sb, CreateBody body,
            SandboxService.RootfsResolver.ExecDefaults defaults) {
        boolean blankCmd = body.cmd() == null || body.cmd().isBlank();
        if (blankCmd && body.pty() == null) {
            throw ApiException.badRequest("cmd is required for a pipe process");
        }
        List<String> argv = new ArrayList<>();
        if (!blankCmd) {
            argv.add(body.cmd());
            if (body.args() != null) {
                for (String arg : body.args()) {
                    if (arg == null) {
                        throw ApiException.badRequest("'args' must not contain null");
                    }
                    argv.add(arg);
                }
            }
        } else if (body.args() != null && !body.args().isEmpty()) {
            throw ApiException.badRequest("'args' needs a 'cmd'");
        }
        if (body.cwd() != null && !body.cwd().isEmpty() && !body.cwd().startsWith("/")) {
            throw ApiException.badRequest("'cwd' must be an absolute guest path");
        }
        Map<String, String> declared = sb.sandbox().envs() == null ? Map.of() : sb.sandbox().envs();
        Map<String, String> env = new HashMap<>(declared);
        if (body.env() != null) {
            for (var e : body.env().entrySet()) {
                if (!declared.containsKey(e.getKey())) {
                    throw ApiException.badRequest("env key '" + e.getKey()
                            + "' was not declared in the sandbox's envs at create");
                }
                if (e.getValue() == null) {
                    throw ApiException.badRequest("env value of '" + e.getKey() + "' must be a string");
                }
                env.put(e.getKey(), e.getValue());
            }
        }
        PtySize pty = null;
        if (body.pty() != null) {
            int rows = body.pty().rows() == null || body.pty().rows() == 0 ? 24 : body.pty().rows();
            int cols = body.pty().cols() == null || body.pty().cols() == 0 ? 80 : body.pty().cols();
            if (rows < 0 || cols < 0 || rows > 65_535 || cols > 65_535) {
                throw ApiException.badRequest("'pty.rows' and 'pty.cols' must be 0..65535");
            }
            pty = new PtySize(rows, cols);
        }
        String cwd = body.cwd() == null || body.cwd().isEmpty() ? defaults.cwd() : body.cwd();
        return new ProcessStart(argv, env, cwd, defaults.user(), pty, blankCmd);
    }

    /** The decoded {@code data_base64}: 400 when it is not standard base64, 413 past 1 MiB decoded. */
    private static byte[] inputOf(Exchange ex) throws IOException {
        int maxBody = MAX_INPUT / 3 * 4 + 8192;
        byte[] raw;
        try (InputStream in = ex.bodyStream()) {
            raw = in.readNBytes(maxBody + 1);
        }
        if (raw.length > maxBody) {
            throw ProcessErrors.api(413, ErrorCode.PAYLOAD_TOO_LARGE, "more than 1 MiB of input in one request");
        }
        if (raw.length == 0) {
            throw ApiException.badRequest("a JSON object body with 'data_base64' is required");
        }
        InputBody body = Json.mapper().readValue(raw, InputBody.class);
        if (body == null || body.dataBase64() == null) {
            throw ApiException.badRequest("'data_base64' is required");
        }
        byte[] data;
        try {
            data = Base64.getDecoder().decode(body.dataBase64());
        } catch (IllegalArgumentException e) {
            throw ApiException.badRequest("'data_base64' is not valid base64: " + e.getMessage());
        }
        if (data.length > MAX_INPUT) {
            throw ProcessErrors.api(413, ErrorCode.PAYLOAD_TOO_LARGE, "more than 1 MiB of input in one request");
        }
        return data;
    }

    private static int intQuery(Exchange ex, String name, int dflt, int min, int max) {
        String v = ex.query(name);
        if (v == null || v.isEmpty()) {
            return dflt;
        }
        try {
            int n = Integer.parseInt(v);
            if (n < min || n > max) {
                throw ApiException.badRequest("'" + name + "' must be an integer >= " + min);
            }
            return n;
        } catch (NumberFormatException e) {
            throw ApiException.badRequest("'" + name + "' must be an integer >= " + min);
        }
    }

}
