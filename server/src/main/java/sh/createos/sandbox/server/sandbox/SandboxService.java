package sh.createos.sandbox.server.sandbox;

import java.io.IOException;
import java.time.Duration;
import java.time.Instant;
import java.util.EnumSet;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Phaser;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import sh.createos.sandbox.host.agent.AgentClient;
import sh.createos.sandbox.host.vmm.Vm;
import sh.createos.sandbox.host.vmm.VmSpec;
import sh.createos.sandbox.model.CreateSandboxRequest;
import sh.createos.sandbox.model.ForkSandboxRequest;
import sh.createos.sandbox.model.PatchSandboxRequest;
import sh.createos.sandbox.model.SandboxStatus;
import sh.createos.sandbox.server.http.ApiException;
import sh.createos.sandbox.server.lifecycle.ActivityTracker;
import sh.createos.sandbox.server.lifecycle.AutoPauseLimits;
import sh.createos.sandbox.server.lifecycle.IdleAutoPause;
import sh.createos.sandbox.server.lifecycle.SelfSignalWatcher;
import sh.createos.sandbox.server.network.SandboxLeases;
import sh.createos.sandbox.server.store.NetworkRecord;
import sh.createos.sandbox.server.store.SandboxRecord;
import sh.createos.sandbox.server.store.Store;
import sh.createos.sandbox.server.store.User;

/**
 * The lifecycle of single sandboxes: create, read, settings, destroy; pause, resume and fork through
 * {@link SandboxSnapshots}; reconciliation at start by {@link Reconciler}.
 */
public final class SandboxService implements SelfSignalWatcher.Actions, IdleAutoPause.Pauser {
    private static final Logger log = LoggerFactory.getLogger(SandboxService.class);
    public static final long DEFAULT_BANDWIDTH_QUOTA = 10L * 1024 * 1024 * 1024;

    private final Store store;
    private final LocalHost host;
    private final SandboxStateMachine states;
    private final AutoPauseLimits autoPauseLimits;
    private final ActivityTracker activity = new ActivityTracker();
    private final SandboxLocks locks = new SandboxLocks();
    private final SandboxSnapshots snapshots;
    private final SandboxLeases leases;
    private final Map<String, Object> admissionLocks = new ConcurrentHashMap<>();
    /** Background reclaims still running, so shutdown can let them finish. */
    private final Phaser background = new Phaser(1);

    public SandboxService(Store store, LocalHost host, AutoPauseLimits autoPauseLimits) {
        this.store = store;
        this.host = host;
        this.states = new SandboxStateMachine(store);
        this.autoPauseLimits = autoPauseLimits;
        this.leases = new SandboxLeases(store, host);
        this.snapshots = new SandboxSnapshots(store, host, states, activity, locks, leases, this::liveVm);
    }

    /** Where API calls, ingress and tunnels report activity, for idle auto-pause. */
    public ActivityTracker activity() {
        return activity;
    }

    /** Creates and boots a sandbox; returns once its agent answered and the row says {@code running}. */
    public SandboxRecord create(User user, CreateSandboxRequest req) {
        autoPauseLimits.check(req.autoPauseAfterSeconds());
        List<NetworkRecord> networks = leases.checkNetworks(user, req.networks());
        SandboxRecord row = admit(user, CreateRequests.newRow(user, req, host.images(), now()));
        String vmId = vmId(row.id());
        String ip;
        Vm vm;
        try {
            ip = leases.acquire(row, networks);
            vm = host.vmm().boot(new VmSpec(vmId, row.rootfs(), row.vcpu(), row.memMib(), row.diskMib(),
                    hostname(row, vmId)));
        } catch (IOException | RuntimeException e) {
            log.warn("sandbox {} failed to boot: {}", row.id(), e.getMessage());
            leases.release(row.id());
            failCreate(row, "boot failed: " + e.getMessage());
            throw new ApiException(500, "BOOT_FAILED", "sandbox " + row.id() + " failed to boot: " + e.getMessage());
        }
        long spawnMs = vm.start().took().toMillis();
        // Held before the row says running, so no request finds a running row without its VM.
        host.register(row.id(), vm);
        try {
            return states.transition(row, SandboxStatus.RUNNING, r -> r.withRunning(ip, LocalHost.ID, spawnMs, now()));
        } catch (ApiException destroyedMeanwhile) {
            // DELETE arrived while booting: the row is destroying, so finish that here.
            host.unregister(row.id());
            destroyVm(row.id(), vm);
            leases.release(row.id());
            store.sandbox(row.id()).filter(r -> r.status() == SandboxStatus.DESTROYING)
                    .ifPresent(r -> states.transition(r, SandboxStatus.DESTROYED));
            throw ApiException.conflict("INVALID_STATE", "sandbox " + row.id() + " was destroyed while booting");
        }
    }

