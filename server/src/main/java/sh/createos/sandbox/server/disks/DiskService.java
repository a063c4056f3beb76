package sh.createos.sandbox.server.disks;

import com.fasterxml.jackson.core.JsonProcessingException;
import java.io.IOException;
import java.net.Inet4Address;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.URISyntaxException;
import java.net.UnknownHostException;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.locks.ReentrantLock;
import java.util.regex.Pattern;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import sh.createos.sandbox.host.agent.AgentClient;
import sh.createos.sandbox.model.CreateSandboxRequest.DiskAttachment;
import sh.createos.sandbox.model.Disk;
import sh.createos.sandbox.model.ErrorCode;
import sh.createos.sandbox.model.Json;
import sh.createos.sandbox.model.SandboxStatus;
import sh.createos.sandbox.server.Ulid;
import sh.createos.sandbox.server.DomainException;
import sh.createos.sandbox.server.host.Host;
import sh.createos.sandbox.server.sandbox.SandboxService;
import sh.createos.sandbox.server.sandbox.SandboxService.RunningSandbox;
import sh.createos.sandbox.server.secrets.SecretBox;
import sh.createos.sandbox.server.store.DiskStore;
import sh.createos.sandbox.server.store.DiskStore.DiskRecord;
import sh.createos.sandbox.server.store.DiskStore.MountRecord;
import sh.createos.sandbox.server.store.NameTakenException;
import sh.createos.sandbox.server.store.SandboxRecord;
import sh.createos.sandbox.server.store.User;

/**
 * S3 disks (spec §11, interactive §9.2): registered buckets with sealed credentials, and their mounts in
 * sandboxes. A mount row goes {@code pending} → {@code mounted} | {@code error} (with the reason) and
 * {@code unmounting} during a detach; the guest side is s3fs ({@link GuestMounts}), started in the background so
 * attach answers at once. The disk's endpoint (address and TCP port) is let through the sandbox's egress allowlist
 * while the sandbox has a mount of it. Mount work on one sandbox runs one at a time.
 */
public final class DiskService {
    private static final Logger log = LoggerFactory.getLogger(DiskService.class);
    private static final Pattern NAME = Pattern.compile("[a-z0-9][a-z0-9-]{0,62}");
    static final String PENDING = "pending";
    static final String MOUNTED = "mounted";
    static final String ERROR = "error";
    static final String UNMOUNTING = "unmounting";
    /** Guest paths a bucket must not hide. */
    private static final Set<String> RESERVED = Set.of("/", "/bin", "/boot", "/dev", "/etc", "/lib", "/lib64",
            "/proc", "/root", "/run", "/sbin", "/sys", "/usr", "/var", "/tmp", "/home");

    private final DiskStore store;
    private final SandboxService sandboxes;
    private final Host host;
    private final SecretBox secrets;
    private final Map<String, ReentrantLock> sandboxLocks = new ConcurrentHashMap<>();

    public DiskService(DiskStore store, SandboxService sandboxes, Host host, SecretBox secrets) {
        this.store = store;
        this.sandboxes = sandboxes;
        this.host = host;
        this.secrets = secrets;
    }

    // ---- disks ----

    public Disk register(User user, Disk.CreateRequest req) {
        String name = req.name() == null ? "" : req.name();
        if (!NAME.matcher(name).matches()) {
            throw DomainException.invalid("disk name must match ^[a-z0-9][a-z0-9-]{0,62}$, not '" + name + "'");
        }
        if (req.kind() != null && !req.kind().equals("s3")) {
            throw DomainException.invalid("disk kind must be 's3', not '" + req.kind() + "'");
        }
        Disk.Config config = checkConfig(req.config());
        Disk.Credentials credentials = checkCredentials(req.credentials());
        if (store.diskByName(user.id(), name).isPresent()) {
            throw new DomainException(ErrorCode.NAME_TAKEN, "disk name '" + name + "' is already in use");
        }
        BucketCheck.problem(config, credentials).ifPresent(problem -> {
            throw DomainException.invalid("the bucket check failed: " + problem);
        });
        String id = "disk_" + Ulid.next();
        DiskRecord row = new DiskRecord(id, user.id(), name, "s3", json(config), seal(id, credentials), 1, now());
        store.insertDisk(row);
        log.info("user {} registered disk {} ({} at {})", user.id(), id, config.bucket(), config.endpoint());
        return view(row);
    }

