package sh.createos.sandbox.server.remote;

import com.fasterxml.jackson.databind.ObjectMapper;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A host daemon's side of self-registration ({@code --control-plane URL[,URL…]}): every {@code interval} it tells
 * each control-plane replica ({@code PUT URL/v1/hosts/{id}}, the shared token) where it is dialled and its labels;
 * they share the row, so one that answers is enough, and a replica that is away does not silence the host. The
 * first heartbeat registers it; a control plane that is away is tried again on the next beat, and the VMs run on.
 */
public final class HostHeartbeat implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(HostHeartbeat.class);
    private static final ObjectMapper JSON = new ObjectMapper();

    private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
    private final List<HttpRequest> requests;
    private final ScheduledExecutorService timer = Executors.newSingleThreadScheduledExecutor(
            Thread.ofVirtual().name("heartbeat").factory());
    private final Map<URI, String> lastFailure = new java.util.concurrent.ConcurrentHashMap<>();

    private HostHeartbeat(List<HttpRequest> requests) {
        this.requests = requests;
    }

    /** Starts beating at once. */
    public static HostHeartbeat start(List<URI> controlPlanes, String hostId, String advertised,
            Map<String, String> labels, String token, Duration interval) throws java.io.IOException {
        byte[] body = JSON.writeValueAsBytes(Map.of("address", advertised, "labels", labels));
        List<HttpRequest> requests = new java.util.ArrayList<>();
        for (URI controlPlane : controlPlanes) {
            if (!"http".equals(controlPlane.getScheme()) && !"https".equals(controlPlane.getScheme())) {
                throw new IllegalArgumentException("--control-plane wants http:// or https:// URLs, not '"
                        + controlPlane + "'");
            }
            String base = controlPlane.toString().replaceAll("/+$", "");
            requests.add(HttpRequest.newBuilder(URI.create(base + "/v1/hosts/" + hostId))
                    .timeout(Duration.ofSeconds(5))
                    .header("Authorization", "Bearer " + token)
                    .header("Content-Type", "application/json")
                    .PUT(HttpRequest.BodyPublishers.ofByteArray(body))
                    .build());
        }
        if (requests.isEmpty()) {
            throw new IllegalArgumentException("--control-plane needs a URL");
        }
        HostHeartbeat heartbeat = new HostHeartbeat(List.copyOf(requests));
        heartbeat.timer.scheduleWithFixedDelay(heartbeat::beat, 0, interval.toMillis(), TimeUnit.MILLISECONDS);
        return heartbeat;
    }

    private void beat() {
        for (HttpRequest request : requests) {
            beat(request);
        }
    }

    private void beat(HttpRequest request) {
        String failure;
        try {
            HttpResponse<String> response = http.send(request, HttpResponse.BodyHandlers.ofString());
            failure = response.statusCode() / 100 == 2 ? null
                    : "HTTP " + response.statusCode() + ": " + response.body();
        } catch (java.io.IOException e) {
            failure = e.getClass().getSimpleName() + " " + e.getMessage();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return;
        }
        String last = failure == null ? lastFailure.remove(request.uri()) : lastFailure.put(request.uri(), failure);
        if (failure == null && last != null) {
            log.info("heartbeat to {} answered again", request.uri());
        } else if (failure != null && !failure.equals(last)) {
            log.warn("heartbeat to {} failed: {}", request.uri(), failure);
        }
    }

    @Override
    public void close() {
        timer.shutdownNow();
    }
}
