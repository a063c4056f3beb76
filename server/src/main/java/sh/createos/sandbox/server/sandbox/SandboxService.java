package sh.createos.sandbox.server.sandbox;

import java.io.IOException;
import java.time.Duration;
import java.time.Instant;
import java.util.EnumSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.Phaser;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import sh.createos.sandbox.host.agent.AgentClient;
import sh.createos.sandbox.model.CreateSandboxRequest;
import sh.createos.sandbox.model.ErrorCode;
import sh.createos.sandbox.model.ForkSandboxRequest;
import sh.createos.sandbox.model.PatchSandboxRequest;
import sh.createos.sandbox.model.SandboxStatus;
import sh.createos.sandbox.server.DomainException;
import sh.createos.sandbox.server.LogText;
import sh.createos.sandbox.server.Ulid;
import sh.createos.sandbox.server.host.Host;
import sh.createos.sandbox.server.host.HostEvent;
import sh.createos.sandbox.server.host.Started;
import sh.createos.sandbox.server.host.VmShape;
import sh.createos.sandbox.server.lifecycle.ActivityTracker;
import sh.createos.sandbox.server.lifecycle.AutoPauseLimits;
import sh.createos.sandbox.server.lifecycle.IdleAutoPause;
import sh.createos.sandbox.server.network.SandboxLeases;
import sh.createos.sandbox.server.store.NetworkRecord;
import sh.createos.sandbox.server.store.SandboxRecord;
import sh.createos.sandbox.server.store.Store;
import sh.createos.sandbox.server.store.User;

/**
 * The lifecycle of single sandboxes: create, read, settings, destroy; pause, resume and fork through
 * {@link SandboxSnapshots}; reconciliation at start by {@link Reconciler}; what the {@link Host} reports on its own
 * ({@link HostEvent}: a VM that exited, a self-signal).
 */
public final class SandboxService implements IdleAutoPause.Pauser {
    private static final Logger log = LoggerFactory.getLogger(SandboxService.class);
    public static final long DEFAULT_BANDWIDTH_QUOTA = 10L * 1024 * 1024 * 1024;

    private final Store store;
    private final Host host;
    private final SandboxStateMachine states;
    private final AutoPauseLimits autoPauseLimits;
    private final ActivityTracker activity = new ActivityTracker();
    private final SandboxLocks locks = new SandboxLocks();
    private final SandboxSnapshots snapshots;
    private final SandboxLeases leases;
    /** This control-plane replica, as the owner of the row claims it takes (reconcile, idle auto-pause). */
    private final String replicaId;
    private final RowClaims claims;
    /** Renews this replica's claims and sweeps rows a killed replica left in flight (see {@link #startSweeping}). */
    private java.util.concurrent.ScheduledExecutorService sweeper;
    /** Background reclaims still running, so shutdown can let them finish. */
    private final Phaser background = new Phaser(1);

    public SandboxService(Store store, Host host, AutoPauseLimits autoPauseLimits) {
        this(store, host, autoPauseLimits, "cp_" + Ulid.next());
    }

    /**
     * @param replicaId the owner of this replica's row claims; the same across restarts on one data directory, so
     *                  a server killed in the middle of an operation takes its own rows back at once when it starts
     *                  again (another replica's rows wait for their claim to lapse)
     */
    public SandboxService(Store store, Host host, AutoPauseLimits autoPauseLimits, String replicaId) {
        this.replicaId = replicaId;
        this.store = store;
        this.host = host;
        this.states = new SandboxStateMachine(store);
        this.autoPauseLimits = autoPauseLimits;
        this.leases = new SandboxLeases(store, host);
        this.claims = new RowClaims(store, replicaId);
        this.snapshots = new SandboxSnapshots(store, host, states, activity, locks, leases, this::requireLiveVm,
                claims);
        host.onEvent(this::onHostEvent);
    }

    /** Where API calls, ingress and tunnels report activity, for idle auto-pause. */
    public ActivityTracker activity() {
        return activity;
    }

    /** This replica's id, the owner of the row claims it takes. */
    public String replicaId() {
        return replicaId;
    }

    /**
     * Turns a create's {@code rootfs} that is not a catalog image (a user's template, by name or id) into the image
     * to boot and the env it brings; says what execs in its sandboxes default to.
     */
    public interface RootfsResolver {
        RootfsResolver CATALOG = new RootfsResolver() {};

        /** @return null when {@code rootfs} is not the user's template; @throws DomainException when it is unusable */
        default Resolved resolve(User user, String rootfs) {
            return null;
        }