    public List<Disk> list(User user, int limit, int offset) {
        return store.disks(user.id(), limit, offset).stream().map(DiskService::view).toList();
    }

    public long count(User user) {
        return store.countDisks(user.id());
    }

    public Disk get(User user, String ref) {
        return view(owned(user, ref));
    }

    /**
     * New keys (not checked against the endpoint: a rotation may come before the keys are live). Mounts in running
     * sandboxes are mounted again with them now; paused ones on their resume.
     */
    public Disk rotate(User user, String ref, Disk.RotateRequest req) {
        DiskRecord disk = owned(user, ref);
        Disk.Credentials credentials = checkCredentials(req == null ? null : req.credentials());
        int version = disk.credentialsVersion() + 1;
        store.setCredentials(disk.id(), seal(disk.id(), credentials), version);
        log.info("disk {}: credentials rotated (version {})", disk.id(), version);
        for (MountRecord m : store.liveMountsOf(disk.id())) {
            if (!m.status().equals(UNMOUNTING)) {
                sandboxes.runningNow(m.sandboxId()).ifPresent(s -> inBackground(m.sandboxId(), () -> remount(s, m)));
            }
        }
        return view(store.disk(disk.id()).orElseThrow());
    }

    /** @throws DomainException DISK_IN_USE while a sandbox that is not destroyed has it attached */
    public void delete(User user, String ref) {
        DiskRecord disk = owned(user, ref);
        List<MountRecord> attached = store.liveMountsOf(disk.id()).stream()
                .filter(m -> !m.status().equals(UNMOUNTING)).toList();
        if (!attached.isEmpty()) {
            throw new DomainException(ErrorCode.DISK_IN_USE, "disk " + disk.id() + " is attached to "
                    + attached.stream().map(m -> m.sandboxId() + ":" + m.mountPath()).toList()
                    + ": detach it (or destroy those sandboxes) first");
        }
        store.deleteDisk(disk.id());
        log.info("disk {} deleted (bucket untouched)", disk.id());
    }

    // ---- a sandbox's mounts ----

    public List<Disk.SandboxDisk> mounts(User user, String sandboxId) {
        sandboxes.get(user, sandboxId);
        List<Disk.SandboxDisk> views = new ArrayList<>();
        for (MountRecord m : store.mounts(sandboxId)) {
            store.disk(m.diskId()).ifPresent(d -> views.add(new Disk.SandboxDisk(d.id(), d.name(), d.kind(),
                    config(d), m.mountPath(), emptyToNull(m.subPath()), m.status(), m.error())));
        }
        return views;
    }

    /**
     * Validates attachments of a create before anything boots: a bad body is a 400, an unknown disk (or another
     * tenant's) included.
     */
    public void checkAttachments(User user, List<DiskAttachment> attachments) {
        Set<String> paths = new LinkedHashSet<>();
        for (DiskAttachment a : attachments) {
            if (a == null) {
                throw DomainException.invalid("'disks' must not contain null");
            }
            String ref = required(a.diskId(), "disks[].disk_id");
            try {
                owned(user, ref);
            } catch (DomainException notFound) {
                throw DomainException.invalid("unknown disk '" + ref + "'");
            }
            String path = checkMountPath(a.mountPath());
            checkSubPath(a.subPath());
            if (!paths.add(path)) {
                throw DomainException.invalid("mount_path " + path + " is used twice");
            }
        }
    }

