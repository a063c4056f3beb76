import java.io.InputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.*;
import sh.createos.sandbox.sdk.*;

/**
 * The SDK quickstart: a program outside the project, compiled against the SDK jar (Java 17+). It reads
 * CREATEOS_SANDBOX_API_KEY and CREATEOS_SANDBOX_BASE_URL like any SDK user.
 *
 *   javac --release 17 -cp sdk.jar:model.jar:jackson-*.jar Quickstart.java
 *   java -cp .:sdk.jar:model.jar:jackson-*.jar Quickstart
 */
public class Quickstart {
    public static void main(String[] args) throws Exception {
        try (SandboxClient client = SandboxClient.fromEnv()) {
            Sandbox sandbox = client.createSandbox(CreateSandboxRequest.builder().shape("s-1vcpu-512mb").build());
            System.out.println("created " + sandbox.id() + " " + sandbox.status());
            try {
                ExecResult uname = sandbox.runCommand("uname", List.of("-r"));
                System.out.println("uname exit=" + uname.exitCode() + " kernel=" + uname.stdout().strip());

                try (ExecStream stream = sandbox.streamCommand("sh", List.of("-c", "for i in 1 2 3; do echo tick $i; done"))) {
                    for (ExecEvent event : stream) {
                        if (event instanceof ExecEvent.Stdout) {
                            System.out.print(((ExecEvent.Stdout) event).data());
                        } else if (event instanceof ExecEvent.Exit) {
                            System.out.println("stream exit=" + ((ExecEvent.Exit) event).exitCode());
                        }
                    }
                }

                sandbox.files().upload("/root/hello.txt", "hello from Java\n".getBytes(StandardCharsets.UTF_8));
                try (InputStream in = sandbox.files().download("/root/hello.txt")) {
                    System.out.print("download " + new String(in.readAllBytes(), StandardCharsets.UTF_8));
                }

                sandbox.sh("mkdir -p /srv && echo served > /srv/index.html"
                        + " && (nohup setsid python3 -m http.server 8000 --bind 127.0.0.1 --directory /srv >/dev/null 2>&1 &)");
                sandbox.waitForPort(8000, Duration.ofSeconds(60));
                try (PortForward forward = sandbox.forwardPort(8000)) {
                    HttpClient http = HttpClient.newHttpClient();
                    HttpResponse<String> page = http.send(HttpRequest.newBuilder(
                            URI.create("http://127.0.0.1:" + forward.localPort() + "/index.html")).build(),
                            HttpResponse.BodyHandlers.ofString());
                    System.out.print("forward " + page.statusCode() + " " + page.body());
                }

                sandbox.pause();
                sandbox.waitUntilPaused(Duration.ofSeconds(90));
                Sandbox child = sandbox.fork();
                child.waitUntilRunning(Duration.ofSeconds(90));
                System.out.println("forked " + child.id() + " from " + child.data().forkedFrom());
                child.destroy();
                sandbox.resume();
                sandbox.waitUntilRunning(Duration.ofSeconds(90));
                System.out.println("resumed " + sandbox.status());

                int listed = 0;
                for (Sandbox s : client.listSandboxes()) {
                    listed++;
                }
                System.out.println("listed " + listed);
            } finally {
                System.out.println("destroyed " + sandbox.destroy().status());
            }

            try {
                client.getSandbox("sb_01J0000000000000000000000");
            } catch (NotFoundException e) {
                System.out.println("not found: " + e.code() + " " + e.statusCode());
            }
        }
    }
}
