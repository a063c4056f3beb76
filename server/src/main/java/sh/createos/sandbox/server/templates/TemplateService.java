package sh.createos.sandbox.server.templates;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Semaphore;
import java.util.regex.Pattern;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import sh.createos.sandbox.model.ErrorCode;
import sh.createos.sandbox.model.Json;
import sh.createos.sandbox.model.RootfsData;
import sh.createos.sandbox.model.Template;
import sh.createos.sandbox.server.DomainException;
import sh.createos.sandbox.server.Ulid;
import sh.createos.sandbox.server.host.Host;
import sh.createos.sandbox.server.sandbox.SandboxService;
import sh.createos.sandbox.server.store.TemplateStore;
import sh.createos.sandbox.server.store.TemplateStore.TemplateRecord;
import sh.createos.sandbox.server.store.User;

/**
 * Templates (spec §12, interactive §9.1): submit, list, get by id or name, delete, logs; the build queue (at most
 * {@link TemplateSettings#builds()} at once, FIFO); and what a sandbox made from a template gets: its image, its ENV
 * (merged under the create's envs), WORKDIR as the default cwd and USER as the default user of its execs.
 */
public final class TemplateService implements SandboxService.RootfsResolver {
    private static final Logger log = LoggerFactory.getLogger(TemplateService.class);
    private static final ObjectMapper JSON = Json.mapper();
    private static final Pattern NAME = Pattern.compile("[a-z0-9][a-z0-9-]{0,62}");
    /** The real product's base name for its Debian image, and what it means here. */
    static final Map<String, String> ALIASES = Map.of("nodeops/sandbox:debian", "devbox:1",
            "nodeops/sandbox:latest", "devbox:1", "nodeops/sandbox", "devbox:1");
    static final String DEFAULT_BASE = "devbox:1";
    /** The base image of a row whose FROM names a registry's image, until its build pulls it. */
    static final String OCI_PREFIX = "docker://";
    private static final long FOLLOW_POLL_MS = 200;

    private final TemplateStore store;
    private final Host host;
    private final TemplateSettings settings;
    private final Semaphore slots;
    private final Map<String, TemplateBuild> active = new ConcurrentHashMap<>();
    private final Set<String> cacheInUse = ConcurrentHashMap.newKeySet();
    private final Map<String, Template.ImageConfig> configs = new ConcurrentHashMap<>();
    private volatile boolean stopped;

    public TemplateService(TemplateStore store, Host host, TemplateSettings settings) {
        this.store = store;
        this.host = host;
        this.settings = settings;
        this.slots = new Semaphore(settings.builds(), true);
    }

    /**
     * At start: builds that were under way when the server stopped cannot be resumed (their builder VMs were this
     * process's); they end failed, and their builders go. Then queued ones start again.
     */
    public void reconcile() {
        for (TemplateRecord t : store.withStatus("building")) {
            if (t.builderVm() != null) {
                try {
                    host.destroyVm(t.builderVm());
                    host.releaseLease(t.builderVm());
                } catch (IOException | RuntimeException e) {
                    log.warn("removing builder {} of template {}: {}", t.builderVm(), t.id(), e.getMessage());
                }
            }
            store.markFailed(t.id(), "the server restarted during the build; submit it again");
        }
        for (TemplateRecord t : store.withStatus("pending")) {
            try {
                enqueue(t, DockerfileParser.parse(t.dockerfile()));
            } catch (RuntimeException e) {
                store.markFailed(t.id(), e.getMessage());
            }
        }
        try {
            host.sweepImages();
        } catch (IOException | RuntimeException e) {
            log.warn("sweeping built images: {}", e.getMessage());
        }
    }

    public Template submit(User user, Template.CreateRequest req) {
        if (req.name() == null || !NAME.matcher(req.name()).matches()) {
            throw DomainException.invalid("'name' must match ^[a-z0-9][a-z0-9-]{0,62}$, not '" + req.name() + "'");
        }
        if (req.dockerfile() == null || req.dockerfile().isBlank()) {
            throw DomainException.invalid("'dockerfile' is required");
        }
        if (req.dockerfile().getBytes(StandardCharsets.UTF_8).length > DockerfileParser.MAX_BYTES) {
            throw new DomainException(ErrorCode.PAYLOAD_TOO_LARGE, "the Dockerfile is larger than "
                    + DockerfileParser.MAX_BYTES / 1024 + " KiB");
        }
        Dockerfile dockerfile;
        try {
            dockerfile = DockerfileParser.parse(req.dockerfile());
        } catch (DockerfileException e) {
            throw DomainException.invalid(e.getMessage());
        }
        String baseImage = resolveBase(user, dockerfile);
        if (req.base() != null && !req.base().isBlank()) {
            String requested = resolveBaseName(user, req.base(), 0);
            if (!requested.equals(baseImage)) {
                throw DomainException.invalid("'base' " + req.base() + " and the Dockerfile's FROM " + dockerfile.from()
                        + " name different images");
            }
        }
        host.problem().ifPresent(p -> {
            throw DomainException.unavailable("templates cannot be built: " + p);
        });
        TemplateRecord row = store.insertNextVersion(new TemplateRecord("tpl_" + Ulid.next(), user.id(), req.name(), 0,
                dockerfile.from(), baseImage, "pending", req.dockerfile(), json(dockerfile.config()), 0, null, null,
                Instant.now(), null, null));
        enqueue(row, dockerfile);
        return view(row, false);
    }

