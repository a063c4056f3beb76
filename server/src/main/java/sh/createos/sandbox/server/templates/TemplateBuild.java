package sh.createos.sandbox.server.templates;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import sh.createos.sandbox.host.agent.AgentClient;
import sh.createos.sandbox.host.agent.ExecRequest;
import sh.createos.sandbox.host.agent.ExecSession;
import sh.createos.sandbox.host.agent.ExitStatus;
import sh.createos.sandbox.server.Ulid;
import sh.createos.sandbox.server.host.Host;
import sh.createos.sandbox.server.host.VmShape;
import sh.createos.sandbox.server.store.TemplateStore;
import sh.createos.sandbox.server.store.TemplateStore.TemplateRecord;

/**
 * One build of one template, inside builder microVMs (never on the host): the base image boots (a template restore,
 * as for any sandbox), each RUN runs through the agent with the env, cwd and user the Dockerfile set, its output
 * going to the log line by line; after each RUN the builder syncs and pauses, which freezes its disk as a layer, and
 * that paused VM becomes the cache entry of the state so far ({@link BuildCache}); the next step forks it. The last
 * state's disk is exported as the template's read-only image. A rebuild starts by forking the longest cached prefix.
 */
final class TemplateBuild {
    private static final Logger log = LoggerFactory.getLogger(TemplateBuild.class);
    private static final int TAIL_LINES = 20;
    private static final int MAX_LINE_CHARS = 8192;
    private static final int MAX_LOG_LINES = 20_000;

    private final TemplateStore store;
    private final Host host;
    private final TemplateSettings settings;
    private final TemplateRecord row;
    /** The Dockerfile, evaluated again on a pulled base's config once it is known. */
    private Dockerfile dockerfile;
    /** The image the build starts from: the row's, or the pulled image once a registry's FROM is pulled. */
    private String baseImage;
    private final Set<String> cacheInUse;
    private final Deque<String> tail = new ArrayDeque<>();
    private int seq;
    private volatile boolean cancelled;
    private volatile ExecSession runningExec;
    /** The builder VM that runs now (held by the host), or null. */
    private String running;
    /** The paused VM whose state the build has reached (a cache entry), or null before the first. */
    private String current;

    TemplateBuild(TemplateStore store, Host host, TemplateSettings settings, TemplateRecord row, Dockerfile dockerfile,
                  Set<String> cacheInUse) {
        this.store = store;
        this.host = host;
        this.settings = settings;
        this.row = row;
        this.dockerfile = dockerfile;
        this.baseImage = row.baseImage();
        this.cacheInUse = cacheInUse;
    }

    String templateId() {
        return row.id();
    }

    /** Deleted mid-build: the step under way is killed, the builder destroyed, the status stays {@code cancelled}. */
    void cancel() {
        cancelled = true;
        ExecSession exec = runningExec;
        if (exec != null) {
            try {
                exec.kill();
            } catch (IOException e) {
                log.debug("killing the step of {}: {}", row.id(), e.getMessage());
            }
        }
    }

    /** Runs the build to its end: ready, failed or cancelled; never throws. */
    void run() {
        if (!store.transition(row.id(), "pending", "building")) {
            return; // deleted while queued
        }
        long started = System.nanoTime();
        long deadline = started + settings.timeout().toNanos();
        try {
            pullBase(deadline);
            build(deadline);
            long size = host.saveImage(current, row.id());
            info("image written: " + size / (1024 * 1024) + " MiB (virtual), read-only");
            if (!store.markReady(row.id(), size, Instant.now())) {
                host.retireImage(row.id()); // deleted at the last moment
                info("cancelled: the template was deleted");
                return;
            }
            info("build finished in " + (System.nanoTime() - started) / 1_000_000 + " ms: ready");
        } catch (Cancelled e) {
            info("stopped: the template is " + store.template(row.id()).map(TemplateRecord::status).orElse("gone")
                    + (store.template(row.id()).map(t -> t.deletedAt() != null).orElse(true) ? " (deleted)" : ""));
        } catch (StepFailed e) {
            error(e.getMessage());
            store.markFailed(row.id(), e.getMessage());
        } catch (IOException | RuntimeException e) {
            log.warn("template build {} failed", row.id(), e);
            String reason = "build failed: " + e.getMessage();
            error(reason);
            store.markFailed(row.id(), reason);
        } catch (Error e) {
            // A linkage error or an OOM must not leave the row 'building' forever: record it, then let it propagate.
            log.error("template build {} died", row.id(), e);
            store.markFailed(row.id(), "build failed: internal error " + e);
            throw e;
        } finally {
            if (running != null) {
                destroyBuilder(running);
            }
            if (current != null) {
                cacheInUse.remove(current);
            }
        }
    }

