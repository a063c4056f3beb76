package sh.createos.sandbox.sdk;

import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.io.InputStream;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.EnumSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import sh.createos.sandbox.model.BandwidthView;
import sh.createos.sandbox.model.DestroyedResponse;
import sh.createos.sandbox.model.EgressView;
import sh.createos.sandbox.model.ExecResponse;
import sh.createos.sandbox.model.ForkSandboxRequest;
import sh.createos.sandbox.model.SandboxStatus;
import sh.createos.sandbox.model.SandboxView;

/**
 * A handle on one sandbox, with the TypeScript SDK's names. Thread-safe: {@link #data()} is the latest view any
 * call on this handle saw (every state-changing call and {@link #refresh()} update it).
 */
public final class Sandbox {
    private static final Duration POLL = Duration.ofMillis(500);
    private final SandboxClient client;
    private final Transport transport;
    private final String id;
    private volatile SandboxView data;
    private final SandboxFiles files;
    private final Processes processes;

    Sandbox(SandboxClient client, SandboxView data) {
        this.client = client;
        this.transport = client.transport;
        this.id = data.id();
        this.data = data;
        this.files = new SandboxFiles(transport, path(""));
        this.processes = new Processes(transport, path("/processes"));
    }

    /** The sandbox id ({@code sb_…}). */
    public String id() {
        return id;
    }

    /** The status as last seen. */
    public SandboxStatus status() {
        return data.status();
    }

    /** The full view as last seen. */
    public SandboxView data() {
        return data;
    }

    /** Re-reads the view from the server. */
    public Sandbox refresh() {
        data = client.fetch(id);
        return this;
    }

    /** Runs {@code cmd} (no shell) and waits for it; a non-zero exit is a normal result. */
    public ExecResult runCommand(String cmd) {
        return runCommand(ExecRequest.builder(cmd).build());
    }

    /** Runs {@code cmd} with {@code args} (no shell) and waits for it. */
    public ExecResult runCommand(String cmd, List<String> args) {
        return runCommand(ExecRequest.builder(cmd).args(args).build());
    }

    /** Runs a command with stdin and env overrides and waits for it. */
    public ExecResult runCommand(ExecRequest request) {
        ExecResponse r = transport.data(new Transport.Call("POST", path("/exec")).json(request.body(false))
                , ExecResponse.class);
        if (r.result().error() != null && !r.result().error().isEmpty()) {
            throw new SandboxException("the command could not run: " + r.result().error());
        }
        return new ExecResult(r.result().exitCode(), nz(r.result().stdout()), nz(r.result().stderr()), r.execMs());
    }

    /** Starts {@code cmd} with {@code args} and streams its output as it comes. Close the stream when done. */
    public ExecStream streamCommand(String cmd, List<String> args) {
        return streamCommand(ExecRequest.builder(cmd).args(args).build());
    }

    /** Starts a command and streams its output as it comes. Close the stream when done. */
    public ExecStream streamCommand(ExecRequest request) {
        HttpResponse<InputStream> response = transport.send(new Transport.Call("POST", path("/exec"))
                .query("stream", true).json(request.body(true)).once());
        return new ExecStream(response.body());
    }

    /** Runs {@code script} with {@code sh -c}. @throws CommandFailedException when it exits non-zero */
    public ExecResult sh(String script) {
        ExecResult result = runCommand("sh", List.of("-c", script));
        if (result.exitCode() != 0) {
            throw new CommandFailedException(script, result);
        }
        return result;
    }

    /** Streamed file upload and download. */
    public SandboxFiles files() {
        return files;
    }

    /** Computer use on a desktop image ({@code desktop:1}): screenshots, mouse, keyboard, windows. */
    public Computer computer() {
        return new Computer(transport, path("/computer"));
    }

    /** Managed processes: detached commands and PTYs with replayable output. */
    public Processes processes() {
        return processes;
    }

    /** Pauses the sandbox (memory and disk to a snapshot); see {@link #waitUntilPaused(Duration)}. */
    public Sandbox pause() {
        data = transport.data(new Transport.Call("POST", path("/pause")), SandboxView.class);
        return this;
    }

    /** Resumes a paused sandbox; see {@link #waitUntilRunning(Duration)}. */
    public Sandbox resume() {
        data = transport.data(new Transport.Call("POST", path("/resume")),
                SandboxView.class);
        return this;
    }

    /** Forks a paused sandbox into a new one that inherits everything. */
    public Sandbox fork() {
        return fork(new ForkSandboxRequest(null, null, null, null, null, null));
    }