    /** Quota and capacity checks and the insert of a new ({@code creating} or {@code forking}) row, atomically per user. */
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

    /**
     * The running sandbox's VM, for exec and file calls (which count as activity for idle auto-pause).
     *
     * @throws ApiException 404 unknown, 409 not running
     */
    public RunningSandbox running(User user, String id) {
        SandboxRecord sandbox = get(user, id);
        SandboxStateMachine.requireStatus(sandbox, SandboxStatus.RUNNING);
        Vm vm = liveVm(sandbox);
        activity.touch(id);
        return new RunningSandbox(sandbox, vm);
    }

    /** The running sandbox of this id, for a feature's background work: no owner check, no activity. */
    public java.util.Optional<RunningSandbox> runningNow(String id) {
        return store.sandbox(id).filter(s -> s.status() == SandboxStatus.RUNNING)
                .flatMap(s -> host.vm(s.id()).filter(Vm::isAlive).map(vm -> new RunningSandbox(s, vm)));
    }

    private Vm liveVm(SandboxRecord sandbox) {
        Vm vm = host.vm(sandbox.id()).filter(Vm::isAlive).orElse(null);
        if (vm == null) {
            // The VMM died under us: say so in the row instead of failing every call with a 500.
            host.unregister(sandbox.id()).ifPresent(Vm::close);
            SandboxRecord broken = states.transition(sandbox, SandboxStatus.ERROR,
                    s -> s.withFailure("its VM exited unexpectedly"));
            throw ApiException.conflict("INVALID_STATE", "sandbox " + sandbox.id() + " is " + broken.status().wire()
                    + ": its VM exited unexpectedly");
        }
        return vm;
    }

    /** A running sandbox's row and VM. Features reach the guest through {@link #agent()} only. */
    public record RunningSandbox(SandboxRecord sandbox, Vm vm) {
        /** The connected agent of the sandbox's VM: exec, files, dial. */
        public AgentClient agent() {
            return vm.agent();
        }
    }

    /**
     * A call to the agent broke off: when a pause or destroy of the sandbox ended it, a 409 that says so;
     * otherwise the I/O error itself.
     */
    public Exception explainLostAgent(String sandboxId, IOException e) {
        SandboxStatus now = store.sandbox(sandboxId).map(SandboxRecord::status).orElse(SandboxStatus.DESTROYED);
        if (now == SandboxStatus.RUNNING) {
            return e;
        }
        return ApiException.conflict("INVALID_STATE", "sandbox " + sandboxId + " became " + now.wire()
                + " while the call ran, which ended it");
    }

    public SandboxRecord pause(User user, String id) {
        return snapshots.pause(get(user, id), "requested through the API");
    }

    public SandboxRecord resume(User user, String id) {
        return snapshots.resume(get(user, id));
    }

    /** The child's row: forking is synchronous, so it is running (or paused with {@code start_paused}). */
    public SandboxRecord fork(User user, String id, ForkSandboxRequest req) {
        SandboxRecord source = get(user, id);
        SandboxRecord child = ForkRequests.childRow(user, source, req, now());
        return snapshots.fork(source, req, child, row -> admit(user, row));
    }

    @Override
    public void pauseIdle(SandboxRecord sandbox, Duration idleFor) {
        snapshots.pause(sandbox, "idle for " + idleFor.toSeconds() + " s (auto_pause_after_seconds "
                + sandbox.autoPauseAfterSeconds() + ")");
    }

    @Override
    public void selfPause(String sandboxId, String reason) {
        store.sandbox(sandboxId).ifPresent(s -> snapshots.pause(s, "self-signal from the guest: " + reason));
    }

