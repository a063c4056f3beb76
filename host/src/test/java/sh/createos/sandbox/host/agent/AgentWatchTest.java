package sh.createos.sandbox.host.agent;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@link AgentClient#watch} against the real Go agent on this host ({@code serve --self-listen}, standing in for the
 * guest's 127.0.0.1:1029): self-signals posted over HTTP reach the listener, also those posted while nobody watched.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class AgentWatchTest {
    private static final HttpClient HTTP = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();

    @TempDir
    static Path agentDir;

    private static AgentProcess agent;
    private static String selfUrl;

    @BeforeAll
    static void startAgent() throws IOException {
        int port;
        try (ServerSocket free = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            port = free.getLocalPort();
        }
        agent = AgentProcess.listen(agentDir, "--self-listen", "127.0.0.1:" + port);
        selfUrl = "http://127.0.0.1:" + port + "/self/";
        awaitListening(port);
    }

    /** The agent process binds its self-signal port a moment after it starts: the first post must not race it. */
    private static void awaitListening(int port) throws IOException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (true) {
            try (java.net.Socket probe = new java.net.Socket(InetAddress.getLoopbackAddress(), port)) {
                return;
            } catch (IOException notYet) {
                if (System.nanoTime() > deadline) {
                    throw new IOException("the agent did not listen on 127.0.0.1:" + port + " within 30 s", notYet);
                }
                try {
                    Thread.sleep(20);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    throw new java.io.InterruptedIOException("waiting for the agent's self-signal port");
                }
            }
        }
    }

    @AfterAll
    static void stopAgent() throws InterruptedException {
        agent.close();
    }

    private static int post(String action, String reason) throws Exception {
        String query = reason == null ? "" : "?reason=" + URLEncoder.encode(reason, StandardCharsets.UTF_8);
        HttpRequest request = HttpRequest.newBuilder(URI.create(selfUrl + action + query))
                .POST(HttpRequest.BodyPublishers.noBody()).build();
        return HTTP.send(request, HttpResponse.BodyHandlers.discarding()).statusCode();
    }

    @Test
    void selfSignalsReachTheWatcherInOrderIncludingThoseQueuedBeforeItWatched() throws Exception {
        assertThat(post("pause", "queued while nobody watched")).isEqualTo(202);
        LinkedBlockingQueue<SelfSignal> received = new LinkedBlockingQueue<>();
        try (AgentClient client = agent.connect(); SelfSignalWatch watch = client.watch(received::add)) {
            assertThat(received.poll(10, TimeUnit.SECONDS)).isEqualTo(new SelfSignal("pause", "queued while nobody watched"));

            assertThat(post("delete", "x".repeat(300))).isEqualTo(202);
            assertThat(post("pause", null)).isEqualTo(202);

            assertThat(received.poll(10, TimeUnit.SECONDS)).isEqualTo(new SelfSignal("delete", "x".repeat(128)));
            assertThat(received.poll(10, TimeUnit.SECONDS)).isEqualTo(new SelfSignal("pause", ""));
            assertThat(watch.ended()).isNotDone();
        }
    }

    @Test
    void aClosedWatchLeavesLaterSignalsForTheNextAndAnEndedConnectionEndsTheWatch() throws Exception {
        LinkedBlockingQueue<SelfSignal> first = new LinkedBlockingQueue<>();
        AgentClient client = agent.connect();
        SelfSignalWatch watch = client.watch(first::add);
        watch.close();
        watch.ended().get(10, TimeUnit.SECONDS);

        assertThat(post("delete", "after the close")).isEqualTo(202);
        assertThat(first.poll(500, TimeUnit.MILLISECONDS)).isNull();

        LinkedBlockingQueue<SelfSignal> second = new LinkedBlockingQueue<>();
        SelfSignalWatch next = client.watch(second::add);
        assertThat(second.poll(10, TimeUnit.SECONDS)).isEqualTo(new SelfSignal("delete", "after the close"));
        client.close();
        assertThat(next.ended()).failsWithin(10, TimeUnit.SECONDS);
    }

    @Test
    void otherRequestsAreRefusedAndQueueNothing() throws Exception {
        HttpRequest get = HttpRequest.newBuilder(URI.create(selfUrl + "pause")).GET().build();
        assertThat(HTTP.send(get, HttpResponse.BodyHandlers.discarding()).statusCode()).isEqualTo(405);
        assertThat(post("reboot", null)).isEqualTo(404);
        assertThat(post("pause", "the only one")).isEqualTo(202);

        LinkedBlockingQueue<SelfSignal> received = new LinkedBlockingQueue<>();
        try (AgentClient client = agent.connect(); SelfSignalWatch ignored = client.watch(received::add)) {
            assertThat(received.poll(10, TimeUnit.SECONDS)).isEqualTo(new SelfSignal("pause", "the only one"));
            assertThat(received.poll(500, TimeUnit.MILLISECONDS)).isNull();
        }
    }
}