    /** Live attach (spec §11.7): the row is {@code pending} on return and is mounted in the background. */
    public void attach(User user, String sandboxId, DiskAttachment a) {
        RunningSandbox running = sandboxes.running(user, sandboxId);
        DiskRecord disk = owned(user, required(a.diskId(), "disk_id"));
        String path = checkMountPath(a.mountPath());
        String subPath = checkSubPath(a.subPath());
        Set<InetSocketAddress> endpoint = endpoint(config(disk));
        MountRecord row = new MountRecord(sandboxId, disk.id(), path, subPath, PENDING, null,
                disk.credentialsVersion(), now());
        try {
            store.insertMount(row);
        } catch (NameTakenException e) {
            throw DomainException.invalidState("sandbox " + sandboxId + " already has a disk mounted at "
                    + path);
        }
        log.info("sandbox {}: attaching disk {} at {}", sandboxId, disk.id(), path);
        inBackground(sandboxId, () -> mountNow(running.sandbox(), row, endpoint));
    }

    /** The attachments of a create, once the sandbox runs (checked by {@link #checkAttachments} before). */
    public void attachAtCreate(User user, SandboxRecord created, List<DiskAttachment> attachments) {
        for (DiskAttachment a : attachments) {
            attach(user, created.id(), a);
        }
    }

    /**
     * Live detach (spec §11.8): flushes and unmounts, then drops the row. On a paused sandbox the row stays
     * {@code unmounting} and the unmount happens on resume. {@code diskRef} may be the id or the name.
     */
    public void detach(User user, String sandboxId, String diskRef, String mountPath) throws IOException {
        SandboxRecord sandbox = sandboxes.get(user, sandboxId);
        if (mountPath == null || mountPath.isEmpty()) {
            throw DomainException.invalid("the query parameter 'mount_path' is required");
        }
        DiskRecord disk = owned(user, diskRef);
        MountRecord m = store.mount(sandboxId, mountPath).filter(r -> r.diskId().equals(disk.id()))
                .orElseThrow(() -> DomainException.notFound("sandbox " + sandboxId + " has no disk " + diskRef
                        + " at " + mountPath));
        if (sandbox.status() == SandboxStatus.PAUSED) {
            store.setMountStatus(sandboxId, mountPath, UNMOUNTING, null, m.credentialsVersion());
            return;
        }
        RunningSandbox running = sandboxes.running(user, sandboxId);
        ReentrantLock lock = lockOf(sandboxId);
        lock.lock();
        try {
            store.setMountStatus(sandboxId, mountPath, UNMOUNTING, null, m.credentialsVersion());
            GuestMounts.Unmounted done;
            try {
                done = GuestMounts.unmount(running.agent(), mountPath);
            } catch (IOException | RuntimeException e) {
                store.setMountStatus(sandboxId, mountPath, ERROR, "detach failed: " + e.getMessage(),
                        m.credentialsVersion());
                throw e;
            }
            store.deleteMount(sandboxId, mountPath);
            applyEndpoints(sandboxId);
            log.info("sandbox {}: detached disk {} from {}{}", sandboxId, disk.id(), mountPath,
                    done.lazy() ? " (lazily: a process held a file open)" : "");
        } finally {
            lock.unlock();
        }
    }

    // ---- lifecycle ----

    /** Before a destroy: every mount is flushed and unmounted while the VM still runs. */
    public void beforeDestroy(User user, String sandboxId) {
        Optional<RunningSandbox> running = sandboxes.runningNow(sandboxId).filter(r -> r.sandbox().userId()
                .equals(user.id()));
        if (running.isEmpty()) {
            return;
        }
        ReentrantLock lock = lockOf(sandboxId);
        lock.lock();
        try {
            for (MountRecord m : store.mounts(sandboxId)) {
                try {
                    GuestMounts.unmount(running.get().agent(), m.mountPath(), true);
                } catch (IOException | RuntimeException e) {
                    log.warn("sandbox {}: flushing {} before the destroy failed: {}", sandboxId, m.mountPath(),
                            e.getMessage());
                }
            }
        } finally {
            lock.unlock();
        }
    }