    /**
     * A FROM of a registry's image: the host pulls it (or finds it pulled before, by digest) and its config seeds the
     * Dockerfile's state, as in Docker. A failed pull fails the build with the command's stderr.
     */
    private void pullBase(long deadline) {
        if (!baseImage.startsWith(TemplateService.OCI_PREFIX)) {
            return;
        }
        String reference = baseImage.substring(TemplateService.OCI_PREFIX.length());
        String where = "line " + dockerfile.fromLine() + ": ";
        ImageReference ref = ImageReference.parse(reference).orElseThrow();
        TemplateSettings.Registry registry = settings.registries().get(ref.registry());
        if (registry == null) {
            throw new StepFailed(where + "FROM " + reference + ": registry " + ref.registry()
                    + " is no longer one that FROM may pull from");
        }
        long started = System.nanoTime();
        sh.createos.sandbox.host.vmm.OciImages.Pulled pulled;
        try {
            pulled = host.pullImage(reference, registry.plainHttp(),
                    java.time.Duration.ofNanos(Math.max(1, deadline - System.nanoTime())),
                    (long) settings.pullMib() << 20, this::info);
        } catch (IOException | RuntimeException e) {
            throw new StepFailed(where + "pulling " + reference + " failed: " + e.getMessage());
        }
        checkCancelled();
        baseImage = pulled.image();
        dockerfile = DockerfileParser.parse(row.dockerfile(), new sh.createos.sandbox.model.Template.ImageConfig(
                pulled.env(), pulled.workdir(), pulled.user(), pulled.cmd(), pulled.entrypoint(),
                pulled.exposedPorts(), pulled.labels(), null));
        store.setBase(row.id(), baseImage, TemplateService.json(dockerfile.config()));
        info(" ---> base " + reference + " = " + pulled.digest() + (pulled.cached() ? " (pulled before)" : "")
                + " in " + (System.nanoTime() - started) / 1_000_000 + " ms");
    }

    private void build(long deadline) throws IOException {
        List<Dockerfile.Instruction> steps = dockerfile.instructions();
        String shape = settings.vcpus() + "/" + settings.memoryMib() + "/" + builderDiskMib();
        List<String> keys = BuildCache.keys(row.userId(), baseImage, host.imageIdentity(baseImage), shape,
                steps);
        info("FROM " + row.base() + (row.base().equals(baseImage) ? "" : " (" + baseImage + ")") + ", "
                + steps.size() + " instruction(s); builder " + settings.vcpus() + " vCPU, " + settings.memoryMib()
                + " MiB, disk " + builderDiskMib() + " MiB");
        int start = cachedPrefix(keys);
        if (start > 0) {
            info("using cached state after step " + start + "/" + steps.size() + " (line " + steps.get(start - 1).line()
                    + ")");
            for (int i = 0; i < start; i++) {
                info("Step " + (i + 1) + "/" + steps.size() + " : " + abbreviate(steps.get(i).text())
                        + "  [CACHED]");
            }
        }
        for (int i = start; i < steps.size(); i++) {
            checkCancelled();
            Dockerfile.Instruction step = steps.get(i);
            info("Step " + (i + 1) + "/" + steps.size() + " : " + abbreviate(step.text()));
            if (!step.isRun()) {
                continue;
            }
            long stepStarted = System.nanoTime();
            ensureRunning();
            runStep(step, deadline);
            checkCancelled();
            freeze(keys.get(i + 1));
            info(" ---> done in " + (System.nanoTime() - stepStarted) / 1_000_000 + " ms; cached");
        }
        String workdir = dockerfile.config().workdir();
        if (workdir != null && !workdir.equals("/") && !isWholeFileState(keys)) {
            ensureRunning();
            agent().mkdir(workdir, true);
            freeze(keys.get(steps.size()));
        }
        if (current == null) { // no RUN at all: the image is the base as booted
            ensureRunning();
            freeze(keys.get(steps.size()));
        }
    }