    private void enqueue(TemplateRecord row, Dockerfile dockerfile) {
        TemplateBuild build = new TemplateBuild(store, host, settings, row, dockerfile, cacheInUse);
        active.put(row.id(), build);
        Thread.ofVirtual().name("template-build-" + row.id()).start(() -> {
            try {
                slots.acquire();
            } catch (InterruptedException e) {
                active.remove(row.id());
                return;
            }
            try {
                if (!stopped) { // a queued build stays pending for the next start
                    build.run();
                }
            } finally {
                slots.release();
                active.remove(row.id());
            }
        });
    }

    /** The image FROM names: an allowed catalog image, an alias of one, or a ready template of the user's. */
    private String resolveBase(User user, Dockerfile dockerfile) {
        return resolveBaseName(user, dockerfile.from(), dockerfile.fromLine());
    }

    private String resolveBaseName(User user, String from, int line) {
        String where = line > 0 ? "Dockerfile line " + line + ": " : "";
        String name = ALIASES.getOrDefault(from, from);
        if (name.equals("scratch")) {
            throw DomainException.invalid(where + "FROM scratch is not supported: start from an image ("
                    + host.images() + ") or a template of yours");
        }
        if (host.images().contains(name)) {
            return name;
        }
        Optional<ImageReference> reference;
        try {
            reference = ImageReference.parse(name);
        } catch (IllegalArgumentException e) {
            throw DomainException.invalid(where + e.getMessage());
        }
        if (reference.isPresent()) {
            String registry = reference.get().registry();
            if (!settings.registries().containsKey(registry)) {
                throw DomainException.invalid(where + "FROM " + from + ": registry " + registry + " is not one that"
                        + " FROM may pull from (configured: " + (settings.registries().isEmpty() ? "none"
                        : String.join(", ", new java.util.TreeSet<>(settings.registries().keySet())))
                        + "; the server's --template-registry option)");
            }
            String image = OCI_PREFIX + reference.get();
            if (image.length() > 200) {
                throw DomainException.invalid(where + "FROM " + from + " is longer than 190 characters");
            }
            return image;
        }
        Optional<TemplateRecord> template = ownTemplate(user, name);
        if (template.isPresent()) {
            if (!template.get().status().equals("ready")) {
                throw DomainException.invalid(where + "template " + name + " is not ready (status "
                        + template.get().status() + ")");
            }
            return template.get().id();
        }
        throw DomainException.invalid(where + "FROM " + from + " is not an allowed base: use one of " + host.images()
                + ", nodeops/sandbox:debian, REGISTRY/REPOSITORY:TAG of a configured registry, or a ready template of"
                + " yours");
    }

    /** The user's live template of this id, or the newest live version of this name. */
    private Optional<TemplateRecord> ownTemplate(User user, String ref) {
        if (ref.startsWith("tpl_")) {
            return store.template(ref).filter(t -> t.userId().equals(user.id()) && t.deletedAt() == null);
        }
        return store.newestByName(user.id(), ref);
    }

    private TemplateRecord require(User user, String ref) {
        return ownTemplate(user, ref).orElseThrow(() -> DomainException.notFound("unknown template '" + ref + "'"));
    }

    public List<Template> list(User user, int limit, int offset) {
        return store.templates(user.id(), limit, offset).stream().map(t -> view(t, false)).toList();
    }

    public long count(User user) {
        return store.countTemplates(user.id());
    }

    public Template get(User user, String ref, boolean includeDockerfile) {
        return view(require(user, ref), includeDockerfile);
    }

    /** Deletes the template; a build under way is cancelled. Sandboxes built from it keep working. */
    public void delete(User user, String ref) {
        TemplateRecord t = require(user, ref);
        store.markDeleted(t.id(), Instant.now());
        TemplateBuild build = active.get(t.id());
        if (build != null) {
            build.cancel();
        }
        if (t.status().equals("ready")) {
            try {
                host.retireImage(t.id());
            } catch (IOException e) {
                log.warn("retiring the image of template {}: {}", t.id(), e.getMessage());
            }
        }
    }

    /** The log so far as plain text, one line per log line. @param attempt 0 for every attempt */
    public String logText(User user, String ref, int attempt) {
        TemplateRecord t = require(user, ref);
        checkAttempt(t, attempt);
        StringBuilder text = new StringBuilder();
        for (TemplateStore.LogLine line : store.logs(t.id(), 0, attempt)) {
            text.append(line.line()).append('\n');
        }
        return text.toString();
    }

    private static void checkAttempt(TemplateRecord t, int attempt) {
        if (attempt < 0 || attempt > 1) {
            throw DomainException.notFound("template " + t.id() + " has no attempt " + attempt);
        }
    }