        /** The default cwd and user of execs in a sandbox booted from {@code image}. */
        default ExecDefaults execDefaults(String image) {
            return ExecDefaults.NONE;
        }

        record Resolved(String image, Map<String, String> env) {}

        /** Null fields: the agent's defaults (the user's home directory, root). */
        record ExecDefaults(String cwd, String user) {
            public static final ExecDefaults NONE = new ExecDefaults(null, null);
        }
    }

    private volatile RootfsResolver rootfsResolver = RootfsResolver.CATALOG;

    public void resolveRootfsWith(RootfsResolver resolver) {
        this.rootfsResolver = resolver;
    }

    /** What an exec in {@code sandbox} runs with when the request does not say: its template's WORKDIR and USER. */
    public RootfsResolver.ExecDefaults execDefaults(SandboxRecord sandbox) {
        return rootfsResolver.execDefaults(sandbox.rootfs());
    }

    /** Creates and boots a sandbox; returns once its agent answered and the row says {@code running}. */
    public SandboxRecord create(User user, CreateSandboxRequest req) {
        autoPauseLimits.check(req.autoPauseAfterSeconds());
        List<NetworkRecord> networks = leases.checkNetworks(user, req.networks());
        List<String> images = host.images();
        if (req.rootfs() != null && !req.rootfs().isBlank() && !images.contains(req.rootfs())) {
            RootfsResolver.Resolved template = rootfsResolver.resolve(user, req.rootfs());
            if (template != null) {
                // The template's ENV under the create's own envs (which win).
                Map<String, String> envs = new java.util.LinkedHashMap<>(template.env());
                if (req.envs() != null) {
                    envs.putAll(req.envs());
                }
                req = new CreateSandboxRequest(req.shape(), template.image(), req.name(), req.networks(), req.diskMib(),
                        req.egress(), envs, req.sshPubkeys(), req.hostId(), req.nodeSelector(), req.ingressEnabled(),
                        req.disks(), req.region(), req.autoPauseAfterSeconds(), req.bandwidthQuotaBytes());
                images = new java.util.ArrayList<>(images);
                images.add(template.image());
            }
        }
        SandboxRecord asked = CreateRequests.newRow(user, req, images, host::owns, now());
        SandboxRecord row = admit(user, asked.withHostId(host.place(asked.id(), asked.memMib(), asked.hostId(),
                req.nodeSelector())));
        try (RowClaims.Hold claim = claims.hold(row.id())) {
            return boot(row, networks);
        }
    }

    /** The new row's lease and VM, then running; a failure fails the row with nothing left. */
    private SandboxRecord boot(SandboxRecord row, List<NetworkRecord> networks) {
        String ip;
        Started started;
        try {
            ip = leases.acquire(row, networks);
            started = host.create(row.id(), shape(row));
        } catch (IOException | RuntimeException e) {
            log.warn("sandbox {} failed to boot: {}", row.id(), e.getMessage());
            leases.release(row.id());
            failCreate(row, "boot failed: " + e.getMessage());
            throw new DomainException(ErrorCode.BOOT_FAILED, "sandbox " + row.id() + " failed to boot: "
                    + e.getMessage(), e);
        }
        // The host holds the VM before the row says running, so no request finds a running row without its VM.
        try {
            return states.transition(row, SandboxStatus.RUNNING, r -> r.withRunning(ip, host.hostOf(row.id()), started.tookMs(),
                    now()));
        } catch (DomainException destroyedMeanwhile) {
            // DELETE arrived while booting: the row is destroying, so finish that here.
            destroyVm(row.id());
            leases.release(row.id());
            store.sandbox(row.id()).filter(r -> r.status() == SandboxStatus.DESTROYING)
                    .ifPresent(r -> states.transition(r, SandboxStatus.DESTROYED));
            throw DomainException.invalidState("sandbox " + row.id() + " was destroyed while booting");
        }
    }

    static VmShape shape(SandboxRecord row) {
        return new VmShape(row.rootfs(), row.vcpu(), row.memMib(), row.diskMib(), hostname(row, vmId(row.id())));
    }

