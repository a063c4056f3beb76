package sh.createos.sandbox.server.sandbox;

import java.io.IOException;
import java.time.Instant;
import java.util.EnumSet;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Phaser;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import sh.createos.sandbox.host.vmm.Vm;
import sh.createos.sandbox.host.vmm.VmSpec;
import sh.createos.sandbox.model.CreateSandboxRequest;
import sh.createos.sandbox.model.PatchSandboxRequest;
import sh.createos.sandbox.model.SandboxStatus;
import sh.createos.sandbox.model.Shape;
import sh.createos.sandbox.server.Ulid;
import sh.createos.sandbox.server.http.ApiException;
import sh.createos.sandbox.server.store.SandboxRecord;
import sh.createos.sandbox.server.store.Store;
import sh.createos.sandbox.server.store.User;

/** The lifecycle of single sandboxes: create, read, settings, destroy, and reconciliation at start. */
public final class SandboxService {
    private static final Logger log = LoggerFactory.getLogger(SandboxService.class);
    public static final long DEFAULT_BANDWIDTH_QUOTA = 10L * 1024 * 1024 * 1024;
    private static final String DEFAULT_ROOTFS = "devbox:1";
    private static final int MIN_AUTO_PAUSE = 60;
    private static final int MAX_AUTO_PAUSE = 86400;
    private static final int MAX_DISK_MIB = 1024 * 1024;
    private static final int MAX_ENVS = 256;
    private static final Set<SandboxStatus> UNFINISHED = EnumSet.of(SandboxStatus.CREATING, SandboxStatus.RUNNING,
            SandboxStatus.PAUSING, SandboxStatus.RESUMING, SandboxStatus.FORKING, SandboxStatus.DESTROYING);

    private final Store store;
    private final LocalHost host;
    private final SandboxStateMachine states;
    private final Map<String, Object> admissionLocks = new ConcurrentHashMap<>();
    /** Background reclaims still running, so shutdown can let them finish. */
    private final Phaser background = new Phaser(1);

    public SandboxService(Store store, LocalHost host) {
        this.store = store;
        this.host = host;
        this.states = new SandboxStateMachine(store);
    }

    public SandboxStateMachine states() {
        return states;
    }

    /** Creates and boots a sandbox; returns once its agent answered and the row says {@code running}. */
    public SandboxRecord create(User user, CreateSandboxRequest req) {
        SandboxRecord row = admit(user, validate(user, req));
        String vmId = vmId(row.id());
        long started = System.nanoTime();
        Vm vm;
        try {
            vm = host.vmm().boot(new VmSpec(vmId, row.rootfs(), row.vcpu(), row.memMib(), row.diskMib(),
                    hostname(row, vmId)));
        } catch (IOException | RuntimeException e) {
            log.warn("sandbox {} failed to boot: {}", row.id(), e.getMessage());
            failCreate(row, "boot failed: " + e.getMessage());
            throw new ApiException(500, "BOOT_FAILED", "sandbox " + row.id() + " failed to boot: " + e.getMessage());
        }
        long spawnMs = (System.nanoTime() - started) / 1_000_000;
        try {
            SandboxRecord running = states.transition(row, SandboxStatus.RUNNING,
                    r -> r.withRunning(null, LocalHost.ID, spawnMs, now()));
            host.register(row.id(), vm);
            return running;
        } catch (ApiException destroyedMeanwhile) {
            // DELETE arrived while booting: the row is destroying, so finish that here.
            destroyVm(row.id(), vm);
            store.sandbox(row.id()).filter(r -> r.status() == SandboxStatus.DESTROYING)
                    .ifPresent(r -> states.transition(r, SandboxStatus.DESTROYED));
            throw ApiException.conflict("INVALID_STATE", "sandbox " + row.id() + " was destroyed while booting");
        }
    }