    /**
     * After a resume, or the start of a fork's child: finishes detaches made while paused, mounts again what uses
     * rotated keys or no longer answers (s3fs itself reconnects; a dead one is restarted), and lets the endpoints
     * through (a fork's child has a new lease).
     */
    public void afterStart(String sandboxId) {
        Optional<RunningSandbox> running = sandboxes.runningNow(sandboxId);
        if (running.isEmpty() || store.mounts(sandboxId).isEmpty()) {
            return;
        }
        inBackground(sandboxId, () -> {
            applyEndpoints(sandboxId);
            AgentClient agent = running.get().agent();
            for (MountRecord m : store.mounts(sandboxId)) {
                try {
                    if (m.status().equals(UNMOUNTING)) {
                        GuestMounts.unmount(agent, m.mountPath());
                        store.deleteMount(sandboxId, m.mountPath());
                        continue;
                    }
                    Optional<DiskRecord> disk = store.disk(m.diskId());
                    if (disk.isEmpty()) {
                        continue;
                    }
                    boolean stale = disk.get().credentialsVersion() != m.credentialsVersion();
                    if (stale || !m.status().equals(MOUNTED) || !GuestMounts.healthy(agent, m.mountPath())) {
                        remount(running.get(), m);
                    }
                } catch (IOException | RuntimeException e) {
                    log.warn("sandbox {}: checking {} after the start failed: {}", sandboxId, m.mountPath(),
                            e.getMessage());
                }
            }
            applyEndpoints(sandboxId);
        });
    }

    /** A fork's child starts with its parent's mounts (the memory copy holds the s3fs processes). */
    public void afterFork(String sourceId, SandboxRecord child) {
        for (MountRecord m : store.mounts(sourceId)) {
            if (m.status().equals(UNMOUNTING)) {
                continue;
            }
            store.insertMount(new MountRecord(child.id(), m.diskId(), m.mountPath(), m.subPath(), m.status(),
                    m.error(), m.credentialsVersion(), now()));
        }
        applyEndpoints(child.id());
        afterStart(child.id());
    }

    /** At start: the host's rules are rebuilt without the disk endpoints; let them through again. */
    public void reconcile() {
        store.liveMounts().stream().map(MountRecord::sandboxId).distinct().forEach(this::applyEndpoints);
    }

    // ---- mounting ----

    private void mountNow(SandboxRecord sandbox, MountRecord row, Set<InetSocketAddress> endpoint) {
        String id = sandbox.id();
        Optional<DiskRecord> disk = store.disk(row.diskId());
        Optional<RunningSandbox> running = sandboxes.runningNow(id);
        if (disk.isEmpty() || running.isEmpty()) {
            store.setMountStatus(id, row.mountPath(), ERROR, "the sandbox stopped running before the mount",
                    row.credentialsVersion());
            return;
        }
        int version = disk.get().credentialsVersion();
        try {
            applyEndpoints(id, endpoint);
            GuestMounts.mount(running.get().agent(), new GuestMounts.Mount(config(disk.get()),
                    open(disk.get()), row.mountPath(), row.subPath()));
            if (!store.setMountStatus(id, row.mountPath(), MOUNTED, null, version)) {
                GuestMounts.unmount(running.get().agent(), row.mountPath()); // detached meanwhile
            }
            log.info("sandbox {}: disk {} mounted at {}", id, row.diskId(), row.mountPath());
        } catch (IOException | RuntimeException e) {
            log.info("sandbox {}: mounting disk {} at {} failed: {}", id, row.diskId(), row.mountPath(),
                    e.getMessage());
            store.setMountStatus(id, row.mountPath(), ERROR, e.getMessage(), version);
            applyEndpoints(id);
        }
    }

    private void remount(RunningSandbox running, MountRecord m) {
        String id = running.sandbox().id();
        store.setMountStatus(id, m.mountPath(), PENDING, null, m.credentialsVersion());
        try {
            GuestMounts.unmount(running.agent(), m.mountPath());
        } catch (IOException | RuntimeException e) {
            store.setMountStatus(id, m.mountPath(), ERROR, "re-mount: " + e.getMessage(), m.credentialsVersion());
            return;
        }
        Optional<DiskRecord> disk = store.disk(m.diskId());
        if (disk.isPresent()) {
            mountNow(running.sandbox(), m, endpoint(config(disk.get())));
        }
    }