    /**
     * Capacity checks, then the insert of a new ({@code creating} or {@code forking}) row within the user's cap, which
     * the database enforces in one transaction (see {@link Store#insertSandboxWithin}).
     */
    private SandboxRecord admit(User user, SandboxRecord row) {
        // The cap first, so a user at it hears 403 whatever the hosts' state (the insert below enforces it again,
        // atomically, against concurrent creates).
        long live = store.countByStatus(user.id()).entrySet().stream()
                .filter(e -> e.getKey() != SandboxStatus.DESTROYED && e.getKey() != SandboxStatus.FAILED
                        && e.getKey() != SandboxStatus.DESTROYING)
                .mapToLong(Map.Entry::getValue).sum();
        if (live >= user.sandboxLimit()) {
            throw new DomainException(ErrorCode.SANDBOX_LIMIT, "sandbox limit reached: " + live + " of "
                    + user.sandboxLimit() + " live sandboxes; destroy one first");
        }
        DiskAdmission.check(host.diskSpace(), row.diskMib());
        host.problem().ifPresent(p -> {
            throw DomainException.unavailable("no host with capacity: " + p);
        });
        host.imageMib(row.rootfs()).ifPresent(imageMib -> {
            if (row.diskMib() < imageMib) {
                throw DomainException.invalid("disk_mib " + row.diskMib() + " is smaller than the image "
                        + row.rootfs() + " (" + imageMib + " MiB); ask for at least " + imageMib);
            }
        });
        if (!host.hasMemoryFor(row.memMib())) {
            throw DomainException.unavailable("no host with capacity: not enough free memory for "
                    + row.memMib() + " MiB");
        }
        if (!store.insertSandboxWithin(row, user.sandboxLimit())) {
            throw limitReached(user);
        }
        return row;
    }

    private static DomainException limitReached(User user) {
        return new DomainException(ErrorCode.SANDBOX_LIMIT, "sandbox limit reached: " + user.sandboxLimit()
                + " live sandboxes; destroy one first");
    }

    private void failCreate(SandboxRecord row, String reason) {
        try {
            states.transition(row, SandboxStatus.FAILED, r -> r.withFailure(reason));
        } catch (DomainException e) {
            // DELETE arrived meanwhile: there is no VM, so the sandbox is simply gone.
            store.sandbox(row.id()).filter(r -> r.status() == SandboxStatus.DESTROYING)
                    .ifPresent(r -> states.transition(r, SandboxStatus.DESTROYED));
        }
    }

    /** The caller's sandbox; someone else's is as unknown as a missing one. */
    public SandboxRecord get(User user, String id) {
        return store.sandbox(id).filter(s -> s.userId().equals(user.id()))
                .orElseThrow(() -> DomainException.notFound("sandbox " + id + " not found"));
    }

    /**
     * For the SSH gateway's key lookup, across every user: the sandbox with id {@code idOrName} or those named so,
     * that are not destroyed, destroying or failed, each with its owner. The gateway picks the one the offered key
     * opens, so a name never reveals another tenant's sandbox.
     */
    public List<Owned> liveByIdOrName(String idOrName) {
        EnumSet<SandboxStatus> gone = EnumSet.of(SandboxStatus.DESTROYED, SandboxStatus.DESTROYING, SandboxStatus.FAILED);
        List<SandboxRecord> rows = store.sandbox(idOrName).map(List::of).orElseGet(() ->
                store.sandboxesIn(EnumSet.complementOf(gone)).stream().filter(s -> s.name().equals(idOrName)).toList());
        return rows.stream().filter(s -> !gone.contains(s.status()))
                .flatMap(s -> store.user(s.userId()).map(u -> new Owned(u, s)).stream()).toList();
    }

    /** A sandbox row with the user who owns it. */
    public record Owned(User user, SandboxRecord sandbox) {}

    public SandboxRecord byIp(User user, String ip) {
        return store.sandboxByIp(user.id(), ip)
                .orElseThrow(() -> DomainException.notFound("no sandbox with IP " + ip));
    }

    /**
     * The running sandbox and its agent, for exec, file and dial calls (which count as activity for idle auto-pause).
     *
     * @throws DomainException NOT_FOUND unknown, INVALID_STATE not running
     */
    public RunningSandbox running(User user, String id) {
        SandboxRecord sandbox = get(user, id);
        SandboxStateMachine.requireStatus(sandbox, SandboxStatus.RUNNING);
        requireLiveVm(sandbox);
        activity.touch(id);
        return new RunningSandbox(sandbox, host.agent(id));
    }

    /** The running sandbox of this id, for a feature's background work: no owner check, no activity. */
    public java.util.Optional<RunningSandbox> runningNow(String id) {
        return store.sandbox(id).filter(s -> s.status() == SandboxStatus.RUNNING && host.isRunning(s.id()))
                .map(s -> new RunningSandbox(s, host.agent(s.id())));
    }