    private SandboxRecord validate(User user, CreateSandboxRequest req) {
        if (req.shape() == null || req.shape().isBlank()) {
            throw ApiException.badRequest("'shape' is required");
        }
        Shape shape = Shapes.find(req.shape()).orElseThrow(() -> ApiException.badRequest("unknown shape '"
                + req.shape() + "'; see GET /v1/shapes"));
        String rootfs = req.rootfs() == null || req.rootfs().isBlank() ? DEFAULT_ROOTFS : req.rootfs();
        if (!host.images().isEmpty() && !host.images().contains(rootfs)) {
            throw ApiException.badRequest("unknown rootfs '" + rootfs + "'; available: " + host.images());
        }
        int diskMib = req.diskMib() == null || req.diskMib() == 0 ? shape.defaultDiskMib() : req.diskMib();
        if (diskMib < 0 || diskMib > MAX_DISK_MIB) {
            throw ApiException.badRequest("disk_mib must be between 1 and " + MAX_DISK_MIB + ", not " + diskMib);
        }
        if (req.bandwidthQuotaBytes() != null && req.bandwidthQuotaBytes() != 0) {
            throw ApiException.badRequest("bandwidth_quota_bytes cannot be set at create; the default quota applies");
        }
        checkAutoPause(req.autoPauseAfterSeconds());
        if (req.region() != null && !req.region().isEmpty() && !req.region().equals(SandboxViews.REGION)) {
            throw ApiException.badRequest("region '" + req.region() + "' is not this server's region '"
                    + SandboxViews.REGION + "'");
        }
        if (req.networks() != null && !req.networks().isEmpty()) {
            throw ApiException.badRequest("unknown network '" + req.networks().get(0).id() + "'");
        }
        if (req.disks() != null && !req.disks().isEmpty()) {
            throw ApiException.badRequest("unknown disk '" + req.disks().get(0).diskId() + "'");
        }
        if (req.hostId() != null && !req.hostId().isEmpty() && !req.hostId().equals(LocalHost.ID)) {
            throw ApiException.badRequest("unknown host '" + req.hostId() + "'");
        }
        if (req.egress() != null && !req.egress().isEmpty() && !req.egress().equals(List.of("*"))) {
            throw ApiException.badRequest("egress allowlists are not supported by this server yet; "
                    + "omit 'egress' or send [] for open egress");
        }
        Map<String, String> envs = checkEnvs(req.envs());
        List<String> keys = req.sshPubkeys() == null || req.sshPubkeys().isEmpty() ? List.of()
                : SshPublicKeys.merge(List.of(), req.sshPubkeys());
        String name = req.name() == null || req.name().isEmpty() ? Names.generate() : Names.check(req.name());
        return new SandboxRecord("sb_" + Ulid.next(), user.id(), name, SandboxStatus.CREATING, shape.id(), rootfs,
                shape.vcpu(), shape.memMib(), diskMib, null, null, Boolean.TRUE.equals(req.ingressEnabled()),
                req.autoPauseAfterSeconds(), envs, List.of(), keys, DEFAULT_BANDWIDTH_QUOTA, null, now(),
                null, null, null, user.email());
    }

    /** Quota and capacity checks and the insert of the {@code creating} row, atomically per user. */
    private SandboxRecord admit(User user, SandboxRecord row) {
        synchronized (admissionLocks.computeIfAbsent(user.id(), id -> new Object())) {
            Map<SandboxStatus, Long> counts = store.countByStatus(user.id());
            long live = counts.entrySet().stream()
                    .filter(e -> e.getKey() != SandboxStatus.DESTROYED && e.getKey() != SandboxStatus.FAILED)
                    .mapToLong(Map.Entry::getValue).sum();
            if (live >= user.sandboxLimit()) {
                throw ApiException.forbidden("SANDBOX_LIMIT", "sandbox limit reached: " + live + " of "
                        + user.sandboxLimit() + " live sandboxes; destroy one first");
            }
            host.vmm();
            if (!host.hasMemoryFor(row.memMib())) {
                throw ApiException.unavailable("no host with capacity: not enough free memory for "
                        + row.memMib() + " MiB");
            }
            store.insertSandbox(row);
            return row;
        }
    }

    private void failCreate(SandboxRecord row, String reason) {
        try {
            states.transition(row, SandboxStatus.FAILED, r -> r.withFailure(reason));
        } catch (ApiException e) {
            // DELETE arrived meanwhile: there is no VM, so the sandbox is simply gone.
            store.sandbox(row.id()).filter(r -> r.status() == SandboxStatus.DESTROYING)
                    .ifPresent(r -> states.transition(r, SandboxStatus.DESTROYED));
        }
    }

    /** The caller's sandbox; someone else's is as unknown as a missing one. */
    public SandboxRecord get(User user, String id) {
        return store.sandbox(id).filter(s -> s.userId().equals(user.id()))
                .orElseThrow(() -> ApiException.notFound("sandbox " + id + " not found"));
    }

    public SandboxRecord byIp(User user, String ip) {
        return store.sandboxByIp(user.id(), ip)
                .orElseThrow(() -> ApiException.notFound("no sandbox with IP " + ip));
    }

