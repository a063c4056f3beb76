package sh.createos.sandbox.server.computer;

import java.io.IOException;
import java.io.InputStream;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import sh.createos.sandbox.host.agent.AgentClient;
import sh.createos.sandbox.host.agent.ExecRequest;
import sh.createos.sandbox.host.agent.ExecResult;
import sh.createos.sandbox.host.agent.FileDownload;
import sh.createos.sandbox.server.http.ApiException;

/**
 * The desktop of one sandbox, driven through the agent: every action is one run of the image's
 * {@code createos-desktop VERB …} (guest/desktop/createos-desktop), which wraps xdotool, ImageMagick and websockify.
 * The desktop is started by the first action (it is not part of the boot, so sandboxes that never use it pay
 * nothing); until it runs, actions answer 409 {@code desktop_unavailable} (clients poll {@code GET …/screen}, as the
 * official CLI does). Once it runs it is remembered for this sandbox.
 */
final class Desktop {
    static final String SCRIPT = "/usr/local/bin/createos-desktop";
    /** The script's exit status for an unknown window id. */
    private static final int NO_SUCH_WINDOW = 3;
    private static final int USAGE = 2;
    /** Sandboxes whose desktop was seen running; a sandbox that was paused keeps it (memory is restored). */
    private static final Set<String> STARTED = ConcurrentHashMap.newKeySet();

    private final String sandboxId;
    private final AgentClient agent;

    Desktop(String sandboxId, AgentClient agent) {
        this.sandboxId = sandboxId;
        this.agent = agent;
    }

    /** Runs VERB with ARGS once the desktop runs; its stdout. */
    String run(String verb, String... args) throws IOException {
        ensureStarted();
        return call(verb, args);
    }

    /** Its stdout split into lines, without empty ones. */
    List<String> lines(String verb, String... args) throws IOException {
        return run(verb, args).lines().filter(l -> !l.isBlank()).toList();
    }

    /** The whole numbers a verb prints, in order (e.g. {@code screen} prints width and height). */
    int[] numbers(String verb, String... args) throws IOException {
        String output = run(verb, args).strip();
        String[] values = output.isEmpty() ? new String[0] : output.split("\\s+");
        int[] numbers = new int[values.length];
        for (int i = 0; i < numbers.length; i++) {
            try {
                numbers[i] = Integer.parseInt(values[i]);
            } catch (NumberFormatException e) {
                throw unavailable(verb + " printed '" + output + "', not whole numbers");
            }
        }
        return numbers;
    }

    /** A PNG of the screen (or of a window, or part of either), streamed from a file the guest writes and removes. */
    Png screenshot(List<String> args) throws IOException {
        ensureStarted();
        String file = "/run/createos-desktop/shot-" + UUID.randomUUID() + ".png";
        List<String> all = new ArrayList<>();
        all.add(file);
        all.addAll(args);
        call("screenshot", all.toArray(String[]::new));
        FileDownload download = agent.readFile(file);
        return new Png(download, () -> agent.remove(file, false));
    }

    /** A screenshot being sent; closing it removes the guest's file. */
    record Png(FileDownload download, Cleanup cleanup) implements AutoCloseable {
        InputStream content() {
            return download.content();
        }

        long size() {
            return download.size();
        }

        @Override
        public void close() throws IOException {
            try {
                download.close();
            } finally {
                cleanup.run();
            }
        }
    }

    interface Cleanup {
        void run() throws IOException;
    }

    static void forget(String sandboxId) {
        STARTED.remove(sandboxId);
    }

    private void ensureStarted() throws IOException {
        if (STARTED.contains(sandboxId)) {
            return;
        }
        call("start");
        ExecResult running = exec("running");
        if (running.exitCode() != 0) {
            throw unavailable("the desktop is starting; retry in a few seconds");
        }
        STARTED.add(sandboxId);
    }

    private ExecResult exec(String verb, String... args) throws IOException {
        List<String> argv = new ArrayList<>(List.of(SCRIPT, verb));
        argv.addAll(List.of(args));
        return agent.run(new ExecRequest(argv, Map.of(), null, null, null, false));
    }

    private String call(String verb, String... args) throws IOException {
        ExecResult result = exec(verb, args);
        if (result.exitCode() == 0) {
            return result.stdout();
        }
        String why = result.stderr().isBlank() ? "exit status " + result.exitCode() : result.stderr().strip();
        if (result.exitCode() == NO_SUCH_WINDOW) {
            throw ApiException.notFound(why);
        }
        if (result.exitCode() == USAGE) {
            throw ApiException.badRequest(why);
        }
        STARTED.remove(sandboxId); // it may have ended: look again next time
        throw unavailable(verb + " failed: " + why);
    }

    static ApiException unavailable(String message) {
        return new ApiException(409, "desktop_unavailable", "desktop_unavailable: " + message);
    }
}