    /** A running row whose VM the host no longer holds is marked error (its exit event may still be on its way). */
    private void requireLiveVm(SandboxRecord sandbox) {
        if (!host.isRunning(sandbox.id())) {
            vmExited(sandbox.id(), "its VM exited unexpectedly");
            SandboxStatus now = store.sandbox(sandbox.id()).map(SandboxRecord::status).orElse(SandboxStatus.ERROR);
            throw DomainException.invalidState("sandbox " + sandbox.id() + " is " + now.wire()
                    + ": its VM exited unexpectedly");
        }
    }

    /** A running sandbox's row and its connected agent. Features reach the guest through {@link #agent()} only. */
    public record RunningSandbox(SandboxRecord sandbox, AgentClient agent) {}

    private void onHostEvent(HostEvent event) {
        switch (event) {
            case HostEvent.VmExited exited -> vmExited(exited.sandboxId(), exited.reason());
            case HostEvent.SelfSignalled signal -> selfSignal(signal);
            case HostEvent.QuotaReached quota -> log.info("sandbox {} spent its bandwidth quota", quota.sandboxId());
        }
    }

    /**
     * The VM of a running sandbox ended without a pause or destroy: the row becomes {@code error} with the reason and
     * the lease goes, at once. Rows in any other state are the business of the request acting on them.
     */
    void vmExited(String sandboxId, String reason) {
        var lock = locks.of(sandboxId);
        lock.lock();
        try {
            SandboxRecord row = store.sandbox(sandboxId).orElse(null);
            if (row == null || row.status() != SandboxStatus.RUNNING || host.isRunning(sandboxId)) {
                return;
            }
            store.inTransaction(() -> {
                states.transition(row, SandboxStatus.ERROR, r -> r.withFailure(reason));
                store.deleteMemberships(sandboxId);
            });
            log.warn("sandbox {} is error: {}", sandboxId, reason);
            activity.forget(sandboxId);
            leases.release(sandboxId);
        } catch (DomainException changedMeanwhile) {
            log.info("sandbox {}: VM exit noted after the row changed: {}", sandboxId, changedMeanwhile.getMessage());
        } finally {
            lock.unlock();
        }
    }

    private void selfSignal(HostEvent.SelfSignalled signal) {
        // The guest chooses action and reason: quoted and escaped, so it cannot forge log lines.
        log.info("sandbox {} asked from inside to {} (reason: {})", signal.sandboxId(), LogText.quote(signal.action()),
                LogText.quote(signal.reason()));
        switch (signal.action()) {
            case "pause" -> store.sandbox(signal.sandboxId()).ifPresent(s -> snapshots.pause(s,
                    "self-signal from the guest: " + signal.reason()));
            case "delete" -> store.sandbox(signal.sandboxId()).ifPresent(s -> {
                log.info("sandbox {} destroys itself (reason: {})", s.id(), LogText.quote(signal.reason()));
                destroy(s);
            });
            default -> log.warn("sandbox {}: unknown self-signal {} ignored", signal.sandboxId(),
                    LogText.quote(signal.action()));
        }
    }