    @Override
    public void selfDelete(String sandboxId, String reason) {
        store.sandbox(sandboxId).ifPresent(s -> {
            log.info("sandbox {} destroys itself (reason: '{}')", sandboxId, reason);
            destroy(s);
        });
    }

    public SandboxRecord patch(User user, String id, PatchSandboxRequest req) {
        SandboxRecord sandbox = get(user, id);
        autoPauseLimits.check(req.autoPauseAfterSeconds());
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
        if (diskMib > CreateRequests.MAX_DISK_MIB) {
            throw new ApiException(400, "DISK_TOO_LARGE", "disk_mib " + diskMib + " exceeds the maximum of "
                    + CreateRequests.MAX_DISK_MIB + " MiB");
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
        return destroy(get(user, id));
    }

    /** A pause or resume may change the row between our read and our write: then read again and decide again. */
    private SandboxStatus destroy(SandboxRecord sandbox) {
        for (int attempt = 1; ; attempt++) {
            try {
                return startDestroy(sandbox);
            } catch (ApiException changedMeanwhile) {
                if (attempt == 3 || changedMeanwhile.status() != 409) {
                    throw changedMeanwhile;
                }
                sandbox = store.sandbox(sandbox.id()).orElseThrow(() -> changedMeanwhile);
            }
        }
    }

    private SandboxStatus startDestroy(SandboxRecord sandbox) {
        Instant now = now();
        switch (sandbox.status()) {
            case DESTROYED, DESTROYING -> {
                return sandbox.status();
            }
            case FAILED -> {
                return states.transition(sandbox, SandboxStatus.DESTROYED, s -> s.withDestroyedAt(now)).status();
            }
            case CREATING, PAUSING, RESUMING, FORKING -> {
                // The request that is acting sees the new state and reclaims what it made itself.
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

    /** Its VM or its snapshot (a fork reading that snapshot finishes first), then the row. */
    private void reclaim(SandboxRecord destroying) {
        var lock = locks.of(destroying.id());
        lock.lock();
        try {
            Vm vm = host.unregister(destroying.id()).orElse(null);
            if (vm == null && host.problem().isEmpty()) {
                vm = host.vmm().attach(vmId(destroying.id())).orElse(null);
            }
            if (vm != null) {
                vm.destroy();
            }
            if (host.problem().isEmpty()) {
                host.vmm().findPaused(vmId(destroying.id())).ifPresent(SandboxSnapshots::destroy);
            }
            leases.release(destroying.id());
            activity.forget(destroying.id());
            states.transition(destroying, SandboxStatus.DESTROYED);
            log.info("sandbox {} destroyed", destroying.id());
        } catch (IOException | RuntimeException e) {
            // Stays destroying: the next start retries the reclaim.
            log.error("reclaiming sandbox {} failed; it stays destroying", destroying.id(), e);
        } finally {
            lock.unlock();
        }
        locks.forget(destroying.id());
    }

    static void destroyVm(String sandboxId, Vm vm) {
        try {
            vm.destroy();
        } catch (IOException e) {
            log.error("destroying the VM of sandbox {} failed", sandboxId, e);
        }
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

    /** At start: see {@link Reconciler}. */
    public void reconcile() throws IOException {
        new Reconciler(store, host, states).run();
        // Rows that may still have a VM or a snapshot keep their lease; a reclaim releases it when it is done.
        leases.reconcile(store.sandboxesIn(EnumSet.complementOf(EnumSet.of(SandboxStatus.DESTROYED,
                SandboxStatus.FAILED))).stream().map(SandboxRecord::id).toList());
    }

    /** The store keeps milliseconds; rows made here carry no more, so they equal what is read back. */
    static Instant now() {
        return Instant.now().truncatedTo(java.time.temporal.ChronoUnit.MILLIS);
    }

    /** VM ids name directories: lower-case, no '_'. */
    public static String vmId(String sandboxId) {
        return sandboxId.toLowerCase(java.util.Locale.ROOT).replace('_', '-');
    }

    static String hostname(SandboxRecord row, String vmId) {
        return row.name().matches("[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?") ? row.name() : vmId;
    }
}