    /**
     * True when the state reached is the cache entry of the whole file (a full cache hit, or a last RUN after the
     * last WORKDIR): its disk already holds the final WORKDIR.
     */
    private boolean isWholeFileState(List<String> keys) {
        return current != null && store.cacheEntry(keys.get(keys.size() - 1)).map(e -> e.vmId().equals(current))
                .orElse(false);
    }

    /** The number of leading instructions whose end state is cached (0: none), taking that state as current. */
    private int cachedPrefix(List<String> keys) throws IOException {
        for (int i = keys.size() - 1; i >= 1; i--) {
            Optional<TemplateStore.CacheEntry> entry = store.cacheEntry(keys.get(i));
            if (entry.isEmpty()) {
                continue;
            }
            if (host.snapshot(entry.get().vmId()).isEmpty()) {
                store.deleteCacheEntry(keys.get(i)); // its snapshot is gone (removed by hand, a lost host)
                continue;
            }
            store.touchCacheEntry(keys.get(i), Instant.now());
            use(entry.get().vmId());
            return i;
        }
        return 0;
    }

    /** A running builder: a fork of the current state, or the base image booted. */
    private void ensureRunning() throws IOException {
        if (running != null) {
            return;
        }
        String id = "tb_" + Ulid.next();
        store.setBuilderVm(row.id(), id);
        VmShape shape = new VmShape(baseImage, settings.vcpus(), settings.memoryMib(), builderDiskMib(), "builder");
        if (settings.network() && host.hasNetwork()) {
            host.lease(id, "builder", null, sh.createos.sandbox.host.net.Bandwidth.UNMETERED);
        }
        try {
            var started = current == null ? host.create(id, shape) : host.fork(current, id, shape);
            running = id;
            info(" ---> builder " + (current == null ? "booted from " + baseImage : "forked from the cached state")
                    + " in " + started.tookMs() + " ms (" + started.how() + ")");
        } catch (IOException | RuntimeException e) {
            host.releaseLease(id);
            throw e;
        }
    }

    private int builderDiskMib() {
        return (int) host.imageMib(baseImage).orElse(0) + settings.diskMib();
    }

    private AgentClient agent() {
        return host.agent(running);
    }

    /** Runs one RUN through the agent; its output goes to the log. A non-zero exit or the time limit fails the build. */
    private void runStep(Dockerfile.Instruction step, long deadline) throws IOException {
        Dockerfile.Run run = step.run();
        AgentClient agent = agent();
        if (!run.cwd().equals("/")) {
            agent.mkdir(run.cwd(), true); // WORKDIR creates its directory, as in Docker
        }
        tail.clear();
        ExecSession exec = agent.exec(new ExecRequest(run.argv(), run.env(), run.cwd(), run.user(), null, false));
        runningExec = exec;
        try (exec) {
            Thread out = Thread.ofVirtual().name("template-out-" + row.id()).start(() -> pump(exec.stdout(), "info"));
            Thread err = Thread.ofVirtual().name("template-err-" + row.id()).start(() -> pump(exec.stderr(), "warn"));
            ExitStatus status;
            try {
                long left = Math.max(1, deadline - System.nanoTime());
                status = exec.onExit().get(left, TimeUnit.NANOSECONDS);
                out.join(5_000);
                err.join(5_000);
            } catch (TimeoutException e) {
                exec.kill();
                throw new StepFailed("line " + step.line() + ": the build's time limit of "
                        + settings.timeout().toSeconds() + " s was reached during `" + abbreviate(step.text())
                        + "`" + tailText());
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IOException("interrupted while running line " + step.line());
            } catch (java.util.concurrent.ExecutionException e) {
                throw new IOException("the agent lost the step at line " + step.line() + ": " + e.getCause(), e);
            }
            checkCancelled();
            if (status.code() != 0 || status.signal() != null) {
                String how = status.signal() != null ? "was killed by SIG" + status.signal()
                        : "exited with code " + status.code();
                throw new StepFailed("line " + step.line() + ": `" + abbreviate(step.text()) + "` " + how
                        + (outOfSpace() ? " with the disk full: the build's size limit is " + settings.diskMib()
                        + " MiB beyond its base (setting disk_mib)" : "") + tailText());
            }
        } finally {
            runningExec = null;
        }
    }