    /** The running sandbox's VM. @throws ApiException 404 unknown, 409 not running */
    public RunningSandbox running(User user, String id) {
        SandboxRecord sandbox = get(user, id);
        SandboxStateMachine.requireStatus(sandbox, SandboxStatus.RUNNING);
        Vm vm = host.vm(id).filter(Vm::isAlive).orElse(null);
        if (vm == null) {
            // The VMM died under us: say so in the row instead of failing every call with a 500.
            host.unregister(id).ifPresent(Vm::close);
            SandboxRecord broken = states.transition(sandbox, SandboxStatus.ERROR,
                    s -> s.withFailure("its VM exited unexpectedly"));
            throw ApiException.conflict("INVALID_STATE", "sandbox " + id + " is " + broken.status().wire()
                    + ": its VM exited unexpectedly");
        }
        return new RunningSandbox(sandbox, vm);
    }

    public record RunningSandbox(SandboxRecord sandbox, Vm vm) {}

    public SandboxRecord patch(User user, String id, PatchSandboxRequest req) {
        SandboxRecord sandbox = get(user, id);
        checkAutoPause(req.autoPauseAfterSeconds());
        boolean disable = Boolean.TRUE.equals(req.disableAutoPause());
        if (disable && req.autoPauseAfterSeconds() != null) {
            throw ApiException.badRequest("send either auto_pause_after_seconds or disable_auto_pause, not both");
        }
        boolean ingress = req.ingressEnabled() == null ? sandbox.ingressEnabled() : req.ingressEnabled();
        Integer autoPause = disable ? null
                : req.autoPauseAfterSeconds() != null ? req.autoPauseAfterSeconds() : sandbox.autoPauseAfterSeconds();
        return states.update(sandbox, SandboxStatus.RUNNING, s -> s.withSettings(ingress, autoPause));
    }

    public SandboxRecord resize(User user, String id, Integer diskMib) throws IOException {
        if (diskMib == null) {
            throw ApiException.badRequest("'disk_mib' is required");
        }
        RunningSandbox running = running(user, id);
        int current = running.sandbox().diskMib();
        if (diskMib <= current) {
            throw ApiException.badRequest("disk_mib must be larger than the current " + current + " MiB; disks only grow");
        }
        if (diskMib > MAX_DISK_MIB) {
            throw new ApiException(400, "DISK_TOO_LARGE", "disk_mib " + diskMib + " exceeds the maximum of "
                    + MAX_DISK_MIB + " MiB");
        }
        running.vm().resizeDisk(diskMib);
        return states.update(running.sandbox(), SandboxStatus.RUNNING, s -> s.withDiskMib(diskMib));
    }

    public int addSshPubkeys(User user, String id, List<String> keys) {
        SandboxRecord sandbox = get(user, id);
        SandboxStateMachine.requireStatus(sandbox, SandboxStatus.RUNNING);
        List<String> merged = SshPublicKeys.merge(sandbox.sshPubkeys(), keys);
        return states.update(sandbox, SandboxStatus.RUNNING, s -> s.withSshPubkeys(merged)).sshPubkeys().size();
    }

    /**
     * Starts destroying; returns the status to report: {@code destroyed} when nothing was left to reclaim,
     * {@code destroying} while the VM is reclaimed in the background.
     */
    public SandboxStatus destroy(User user, String id) {
        SandboxRecord sandbox = get(user, id);
        Instant now = now();
        switch (sandbox.status()) {
            case DESTROYED, DESTROYING -> {
                return sandbox.status();
            }
            case FAILED -> {
                return states.transition(sandbox, SandboxStatus.DESTROYED, s -> s.withDestroyedAt(now)).status();
            }
            case CREATING -> {
                // The booting request sees the new state and reclaims its VM itself.
                return states.transition(sandbox, SandboxStatus.DESTROYING, s -> s.withDestroyedAt(now)).status();
            }
            default -> {
                SandboxRecord destroying = states.transition(sandbox, SandboxStatus.DESTROYING,
                        s -> s.withDestroyedAt(now));
                reclaimInBackground(destroying);
                return SandboxStatus.DESTROYING;
            }
        }
    }

    private void reclaimInBackground(SandboxRecord destroying) {
        background.register();
        Thread.ofVirtual().name("reclaim-" + destroying.id()).start(() -> {
            try {
                reclaim(destroying);
            } finally {
                background.arriveAndDeregister();
            }
        });
    }