    /**
     * The agent of a running sandbox for background readers (metrics sampling) that must not count as activity for
     * idle auto-pause, unlike {@link #running}; empty when its VM is not live here.
     */
    public Optional<AgentClient> agentQuietly(SandboxRecord sandbox) {
        return host.isRunning(sandbox.id()) ? Optional.of(host.agent(sandbox.id())) : Optional.empty();
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
        return DomainException.invalidState("sandbox " + sandboxId + " became " + now.wire()
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

    /**
     * Idle auto-pause: only a replica whose host holds the VM knows its activity, and of those only the one that
     * claims the row pauses it.
     */
    @Override
    public void pauseIdle(SandboxRecord sandbox, Duration idleFor) {
        if (sandbox.hostId() == null || !host.owns(sandbox.hostId()) || !host.isRunning(sandbox.id())) {
            return;
        }
        RowClaims.Hold claim = claims.tryHold(sandbox.id());
        if (claim == null) {
            return;
        }
        try (claim) {
            snapshots.pause(sandbox, "idle for " + idleFor.toSeconds() + " s (auto_pause_after_seconds "
                    + sandbox.autoPauseAfterSeconds() + ")");
        }
    }

    public SandboxRecord patch(User user, String id, PatchSandboxRequest req) {
        SandboxRecord sandbox = get(user, id);
        autoPauseLimits.check(req.autoPauseAfterSeconds());
        boolean disable = Boolean.TRUE.equals(req.disableAutoPause());
        if (disable && req.autoPauseAfterSeconds() != null) {
            throw DomainException.invalid("send either auto_pause_after_seconds or disable_auto_pause, not both");
        }
        boolean ingress = req.ingressEnabled() == null ? sandbox.ingressEnabled() : req.ingressEnabled();
        Integer autoPause = disable ? null
                : req.autoPauseAfterSeconds() != null ? req.autoPauseAfterSeconds() : sandbox.autoPauseAfterSeconds();
        return states.update(sandbox, SandboxStatus.RUNNING, s -> s.withSettings(ingress, autoPause));
    }

    public SandboxRecord resize(User user, String id, Integer diskMib) throws IOException {
        if (diskMib == null) {
            throw DomainException.invalid("'disk_mib' is required");
        }
        RunningSandbox running = running(user, id);
        int current = running.sandbox().diskMib();
        if (diskMib <= current) {
            throw DomainException.invalid("disk_mib must be larger than the current " + current + " MiB; disks only grow");
        }
        if (diskMib > CreateRequests.MAX_DISK_MIB) {
            throw new DomainException(ErrorCode.DISK_TOO_LARGE, "disk_mib " + diskMib + " exceeds the maximum of "
                    + CreateRequests.MAX_DISK_MIB + " MiB");
        }
        DiskAdmission.check(host.diskSpace(), diskMib - current);
        host.resize(running.sandbox().id(), diskMib);
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
            } catch (DomainException changedMeanwhile) {
                if (attempt == 3 || changedMeanwhile.errorCode() != ErrorCode.INVALID_STATE) {
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

    /** Its VM or its snapshot (a fork reading that snapshot finishes first), then the row and its memberships. */
    private void reclaim(SandboxRecord destroying) {
        var lock = locks.of(destroying.id());
        lock.lock();
        try (RowClaims.Hold claim = claims.hold(destroying.id())) {
            host.destroyVm(destroying.id());
            if (host.problem().isEmpty()) {
                host.destroySnapshot(destroying.id());
            }
            leases.release(destroying.id());
            activity.forget(destroying.id());
            store.inTransaction(() -> {
                store.deleteMemberships(destroying.id());
                states.transition(destroying, SandboxStatus.DESTROYED);
            });
            log.info("sandbox {} destroyed", destroying.id());
        } catch (IOException | RuntimeException e) {
            // Stays destroying: the next start retries the reclaim.
            log.error("reclaiming sandbox {} failed; it stays destroying", destroying.id(), e);
        } finally {
            lock.unlock();
        }
        locks.forget(destroying.id());
    }

    /** Ends the sandbox's VM; a failure is logged (the next start's reconcile removes what is left). */
    void destroyVm(String sandboxId) {
        try {
            host.destroyVm(sandboxId);
        } catch (IOException | RuntimeException e) {
            log.error("destroying the VM of sandbox {} failed", sandboxId, e);
        }
    }

    /** Lets background reclaims finish (bounded), then detaches from every VM, leaving them running. */
    public void shutdown() {
        if (sweeper != null) {
            sweeper.shutdownNow();
        }
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
        new Reconciler(store, host, states, claims).run();
        // Rows that may still have a VM or a snapshot keep their lease; a reclaim releases it when it is done.
        leases.reconcile(store.sandboxesIn(EnumSet.complementOf(EnumSet.of(SandboxStatus.DESTROYED,
                SandboxStatus.FAILED))).stream().map(SandboxRecord::id).toList());
    }

    /**
     * While serving: renews the claims of this replica's operations, and settles the rows another replica was
     * killed in the middle of (see {@link Reconciler#sweep}), each as soon as its claim lapses.
     */
    public void startSweeping() {
        sweeper = java.util.concurrent.Executors.newScheduledThreadPool(2, Thread.ofPlatform().daemon()
                .name("row-claims-", 0).factory());
        long renew = RowClaims.RENEW_EVERY.toMillis();
        sweeper.scheduleWithFixedDelay(() -> {
            try {
                claims.renew();
            } catch (RuntimeException e) {
                log.warn("renewing this replica's row claims failed: {}", e.getMessage());
            }
        }, renew, renew, java.util.concurrent.TimeUnit.MILLISECONDS);
        sweeper.scheduleWithFixedDelay(this::sweep, renew, renew, java.util.concurrent.TimeUnit.MILLISECONDS);
    }

    private void sweep() {
        try {
            for (String id : new Reconciler(store, host, states, claims).sweep()) {
                store.sandbox(id).filter(r -> r.status() == SandboxStatus.FAILED
                        || r.status() == SandboxStatus.DESTROYED).ifPresent(r -> leases.release(id));
            }
        } catch (RuntimeException e) {
            log.warn("sweeping rows left in flight failed: {}", e.getMessage());
        }
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