    private void inBackground(String sandboxId, Runnable work) {
        Thread.ofVirtual().name("disks-" + sandboxId).start(() -> {
            ReentrantLock lock = lockOf(sandboxId);
            lock.lock();
            try {
                work.run();
            } catch (RuntimeException e) {
                log.error("sandbox {}: disk work failed", sandboxId, e);
            } finally {
                lock.unlock();
            }
        });
    }

    private ReentrantLock lockOf(String sandboxId) {
        return sandboxLocks.computeIfAbsent(sandboxId, k -> new ReentrantLock());
    }

    // ---- egress exception ----

    private void applyEndpoints(String sandboxId) {
        applyEndpoints(sandboxId, Set.of());
    }

    /** The endpoints of the sandbox's mounts (and {@code extra}) become its disk endpoints on the host. */
    private void applyEndpoints(String sandboxId, Set<InetSocketAddress> extra) {
        if (!host.hasNetwork()) {
            return;
        }
        Set<InetSocketAddress> all = new LinkedHashSet<>(extra);
        for (MountRecord m : store.mounts(sandboxId)) {
            store.disk(m.diskId()).ifPresent(d -> {
                try {
                    all.addAll(endpoint(config(d)));
                } catch (DomainException unresolvable) {
                    // its mount fails and says so; the others still pass
                }
            });
        }
        if (!host.hasLease(sandboxId)) {
            return;
        }
        try {
            host.setDiskEndpoints(sandboxId, all);
        } catch (IOException e) {
            log.warn("sandbox {}: letting its disk endpoints through failed: {}", sandboxId, e.getMessage());
        }
    }

    /** The endpoint's IPv4 addresses with its port (the URL's, else 443 for https and 80 for http). */
    static Set<InetSocketAddress> endpoint(Disk.Config config) {
        URI uri = URI.create(config.endpoint());
        int port = uri.getPort() > 0 ? uri.getPort() : "https".equalsIgnoreCase(uri.getScheme()) ? 443 : 80;
        Set<InetSocketAddress> out = new LinkedHashSet<>();
        try {
            for (InetAddress a : InetAddress.getAllByName(uri.getHost())) {
                if (a instanceof Inet4Address) {
                    out.add(new InetSocketAddress(a, port));
                }
            }
        } catch (UnknownHostException e) {
            throw DomainException.invalid(MountFailure.UNREACHABLE + ": cannot resolve " + uri.getHost());
        }
        return out;
    }

    // ---- validation and views ----

    private static Disk.Config checkConfig(Disk.Config c) {
        if (c == null) {
            throw DomainException.invalid("'config' is required: {bucket, endpoint, region?, use_path_style?}");
        }
        String bucket = required(c.bucket(), "config.bucket");
        if (!bucket.matches("[a-zA-Z0-9._-]{1,255}")) {
            throw DomainException.invalid("config.bucket '" + bucket + "' is not a bucket name");
        }
        String endpoint = required(c.endpoint(), "config.endpoint");
        try {
            URI uri = new URI(endpoint);
            if (!("http".equals(uri.getScheme()) || "https".equals(uri.getScheme())) || uri.getHost() == null
                    || (uri.getPath() != null && !uri.getPath().isEmpty() && !uri.getPath().equals("/"))
                    || uri.getQuery() != null || uri.getUserInfo() != null) {
                throw new URISyntaxException(endpoint, "want http(s)://host[:port]");
            }
        } catch (URISyntaxException e) {
            throw DomainException.invalid("config.endpoint '" + endpoint + "' is not an http(s)://host[:port] URL");
        }
        if (endpoint.endsWith("/")) {
            endpoint = endpoint.substring(0, endpoint.length() - 1);
        }
        if (c.region() != null && !c.region().matches("[a-z0-9-]{0,64}")) {
            throw DomainException.invalid("config.region '" + c.region() + "' is not a region name");
        }
        endpoint(new Disk.Config(bucket, endpoint, c.region(), c.usePathStyle()));
        return new Disk.Config(bucket, endpoint, emptyToNull(c.region()), c.usePathStyle());
    }

