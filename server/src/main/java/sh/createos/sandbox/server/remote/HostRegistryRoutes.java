package sh.createos.sandbox.server.remote;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.Map;
import sh.createos.sandbox.model.ErrorCode;
import sh.createos.sandbox.server.DomainException;
import sh.createos.sandbox.server.host.Host;
import sh.createos.sandbox.server.http.Router;

/**
 * {@code PUT /v1/hosts/{id}} with {@code {"address":"HOST:PORT","labels":{…}}}: a host daemon's registration and
 * heartbeat, authenticated by the shared host token ({@code Authorization: Bearer <token>}), not by an API key.
 */
public final class HostRegistryRoutes {
    private HostRegistryRoutes() {}

    /** The body of a heartbeat. */
    public record Heartbeat(String address, Map<String, String> labels) {}

    /** Registered always (the API describes one set of routes); 503 unless {@code host} takes registrations. */
    public static void register(Router router, Host host) {
        ControlPlaneHosts.Registration registration = host instanceof HostsOfHosts many
                ? many.registration().orElse(null) : null;
        byte[] expected = registration == null ? null
                : ("Bearer " + registration.token()).getBytes(StandardCharsets.UTF_8);
        router.put("/v1/hosts/{id}", false, ex -> {
            if (registration == null) {
                throw DomainException.unavailable("this control plane takes no host registrations (serve with "
                        + "--host-token-file FILE)");
            }
            String presented = ex.header("Authorization");
            if (presented == null || !MessageDigest.isEqual(expected, presented.getBytes(StandardCharsets.UTF_8))) {
                throw new DomainException(ErrorCode.UNAUTHORIZED, "a host heartbeat needs the shared host token");
            }
            Heartbeat heartbeat = ex.body(Heartbeat.class);
            registration.registry().heartbeat(ex.param("id"), heartbeat.address(), heartbeat.labels());
            ex.ok(Map.of("id", ex.param("id"), "status", "active"));
        });
    }
}