    /** Resolves the template (404 before anything is sent) and returns what follows its log. */
    public LogFollower follower(User user, String ref, int attempt) {
        TemplateRecord t = require(user, ref);
        checkAttempt(t, attempt);
        return out -> follow(t.id(), attempt, out);
    }

    /** Writes the log as NDJSON frames, as it grows, then {@code {"final":true,"status":…}}. */
    public interface LogFollower {
        void writeTo(OutputStream out) throws IOException;
    }

    private void follow(String id, int attempt, OutputStream out) throws IOException {
        int after = 0;
        while (true) {
            String status = store.template(id).map(TemplateRecord::status).orElse("failed");
            boolean done = status.equals("ready") || status.equals("failed") || status.equals("cancelled");
            List<TemplateStore.LogLine> lines = store.logs(id, after, attempt);
            for (TemplateStore.LogLine line : lines) {
                after = line.seq();
                write(out, new Template.LogEvent(line.ts().toString(), line.level(), line.line(), line.attempt(), null,
                        null));
            }
            if (done && lines.isEmpty()) {
                write(out, new Template.LogEvent(null, null, null, null, true, status));
                return;
            }
            if (lines.isEmpty()) {
                try {
                    Thread.sleep(FOLLOW_POLL_MS);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    return;
                }
            }
        }
    }

    private static void write(OutputStream out, Template.LogEvent event) throws IOException {
        out.write(JSON.writeValueAsBytes(event));
        out.write('\n');
        out.flush();
    }

    // --- sandboxes from templates ---

    /** A create's rootfs that is the user's template (by name or id) → its image and what it brings. */
    @Override
    public Resolved resolve(User user, String rootfs) {
        if (rootfs == null || rootfs.isBlank()) {
            return null;
        }
        Optional<TemplateRecord> found = rootfs.startsWith("tpl_")
                ? store.template(rootfs).filter(t -> t.userId().equals(user.id()) && t.deletedAt() == null)
                : store.newestReadyByName(user.id(), rootfs).or(() -> store.newestByName(user.id(), rootfs));
        if (found.isEmpty()) {
            boolean deleted = rootfs.startsWith("tpl_")
                    ? store.template(rootfs).filter(t -> t.userId().equals(user.id())).isPresent()
                    : store.hadName(user.id(), rootfs);
            if (deleted) {
                throw DomainException.notFound("template " + rootfs + " was deleted");
            }
            return null;
        }
        TemplateRecord t = found.get();
        if (!t.status().equals("ready")) {
            throw DomainException.invalid("template " + rootfs + " is not ready (status " + t.status() + ")");
        }
        if (!host.hasBuiltImage(t.id())) {
            throw DomainException.unavailable("the image of template " + rootfs + " is not on this host");
        }
        Template.ImageConfig config = config(t);
        return new Resolved(t.id(), config.env() == null ? Map.of() : config.env());
    }

    /** The default cwd and user of execs in a sandbox whose rootfs is {@code image}: a template's WORKDIR, USER. */
    @Override
    public ExecDefaults execDefaults(String image) {
        if (image == null || !image.startsWith("tpl_")) {
            return ExecDefaults.NONE;
        }
        Template.ImageConfig config = configs.computeIfAbsent(image, id -> store.template(id).map(this::config)
                .orElse(new Template.ImageConfig(Map.of(), null, null, null, null, List.of(), Map.of(), null)));
        return new ExecDefaults(config.workdir(), config.user());
    }

    /** The user's ready templates as rootfs catalog entries (newest version of each name). */
    public List<RootfsData.Entry> rootfsEntries(User user) {
        Map<String, RootfsData.Entry> byName = new LinkedHashMap<>();
        for (TemplateRecord t : store.readyTemplates(user.id())) {
            byName.putIfAbsent(t.name(), new RootfsData.Entry(t.name(), "template " + t.id() + " (version "
                    + t.version() + ", FROM " + t.base() + ")", null, null));
        }
        return new ArrayList<>(byName.values());
    }

    private Template.ImageConfig config(TemplateRecord t) {
        try {
            return JSON.readValue(t.imageConfig(), Template.ImageConfig.class);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("template " + t.id() + " has an unreadable image_config", e);
        }
    }

    static String json(Template.ImageConfig config) {
        try {
            return JSON.writeValueAsString(config);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
    }

    private Template view(TemplateRecord t, boolean includeDockerfile) {
        return new Template(t.id(), t.name(), t.base(), t.status(), t.ext4SizeBytes(), t.createdAt().toString(),
                t.builtAt() == null ? null : t.builtAt().toString(), t.version(), t.error(), config(t),
                includeDockerfile ? t.dockerfile() : null);
    }

    /** Stops the builds under way (they end failed, their builders destroyed); queued ones run after a restart. */
    public void shutdown() {
        stopped = true;
        for (TemplateBuild build : active.values()) {
            if (store.template(build.templateId()).map(t -> t.status().equals("building")).orElse(false)) {
                store.markFailed(build.templateId(), "the server stopped during the build; submit it again");
            }
            build.cancel();
        }
    }
}