    /** Forks a paused sandbox with overrides (envs, egress, ingress, keys, quota, start paused). */
    public Sandbox fork(ForkSandboxRequest request) {
        SandboxView child = transport.data(new Transport.Call("POST", path("/fork")).json(request).idempotent()
                , SandboxView.class);
        return new Sandbox(client, child);
    }

    /** Destroys the sandbox (idempotent: destroying a destroyed one answers {@code destroyed}). */
    public DestroyedResponse destroy() {
        DestroyedResponse r = transport.data(new Transport.Call("DELETE", path("")), DestroyedResponse.class);
        try {
            refresh();
        } catch (NotFoundException gone) {
            // retention ended; the answer above is the last word
        }
        return r;
    }

    /** Grows the root disk; returns the new size in MiB. */
    public int resize(int diskMib) {
        return transport.data(new Transport.Call("POST", path("/resize")).json(Map.of("disk_mib", diskMib)))
                .path("disk_mib").asInt();
    }

    /** Turns the ingress on or off. */
    public Sandbox setIngress(boolean enabled) {
        return patch(Map.of("ingress_enabled", enabled));
    }

    /** Pauses after {@code idle} without activity; null turns auto-pause off. */
    public Sandbox setAutoPause(Duration idle) {
        return patch(idle == null ? Map.of("disable_auto_pause", true)
                : Map.of("auto_pause_after_seconds", Math.toIntExact(idle.getSeconds())));
    }

    private Sandbox patch(Map<String, Object> body) {
        data = transport.data(new Transport.Call("PATCH", path("")).json(body), SandboxView.class);
        return this;
    }

    /** Adds SSH public keys; returns how many the sandbox has now. */
    public int addSshPubkeys(List<String> keys) {
        return transport.data(new Transport.Call("POST", path("/ssh-pubkeys")).json(Map.of("keys", keys)))
                .path("count").asInt();
    }

    /** The egress allowlist (empty: everything allowed). */
    public List<String> getEgress() {
        return transport.data(new Transport.Call("GET", path("/egress")), EgressView.class).egress();
    }

    /** Replaces the egress allowlist; null or empty allows everything. */
    public List<String> setEgress(List<String> rules) {
        Map<String, Object> body = new LinkedHashMap<>();
        body.put("egress", rules);
        return transport.data(new Transport.Call("PUT", path("/egress")).json(body), EgressView.class).egress();
    }

    /** Traffic quota and use. */
    public BandwidthView getBandwidth() {
        return transport.data(new Transport.Call("GET", path("/bandwidth")), BandwidthView.class);
    }

    /** Adds {@code addBytes} to the quota (sent with an {@code Idempotency-Key}: a retry never adds twice). */
    public BandwidthView rechargeBandwidth(long addBytes) {
        return transport.data(new Transport.Call("POST", path("/bandwidth/recharge"))
                .json(Map.of("add_bytes", addBytes)).idempotent(), BandwidthView.class);
    }

    /** Joins a private network. */
    public void attachNetwork(String networkId) {
        transport.data(new Transport.Call("POST", path("/networks")).json(Map.of("id", networkId)));
    }

    /** Leaves a private network. */
    public void detachNetwork(String networkId) {
        transport.data(new Transport.Call("DELETE", path("/networks/" + Transport.segment(networkId))));
    }

    /** The disks attached to this sandbox with their mount status. */
    public List<Disks.SandboxDisk> listDisks() {
        return client.paged(path("/disks"), null, Disks.SandboxDisk.class).toList();
    }

    /** Mounts a registered disk (id or name) at {@code mountPath}; {@code subPath} may be null. */
    public Disks.SandboxDisk attachDisk(String diskId, String mountPath, String subPath) {
        Map<String, Object> body = new LinkedHashMap<>();
        body.put("disk_id", diskId);
        body.put("mount_path", mountPath);
        if (subPath != null) {
            body.put("sub_path", subPath);
        }
        return transport.data(new Transport.Call("POST", path("/disks")).json(body), Disks.SandboxDisk.class);
    }

    /** Unmounts a disk from {@code mountPath}. */
    public void detachDisk(String diskId, String mountPath) {
        transport.data(new Transport.Call("DELETE", path("/disks/" + Transport.segment(diskId)))
                .query("mount_path", mountPath));
    }

    /** Waits until the sandbox is running. @throws WaitTimeoutException after {@code timeout} */
    public Sandbox waitUntilRunning(Duration timeout) {
        return waitFor(SandboxStatus.RUNNING, timeout, EnumSet.of(SandboxStatus.FAILED, SandboxStatus.ERROR,
                SandboxStatus.DESTROYING, SandboxStatus.DESTROYED));
    }

