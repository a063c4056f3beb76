package sh.createos.sandbox.server.sandbox;

import java.time.Instant;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.function.Function;
import sh.createos.sandbox.model.SandboxStatus;
import sh.createos.sandbox.model.SandboxView;
import sh.createos.sandbox.server.ingress.IngressUrls;
import sh.createos.sandbox.server.store.SandboxRecord;

/** Row → wire view. Env values never leave the server: only their names are shown. */
public final class SandboxViews {
    public static final String REGION = "local";

    private final IngressUrls ingress;
    private final Function<Collection<String>, Map<String, Long>> ingressBytes;

    /**
     * @param ingress      the public URLs, or null when no ingress listener runs (then no template is promised)
     * @param ingressBytes bytes each of some sandboxes received so far, for those the host counts
     */
    public SandboxViews(IngressUrls ingress, Function<Collection<String>, Map<String, Long>> ingressBytes) {
        this.ingress = ingress;
        this.ingressBytes = ingressBytes;
    }

    /** The view of one sandbox with its traffic so far (GET, by-ip). */
    public SandboxView detail(SandboxRecord s) {
        return withIngressBytes(view(s), ingressBytes.apply(List.of(s.id())).get(s.id()));
    }

    /** A page of views with their traffic, read from the host once for the whole page. */
    public List<SandboxView> list(List<SandboxRecord> rows) {
        Map<String, Long> bytes = ingressBytes.apply(rows.stream().map(SandboxRecord::id).toList());
        return rows.stream().map(s -> withIngressBytes(view(s), bytes.get(s.id()))).toList();
    }

    public SandboxView view(SandboxRecord s) {
        List<String> envNames = s.envs().keySet().stream().sorted().toList();
        return new SandboxView(s.id(), s.status(), s.ip(), s.vcpu(), s.memMib(), s.diskMib(), ts(s.createdAt()),
                s.ingressEnabled(), ingressUrlTemplate(s),
                s.name(), ts(s.runningAt()), ts(s.destroyedAt()), s.spawnMs(), s.shape(), s.rootfs(), REGION,
                s.egress(), envNames.isEmpty() ? null : envNames, s.sshPubkeys().isEmpty() ? null : s.sshPubkeys(),
                s.createdBy(), null, ts(s.pausedAt()), ts(s.lastResumedAt()), s.forkedFrom(),
                s.autoPauseAfterSeconds());
    }

    private static SandboxView withIngressBytes(SandboxView v, Long bytes) {
        return new SandboxView(v.id(), v.status(), v.ip(), v.vcpu(), v.memMib(), v.diskMib(), v.createdAt(),
                v.ingressEnabled(), v.ingressUrlTemplate(), v.name(), v.runningAt(), v.destroyedAt(), v.spawnMs(),
                v.shape(), v.rootfs(), v.region(), v.egress(), v.envs(), v.sshPubkeys(), v.createdBy(), bytes,
                v.pausedAt(), v.lastResumedAt(), v.forkedFrom(), v.autoPauseAfterSeconds());
    }

    /** Present iff ingress is enabled and served; a destroyed sandbox's name is gone. */
    private String ingressUrlTemplate(SandboxRecord s) {
        boolean gone = s.status() == SandboxStatus.DESTROYING || s.status() == SandboxStatus.DESTROYED;
        return ingress != null && s.ingressEnabled() && !gone ? ingress.template(s.id()) : null;
    }

    private static String ts(Instant at) {
        return at == null ? null : at.toString();
    }
}
