package sh.createos.sandbox.server.ssh;

import java.time.Duration;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import sh.createos.sandbox.model.SandboxStatus;
import sh.createos.sandbox.server.http.ApiException;
import sh.createos.sandbox.server.lifecycle.ActivityTracker;
import sh.createos.sandbox.server.sandbox.SandboxService;
import sh.createos.sandbox.server.sandbox.SandboxService.RunningSandbox;
import sh.createos.sandbox.server.store.SandboxRecord;

/**
 * The running guest behind a login, each time a channel opens. A paused sandbox that has auto-pause set is resumed
 * (it was paused for being idle, or agreed to be, so use wakes it); a paused one without auto-pause was paused on
 * purpose and is refused with a message saying how to resume it. A pause or resume in progress is waited for.
 */
final class GuestAccess {
    private static final Logger log = LoggerFactory.getLogger(GuestAccess.class);
    private static final Duration SETTLE_WAIT = Duration.ofSeconds(90);
    private final SandboxService sandboxes;

    GuestAccess(SandboxService sandboxes) {
        this.sandboxes = sandboxes;
    }

    ActivityTracker activity() {
        return sandboxes.activity();
    }

    SandboxService sandboxes() {
        return sandboxes;
    }

    RunningSandbox running(SshLogin login) throws SshRefusal {
        long deadline = System.nanoTime() + SETTLE_WAIT.toNanos();
        while (true) {
            SandboxRecord row = current(login);
            switch (row.status()) {
                case RUNNING -> {
                    try {
                        return sandboxes.running(login.owner(), row.id());
                    } catch (ApiException changedMeanwhile) {
                        // paused or destroyed between our read and this call: decide again
                    }
                }
                case PAUSED -> {
                    if (row.autoPauseAfterSeconds() == null) {
                        throw new SshRefusal("sandbox " + row.id() + " is paused and has no auto-pause, so SSH does "
                                + "not resume it: resume it with POST /v1/sandboxes/" + row.id() + "/resume");
                    }
                    try {
                        log.info("sandbox {} resumes for an SSH connection (auto_pause_after_seconds {})", row.id(),
                                row.autoPauseAfterSeconds());
                        sandboxes.resume(login.owner(), row.id());
                    } catch (ApiException e) {
                        if (e.status() != 409) {
                            throw new SshRefusal("sandbox " + row.id() + " could not be resumed: " + e.getMessage());
                        }
                        // another connection or request resumed it first
                    }
                }
                case PAUSING, RESUMING, FORKING -> pause();
                default -> throw new SshRefusal("sandbox " + row.id() + " is " + row.status().wire());
            }
            if (System.nanoTime() > deadline) {
                throw new SshRefusal("sandbox " + login.sandboxId() + " did not settle within "
                        + SETTLE_WAIT.toSeconds() + " s (it is " + current(login).status().wire() + ")");
            }
        }
    }

    /** Whether the login's sandbox still runs; false once it is paused, destroyed or gone. */
    boolean isRunning(SshLogin login) {
        try {
            return sandboxes.get(login.owner(), login.sandboxId()).status() == SandboxStatus.RUNNING;
        } catch (ApiException gone) {
            return false;
        }
    }

    String describe(SshLogin login) {
        try {
            return "sandbox " + login.sandboxId() + " is " + sandboxes.get(login.owner(), login.sandboxId()).status().wire();
        } catch (ApiException gone) {
            return "sandbox " + login.sandboxId() + " is destroyed";
        }
    }

    private SandboxRecord current(SshLogin login) throws SshRefusal {
        try {
            return sandboxes.get(login.owner(), login.sandboxId());
        } catch (ApiException gone) {
            throw new SshRefusal("sandbox " + login.sandboxId() + " is destroyed");
        }
    }

    private static void pause() throws SshRefusal {
        try {
            Thread.sleep(200);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new SshRefusal("interrupted while waiting for the sandbox");
        }
    }
}
