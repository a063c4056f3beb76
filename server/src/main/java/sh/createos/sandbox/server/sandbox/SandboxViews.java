package sh.createos.sandbox.server.sandbox;

import java.time.Instant;
import java.util.List;
import sh.createos.sandbox.model.SandboxView;
import sh.createos.sandbox.server.store.SandboxRecord;

/** Row → wire view. Env values never leave the server: only their names are shown. */
public final class SandboxViews {
    public static final String REGION = "local";

    private SandboxViews() {}

    public static SandboxView view(SandboxRecord s) {
        List<String> envNames = s.envs().keySet().stream().sorted().toList();
        return new SandboxView(s.id(), s.status(), s.ip(), s.vcpu(), s.memMib(), s.diskMib(), ts(s.createdAt()),
                s.ingressEnabled(),
                null, // no ingress proxy yet, so no public URL template to promise
                s.name(), ts(s.runningAt()), ts(s.destroyedAt()), s.spawnMs(), s.shape(), s.rootfs(), REGION,
                s.egress(), envNames.isEmpty() ? null : envNames, s.sshPubkeys().isEmpty() ? null : s.sshPubkeys(),
                s.createdBy(), null, ts(s.pausedAt()), ts(s.lastResumedAt()), s.forkedFrom(),
                s.autoPauseAfterSeconds());
    }

    private static String ts(Instant at) {
        return at == null ? null : at.toString();
    }
}