    private void reclaim(SandboxRecord destroying) {
        try {
            Vm vm = host.unregister(destroying.id()).orElse(null);
            if (vm == null && host.problem().isEmpty()) {
                vm = host.vmm().attach(vmId(destroying.id())).orElse(null);
            }
            if (vm != null) {
                vm.destroy();
            }
            states.transition(destroying, SandboxStatus.DESTROYED);
            log.info("sandbox {} destroyed", destroying.id());
        } catch (IOException | RuntimeException e) {
            // Stays destroying: the next start retries the reclaim.
            log.error("reclaiming sandbox {} failed; it stays destroying", destroying.id(), e);
        }
    }

    private void destroyVm(String sandboxId, Vm vm) {
        try {
            vm.destroy();
        } catch (IOException e) {
            log.error("destroying the VM of sandbox {} failed", sandboxId, e);
        }
    }

    /**
     * At start: re-attach to the VMs that survived the last process, finish what it left half-done, and fail the
     * rows whose VM is gone.
     */
    public void reconcile() throws IOException {
        if (host.problem().isPresent()) {
            log.warn("no guest kit, not reconciling VMs: {}", host.problem().get());
            return;
        }
        Map<String, Vm> vms = new HashMap<>();
        for (Vm vm : host.vmm().attachAll()) {
            vms.put(vm.id(), vm);
        }
        for (SandboxRecord row : store.sandboxesIn(UNFINISHED)) {
            Vm vm = vms.remove(vmId(row.id()));
            switch (row.status()) {
                case CREATING -> {
                    if (vm != null) {
                        destroyVm(row.id(), vm);
                    }
                    states.transition(row, SandboxStatus.FAILED,
                            r -> r.withFailure("the control plane stopped while the sandbox was booting"));
                }
                case DESTROYING -> {
                    if (vm != null) {
                        destroyVm(row.id(), vm);
                    }
                    states.transition(row, SandboxStatus.DESTROYED);
                }
                case RUNNING -> {
                    if (vm != null && vm.isAlive()) {
                        host.register(row.id(), vm);
                    } else {
                        states.transition(row, SandboxStatus.FAILED, r -> r.withFailure("its VM is gone"));
                    }
                }
                default -> {
                    if (vm != null) {
                        host.register(row.id(), vm);
                    } else if (SandboxStateMachine.allowed(row.status(), SandboxStatus.ERROR)) {
                        states.transition(row, SandboxStatus.ERROR, r -> r.withFailure("its VM is gone"));
                    }
                }
            }
        }
        for (Vm orphan : vms.values()) {
            if (orphan.id().startsWith("sb-")) {
                log.warn("destroying VM {} that no live sandbox owns", orphan.id());
                destroyVm(orphan.id(), orphan);
            } else {
                orphan.close();
            }
        }
        log.info("reconciled: {} VMs attached", host.view().vmCount());
    }

    /** Lets background reclaims finish (bounded), then detaches from every VM, leaving them running. */
    public void shutdown() {
        try {
            background.awaitAdvanceInterruptibly(background.arrive(), 30, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (TimeoutException e) {
            log.warn("shutting down with sandbox reclaims still running; the next start finishes them");
        }
        host.detachAll();
    }

    /** The store keeps milliseconds; rows made here carry no more, so they equal what is read back. */
    private static Instant now() {
        return Instant.now().truncatedTo(java.time.temporal.ChronoUnit.MILLIS);
    }

    /** VM ids name directories: lower-case, no '_'. */
    public static String vmId(String sandboxId) {
        return sandboxId.toLowerCase(java.util.Locale.ROOT).replace('_', '-');
    }

    private static String hostname(SandboxRecord row, String vmId) {
        return row.name().matches("[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?") ? row.name() : vmId;
    }

    private static void checkAutoPause(Integer seconds) {
        if (seconds != null && (seconds < MIN_AUTO_PAUSE || seconds > MAX_AUTO_PAUSE)) {
            throw ApiException.badRequest("auto_pause_after_seconds must be between " + MIN_AUTO_PAUSE + " and "
                    + MAX_AUTO_PAUSE + ", not " + seconds);
        }
    }

    private static Map<String, String> checkEnvs(Map<String, String> envs) {
        if (envs == null) {
            return Map.of();
        }
        if (envs.size() > MAX_ENVS) {
            throw ApiException.badRequest("at most " + MAX_ENVS + " envs");
        }
        envs.forEach((name, value) -> {
            if (!name.matches("[A-Za-z_][A-Za-z0-9_]*")) {
                throw ApiException.badRequest("invalid env name '" + name + "'");
            }
            if (value == null || value.indexOf('\0') >= 0) {
                throw ApiException.badRequest("env " + name + " needs a string value without NUL");
            }
        });
        return envs;
    }
}
