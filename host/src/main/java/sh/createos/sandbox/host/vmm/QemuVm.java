package sh.createos.sandbox.host.vmm;

import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import sh.createos.sandbox.host.agent.AgentClient;
import sh.createos.sandbox.host.agent.AgentException;
import sh.createos.sandbox.host.agent.ExecRequest;
import sh.createos.sandbox.host.agent.ExecResult;
import sh.createos.sandbox.host.agent.ExecStartException;

/** A VM run by a detached qemu-system-x86_64 process, controlled over QMP, reached through its agent. */
final class QemuVm implements Vm {
    private static final Logger log = LoggerFactory.getLogger(QemuVm.class);
    /** How long QEMU gets to exit after QMP quit before it is killed. */
    private static final Duration QUIT_GRACE = Duration.ofSeconds(5);
    private static final Duration GROW_DEADLINE = Duration.ofSeconds(120);
    private static final Duration KILL_WAIT = Duration.ofSeconds(10);
    private static final long MIB = 1024 * 1024;

    private final VmDirectory dir;
    private final VmmProcess process;
    private final QmpClient qmp;
    private final AgentClient agent;
    private final DiskLayers layers;
    private volatile VmStart start;
    private volatile VmSpec spec;
    /** Set by a successful pause: the VMM is gone and this object is no longer usable. */
    private volatile boolean paused;

    QemuVm(VmSpec spec, VmDirectory dir, VmmProcess process, QmpClient qmp, AgentClient agent, VmStart start,
            DiskLayers layers) {
        this.spec = spec;
        this.start = start;
        this.layers = layers;
        this.dir = dir;
        this.process = process;
        this.qmp = qmp;
        this.agent = agent;
        qmp.onEvent(this::failAgentWhenItsPortCloses);
    }

    /**
     * A guest that closes the agent's port (the agent died, its device went away) leaves the host's socket open and
     * silent; QEMU says so in VSERPORT_CHANGE, and every call waiting on the agent fails then, not at its deadline.
     */
    private void failAgentWhenItsPortCloses(QmpEvent event) {
        if ("VSERPORT_CHANGE".equals(event.name())
                && QemuCommandLine.AGENT_PORT_ID.equals(event.data().path("id").asText())
                && !event.data().path("open").asBoolean(true)) {
            log.warn("VM {}: the guest closed the agent's port; failing the calls waiting on the agent", id());
            agent.lost("the guest of VM " + id() + " closed the agent's port (the agent exited or its device went away)");
        }
    }

    @Override
    public String id() {
        return spec.id();
    }

    @Override
    public VmSpec spec() {
        return spec;
    }

    @Override
    public long pid() {
        return process.pid();
    }

    @Override
    public Path dir() {
        return dir.path();
    }

    @Override
    public AgentClient agent() {
        return agent;
    }

    @Override
    public boolean isAlive() {
        return process.isRunning();
    }

    @Override
    public void onExit(java.util.function.Consumer<String> reason) {
        qmp.onEvent(event -> {
            if ("SHUTDOWN".equals(event.name())) {
                reason.accept("QEMU reported SHUTDOWN (" + event.data().path("reason").asText("unknown") + ")");
            }
        });
        qmp.onClose(() -> reason.accept("its QMP socket closed"));
    }

    @Override
    public VmStart start() {
        return start;
    }

    /** Records how the start ended up, when steps after the restore (disk growth) belong to it. */
    QemuVm withStart(VmStart start) {
        this.start = start;
        return this;
    }

    VmDirectory directory() {
        return dir;
    }

    QmpClient qmp() {
        return qmp;
    }

    VmmProcess process() {
        return process;
    }

    @Override
    public synchronized PausedVm pause() throws IOException {
        checkNotPaused();
        if (!VmOperations.begin(dir.path())) {
            throw new IllegalStateException("VM " + id() + " is busy with another pause, resume or recovery");
        }
        try {
            PausedVm result = VmPause.pause(this, layers);
            paused = true;
            return result;
        } finally {
            VmOperations.end(dir.path());
        }
    }

    private void checkNotPaused() {
        if (paused) {
            throw new IllegalStateException("VM " + id() + " is paused: resume it through Vmm.resume");
        }
    }

    @Override
    public synchronized void resizeDisk(int newDiskMib, AgentClient through) throws IOException {
        checkNotPaused();
        VmSpec current = spec;
        if (newDiskMib < current.diskMib()) {
            throw new IllegalArgumentException("VM " + id() + ": cannot shrink the disk from " + current.diskMib()
                    + " MiB to " + newDiskMib + " MiB");
        }
        if (newDiskMib == current.diskMib()) {
            return;
        }
        qmp.execute("block_resize", Map.of("device", QemuCommandLine.ROOT_DRIVE, "size", newDiskMib * MIB));
        VmSpec resized = current.withDiskMib(newDiskMib);
        dir.writeSpec(resized);
        spec = resized;
        // With a deadline: this once waited forever for an agent that had gone (issue 18).
        try {
            through.growRootFilesystem(newDiskMib * MIB, GROW_DEADLINE);
        } catch (AgentException e) {
            if (!"unknown_op".equals(e.code())) {
                throw new IOException("VM " + id() + ": the disk is now " + newDiskMib + " MiB but growing its"
                        + " filesystem failed: " + e.getMessage(), e);
            }
            growWithResize2fs(newDiskMib, through); // a snapshot's agent from before grow_fs
        }
    }

    private void growWithResize2fs(int newDiskMib, AgentClient through) throws IOException {
        ExecResult grown;
        try {
            grown = through.run(ExecRequest.of("resize2fs", "/dev/vda"), GROW_DEADLINE);
        } catch (ExecStartException e) {
            throw new FilesystemNotGrownException("VM " + id() + ": the disk is now " + newDiskMib + " MiB but its"
                    + " image has no resize2fs to grow the filesystem: " + e.getMessage(), e);
        }
        if (grown.exitCode() != 0) {
            throw new IOException("VM " + id() + ": the disk is now " + newDiskMib + " MiB but `resize2fs /dev/vda` in"
                    + " the guest failed with exit code " + grown.exitCode() + ": " + grown.stderr().strip());
        }
    }

    /**
     * Not under the VM's lock, which a resize or pause waiting on a hung agent or QEMU may hold: closing the agent
     * and QMP first fails those waits at once, and a VMM that does not quit within {@link #QUIT_GRACE} is killed.
     */
    @Override
    public void destroy() throws IOException {
        checkNotPaused();
        agent.close();
        boolean quitting;
        try {
            qmp.execute("quit", Map.of(), QUIT_GRACE);
            quitting = true;
        } catch (IOException e) {
            log.debug("VM {}: QMP quit failed ({}), killing pid {}", id(), e.getMessage(), pid());
            quitting = false;
        }
        qmp.close();
        if (!quitting || !process.awaitExit(QUIT_GRACE)) {
            process.kill();
            if (!process.awaitExit(KILL_WAIT)) {
                throw new IOException("VM " + id() + ": qemu pid " + pid() + " survived SIGKILL; "
                        + dir.path() + " is left in place");
            }
        }
        dir.delete(TestSeam.VM_DESTROY_MIDWAY);
        layers.collectGarbage();
        log.info("VM {} destroyed", id());
    }

    @Override
    public void close() {
        agent.close();
        qmp.close();
    }

    @Override
    public String toString() {
        return "QemuVm[" + id() + ", pid " + pid() + "]";
    }
}