    private static Disk.Credentials checkCredentials(Disk.Credentials c) {
        if (c == null || c.accessKey() == null || c.accessKey().isEmpty() || c.secretKey() == null
                || c.secretKey().isEmpty()) {
            throw DomainException.invalid("'credentials' needs a non-empty access_key and secret_key");
        }
        if ((c.accessKey() + c.secretKey()).chars().anyMatch(ch -> ch < 0x21 || ch == ':' || ch > 0x7e)) {
            throw DomainException.invalid("credentials must be printable ASCII without spaces or ':'");
        }
        return c;
    }

    /** An absolute, normalized path that does not hide a system directory. */
    static String checkMountPath(String path) {
        if (path == null || path.isEmpty()) {
            throw DomainException.invalid("'mount_path' is required");
        }
        if (!path.startsWith("/")) {
            throw DomainException.invalid("mount_path must be an absolute path, not '" + path + "'");
        }
        if (path.length() > 1024 || path.chars().anyMatch(ch -> ch < 0x20 || ch == 0x7f)
                || path.contains("//") || (path.length() > 1 && path.endsWith("/"))
                || List.of(path.split("/")).stream().anyMatch(p -> p.equals(".") || p.equals(".."))) {
            throw DomainException.invalid("mount_path '" + path + "' must be normalized (no '.', '..', '//' or"
                    + " trailing '/')");
        }
        if (RESERVED.contains(path) || path.startsWith("/proc/") || path.startsWith("/sys/")
                || path.startsWith("/dev/")) {
            throw DomainException.invalid("mount_path " + path + " would hide a system directory; use e.g. /mnt/"
                    + "<name> or /data");
        }
        return path;
    }

    static String checkSubPath(String subPath) {
        if (subPath == null || subPath.isEmpty()) {
            return null;
        }
        if (subPath.startsWith("/") || List.of(subPath.split("/")).contains("..")
                || subPath.chars().anyMatch(ch -> ch < 0x20 || ch == 0x7f)) {
            throw DomainException.invalid("sub_path must not start with '/' or contain '..': '" + subPath + "'");
        }
        return subPath.endsWith("/") ? subPath.substring(0, subPath.length() - 1) : subPath;
    }

    private DiskRecord owned(User user, String ref) {
        Optional<DiskRecord> row = ref.startsWith("disk_") ? store.disk(ref) : store.diskByName(user.id(), ref);
        return row.filter(d -> d.userId().equals(user.id()))
                .orElseThrow(() -> DomainException.notFound("disk " + ref + " not found"));
    }

    private String seal(String diskId, Disk.Credentials c) {
        return secrets.seal(json(c), aad(diskId));
    }

    private Disk.Credentials open(DiskRecord d) {
        try {
            return Json.mapper().readValue(secrets.open(d.credentials(), aad(d.id())), Disk.Credentials.class);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("disk " + d.id() + ": sealed credentials are not JSON");
        }
    }

    private static String aad(String diskId) {
        return "disks/" + diskId + "/credentials";
    }

    private static Disk.Config config(DiskRecord d) {
        try {
            return Json.mapper().readValue(d.config(), Disk.Config.class);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("disk " + d.id() + ": config column is not JSON: " + e.getMessage());
        }
    }

    private static Disk view(DiskRecord d) {
        return new Disk(d.id(), d.name(), d.kind(), config(d), d.createdAt().toString());
    }

    private static String json(Object value) {
        try {
            return Json.mapper().writeValueAsString(value);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
    }

    private static String required(String value, String field) {
        if (value == null || value.isEmpty()) {
            throw DomainException.invalid("'" + field + "' is required");
        }
        return value;
    }

    private static String emptyToNull(String s) {
        return s == null || s.isEmpty() ? null : s;
    }

    private static Instant now() {
        return Instant.now().truncatedTo(ChronoUnit.MILLIS);
    }
}