    /** Waits until the sandbox is paused. @throws WaitTimeoutException after {@code timeout} */
    public Sandbox waitUntilPaused(Duration timeout) {
        return waitFor(SandboxStatus.PAUSED, timeout, EnumSet.of(SandboxStatus.FAILED, SandboxStatus.ERROR,
                SandboxStatus.DESTROYING, SandboxStatus.DESTROYED));
    }

    /** Waits until the sandbox is destroyed. @throws WaitTimeoutException after {@code timeout} */
    public Sandbox waitUntilDestroyed(Duration timeout) {
        return waitFor(SandboxStatus.DESTROYED, timeout, EnumSet.noneOf(SandboxStatus.class));
    }

    private Sandbox waitFor(SandboxStatus wanted, Duration timeout, Set<SandboxStatus> terminal) {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (true) {
            if (data.status() == wanted) {
                return this;
            }
            if (terminal.contains(data.status())) {
                throw new SandboxException("sandbox " + id + " is " + data.status().wire() + ", it will not become "
                        + wanted.wire());
            }
            if (System.nanoTime() > deadline) {
                throw new WaitTimeoutException("sandbox " + id + " still " + data.status().wire() + " after "
                        + timeout + " (waiting for " + wanted.wire() + ")");
            }
            Transport.sleep(POLL);
            refresh();
        }
    }

    /**
     * Waits until something accepts TCP connections on {@code port} inside the guest (probed through the tunnel
     * endpoint, so loopback-only servers count). @throws WaitTimeoutException after {@code timeout}
     */
    public void waitForPort(int port, Duration timeout) {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (true) {
            try {
                Upgrade.open(transport, path("/tunnel/" + port)).close();
                return;
            } catch (ServerException notYet) {
                if (notYet.statusCode() != 502 && notYet.statusCode() != 504) {
                    throw notYet;
                }
            } catch (IOException e) {
                throw new ConnectionException("probing port " + port + ": " + e.getMessage(), e);
            }
            if (System.nanoTime() > deadline) {
                throw new WaitTimeoutException("nothing listens on port " + port + " of " + id + " after " + timeout);
            }
            Transport.sleep(POLL);
        }
    }

    /** The ingress URL of {@code port}, https. @throws IllegalStateException when ingress is off */
    public String previewUrl(int port) {
        return previewUrl(port, "https");
    }

    /** The ingress URL of {@code port} with {@code scheme} ({@code http} or {@code https}). */
    public String previewUrl(int port, String scheme) {
        String template = data.ingressUrlTemplate();
        if (!data.ingressEnabled() || template == null) {
            throw new IllegalStateException("ingress is off for " + id + ": call setIngress(true) first");
        }
        String url = template.replaceFirst("<port>", Integer.toString(port));
        if (scheme.equals("http") && url.startsWith("https:")) {
            url = "http:" + url.substring("https:".length());
        } else if (scheme.equals("https") && url.startsWith("http:")) {
            url = "https:" + url.substring("http:".length());
        }
        return url;
    }

    /** An interactive PTY shell of {@code rows} × {@code cols} (the keyless {@code /shell} Upgrade). */
    public ShellSession openShell(int rows, int cols) {
        try {
            ShellSession shell = new ShellSession(Upgrade.open(transport, path("/shell")));
            shell.resize(rows, cols);
            return shell;
        } catch (IOException e) {
            throw new ConnectionException("opening a shell on " + id + ": " + e.getMessage(), e);
        }
    }

    /**
     * Listens on a free loopback port and forwards every connection to {@code remotePort} inside the guest (one
     * tunnel per connection). Close it to stop.
     */
    public PortForward forwardPort(int remotePort) {
        try {
            return new PortForward(transport, path("/tunnel/" + remotePort));
        } catch (IOException e) {
            throw new ConnectionException("listening for a port forward: " + e.getMessage(), e);
        }
    }

    /** The slow calls of this handle as {@link java.util.concurrent.CompletableFuture}s. */
    public AsyncSandbox async() {
        return new AsyncSandbox(this, transport.executor);
    }

    String path(String suffix) {
        return "/v1/sandboxes/" + Transport.segment(id) + suffix;
    }

    private static String nz(String s) {
        return s == null ? "" : s;
    }

    @Override
    public String toString() {
        return "Sandbox[" + id + ", " + data.status().wire() + "]";
    }

}