    private void pump(InputStream stream, String level) {
        try (BufferedReader reader = new BufferedReader(new InputStreamReader(stream, StandardCharsets.UTF_8))) {
            String line;
            while ((line = reader.readLine()) != null) {
                if (line.length() > MAX_LINE_CHARS) {
                    line = line.substring(0, MAX_LINE_CHARS) + "…";
                }
                synchronized (tail) {
                    tail.addLast(line);
                    if (tail.size() > TAIL_LINES) {
                        tail.removeFirst();
                    }
                }
                append(level, line);
            }
        } catch (IOException e) {
            log.debug("template {} output: {}", row.id(), e.getMessage());
        }
    }

    private boolean outOfSpace() {
        synchronized (tail) {
            return tail.stream().anyMatch(l -> l.contains("No space left on device"));
        }
    }

    private String tailText() {
        synchronized (tail) {
            return tail.isEmpty() ? " (no output)" : "; last output:\n" + String.join("\n", tail);
        }
    }

    /**
     * Syncs the guest's filesystem (the snapshot's disk must hold what the page cache had: the image is booted
     * cold later), pauses the builder, and records its snapshot as the cache entry of {@code key}.
     */
    private void freeze(String key) throws IOException {
        var sync = agent().run(ExecRequest.of("sync"));
        if (sync.exitCode() != 0) {
            throw new IOException("sync in the builder failed: " + sync.stderr());
        }
        host.pause(running);
        host.releaseLease(running); // a cache entry is only ever forked, and each fork takes a lease of its own
        Instant now = Instant.now();
        String previous = store.cacheEntry(key).map(TemplateStore.CacheEntry::vmId).orElse(null);
        store.putCacheEntry(new TemplateStore.CacheEntry(key, row.userId(), running, now, now));
        if (previous != null && !previous.equals(running) && !cacheInUse.contains(previous)) {
            host.destroySnapshot(previous);
        }
        if (current != null) {
            cacheInUse.remove(current);
        }
        use(running);
        running = null;
        evict();
    }

    private void use(String vmId) {
        current = vmId;
        cacheInUse.add(vmId);
    }

    /** Least recently used entries beyond the configured number go (never one a build stands on). */
    private void evict() {
        List<TemplateStore.CacheEntry> entries = store.cacheEntries();
        int excess = entries.size() - settings.cacheEntries();
        for (TemplateStore.CacheEntry entry : entries) {
            if (excess <= 0) {
                return;
            }
            if (cacheInUse.contains(entry.vmId())) {
                continue;
            }
            store.deleteCacheEntry(entry.key());
            try {
                host.destroySnapshot(entry.vmId());
            } catch (IOException | RuntimeException e) {
                log.warn("evicting cached build step {}: {}", entry.vmId(), e.getMessage());
            }
            excess--;
        }
    }

    private void destroyBuilder(String id) {
        try {
            host.destroyVm(id);
        } catch (IOException | RuntimeException e) {
            log.warn("destroying builder {} of template {}: {}", id, row.id(), e.getMessage());
        }
        try {
            host.releaseLease(id);
        } catch (IOException | RuntimeException e) {
            log.warn("releasing the lease of builder {}: {}", id, e.getMessage());
        }
    }

    private void checkCancelled() {
        if (cancelled || store.template(row.id()).map(t -> !t.status().equals("building")).orElse(true)) {
            throw new Cancelled();
        }
    }

    private void info(String line) {
        append("info", line);
    }

    private void error(String line) {
        for (String part : line.split("\n", -1)) {
            append("error", part);
        }
    }

    private synchronized void append(String level, String line) {
        if (seq >= MAX_LOG_LINES) {
            return;
        }
        seq++;
        String text = seq == MAX_LOG_LINES ? "(log truncated at " + MAX_LOG_LINES + " lines)" : line;
        store.appendLog(row.id(), new TemplateStore.LogLine(seq, 1, Instant.now(), level, text));
    }

    private static String abbreviate(String s) {
        String one = s.replace('\n', ' ');
        return one.length() > 200 ? one.substring(0, 200) + "…" : one;
    }

    /** A step that failed: the message is the build's error. */
    private static final class StepFailed extends RuntimeException {
        StepFailed(String message) {
            super(message);
        }
    }

    private static final class Cancelled extends RuntimeException {
        Cancelled() {
            super("cancelled");
        }
    }
}
