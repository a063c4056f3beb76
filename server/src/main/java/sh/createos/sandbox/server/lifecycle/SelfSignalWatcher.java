package sh.createos.sandbox.server.lifecycle;

import java.io.IOException;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import sh.createos.sandbox.host.agent.SelfSignal;
import sh.createos.sandbox.host.agent.SelfSignalWatch;
import sh.createos.sandbox.host.vmm.Vm;
import sh.createos.sandbox.server.LogText;

/**
 * Keeps an agent {@code watch} stream open on every running VM the server holds, and turns a guest's
 * {@code POST 127.0.0.1:1029/self/{pause,delete}} (spec §13) into the same pause or destroy the API does.
 */
public final class SelfSignalWatcher implements RunningVmListener {
    private static final Logger log = LoggerFactory.getLogger(SelfSignalWatcher.class);

    /** What a self-signal does; the same service paths as the API's pause and DELETE. */
    public interface Actions {
        void selfPause(String sandboxId, String reason);

        void selfDelete(String sandboxId, String reason);
    }

    private final Actions actions;
    private final Map<String, SelfSignalWatch> watches = new ConcurrentHashMap<>();

    public SelfSignalWatcher(Actions actions) {
        this.actions = actions;
    }

    @Override
    public void held(String sandboxId, Vm vm) {
        try {
            SelfSignalWatch watch = vm.agent().watch(signal -> act(sandboxId, signal));
            SelfSignalWatch previous = watches.put(sandboxId, watch);
            if (previous != null) {
                previous.close();
            }
        } catch (IOException e) {
            // Signals stay queued in the agent; the next hold (a restart, a resume) delivers them.
            log.warn("cannot watch self-signals of sandbox {}: {}", sandboxId, e.getMessage());
        }
    }

    @Override
    public void released(String sandboxId) {
        SelfSignalWatch watch = watches.remove(sandboxId);
        if (watch != null) {
            watch.close();
        }
    }

    /** On its own thread: a pause ends this very watch stream, and the guest must not wait for it either. */
    private void act(String sandboxId, SelfSignal signal) {
        log.info("sandbox {} asked from inside to {} (reason: {})", sandboxId, LogText.quote(signal.action()),
                LogText.quote(signal.reason()));
        Thread.ofVirtual().name("self-" + signal.action() + "-" + sandboxId).start(() -> {
            try {
                switch (signal.action()) {
                    case "pause" -> actions.selfPause(sandboxId, signal.reason());
                    case "delete" -> actions.selfDelete(sandboxId, signal.reason());
                    default -> log.warn("sandbox {}: unknown self-signal {} ignored", sandboxId,
                            LogText.quote(signal.action()));
                }
            } catch (RuntimeException e) {
                log.warn("self-{} of sandbox {} failed: {}", LogText.quote(signal.action()), sandboxId, e.getMessage());
            }
        });
    }
}
