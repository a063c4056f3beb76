package sh.createos.sandbox.cli;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.ByteArrayOutputStream;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.WebSocket;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.locks.ReentrantLock;
import org.jline.terminal.Attributes;
import org.jline.terminal.Size;
import org.jline.terminal.Terminal;
import org.jline.terminal.TerminalBuilder;
import sh.createos.sandbox.sdk.SandboxClient;

/**
 * The interactive shell over {@code GET …/shell-ws} (interactive-api §3): the WebSocket variant of the keyless PTY,
 * chosen over {@code /shell} because it reports the shell's exit status. The local terminal runs in raw mode, so
 * Ctrl-C is the byte 0x03 the guest's PTY turns into SIGINT; SIGWINCH sends a resize.
 */
final class ShellClient {
    private static final String ESCAPE_HELP = "\r\nSupported escape sequences (after a newline):\r\n"
            + "  ~.  end the session\r\n  ~?  this help\r\n  ~~  send a ~\r\n";

    private final SandboxClient client;
    private final String sandboxId;
    private final ReentrantLock sendLock = new ReentrantLock();
    private final CompletableFuture<Integer> exit = new CompletableFuture<>();
    private volatile Integer exitCode;

    ShellClient(SandboxClient client, String sandboxId) {
        this.client = client;
        this.sandboxId = sandboxId;
    }

    int run() throws Exception {
        try (Terminal term = TerminalBuilder.builder().system(true).build()) {
            Size size = term.getSize();
            int rows = size.getRows() > 0 ? size.getRows() : 24;
            int cols = size.getColumns() > 0 ? size.getColumns() : 80;
            OutputStream screen = term.output();
            WebSocket ws = HttpClient.newHttpClient().newWebSocketBuilder()
                    .header("X-Api-Key", Globals.resolvedKey)
                    .subprotocols("createos.pty.v1")
                    .buildAsync(uri(rows, cols), new Listener(screen)).join();
            Attributes saved = term.enterRawMode();
            // JLine's raw mode keeps ISIG and IXON: clear them so Ctrl-C, Ctrl-Z, Ctrl-\ and Ctrl-S are bytes for
            // the guest's PTY (which turns them into signals there), not signals to this process.
            Attributes raw = term.getAttributes();
            raw.setLocalFlag(Attributes.LocalFlag.ISIG, false);
            raw.setInputFlag(Attributes.InputFlag.IXON, false);
            raw.setInputFlag(Attributes.InputFlag.ICRNL, false);
            term.setAttributes(raw);
            try {
                term.handle(Terminal.Signal.WINCH, sig -> {
                    Size s = term.getSize();
                    if (s.getRows() > 0 && s.getColumns() > 0) {
                        send(() -> ws.sendText("{\"type\":\"resize\",\"rows\":" + s.getRows() + ",\"cols\":"
                                + s.getColumns() + "}", true));
                    }
                });
                Thread keys = new Thread(() -> pumpKeys(term.input(), screen, ws), "shell-keys");
                keys.setDaemon(true);
                keys.start();
                return exit.join();
            } finally {
                term.setAttributes(saved);
                screen.flush();
            }
        }
    }

    private URI uri(int rows, int cols) {
        URI base = client.baseUrl();
        String scheme = "https".equals(base.getScheme()) ? "wss" : "ws";
        String prefix = base.getPath() == null ? "" : base.getPath().replaceAll("/+$", "");
        return URI.create(scheme + "://" + base.getRawAuthority() + prefix + "/v1/sandboxes/" + sandboxId
                + "/shell-ws?rows=" + rows + "&cols=" + cols);
    }

    /** Keystrokes to the guest, minus the escapes (a {@code ~} right after a newline). */
    private void pumpKeys(InputStream in, OutputStream screen, WebSocket ws) {
        byte[] buf = new byte[4096];
        boolean afterNewline = true;
        boolean tilde = false;
        try {
            while (true) {
                int n = in.read(buf);
                if (n < 0) {
                    break;
                }
                ByteArrayOutputStream out = new ByteArrayOutputStream(n + 1);
                for (int i = 0; i < n; i++) {
                    byte b = buf[i];
                    if (tilde) {
                        tilde = false;
                        if (b == '.') {
                            flush(ws, out);
                            send(() -> ws.sendClose(WebSocket.NORMAL_CLOSURE, "escape"));
                            exit.complete(0);
                            return;
                        } else if (b == '?') {
                            screen.write(ESCAPE_HELP.getBytes(StandardCharsets.US_ASCII));
                            screen.flush();
                            continue;
                        } else if (b != '~') {
                            out.write('~');
                        }
                        out.write(b);
                        afterNewline = false;
                        continue;
                    }
                    if (afterNewline && b == '~') {
                        tilde = true;
                        continue;
                    }
                    out.write(b);
                    afterNewline = b == '\r' || b == '\n';
                }
                flush(ws, out);
            }
            send(() -> ws.sendClose(WebSocket.NORMAL_CLOSURE, "stdin closed"));
        } catch (Exception e) {
            if (!exit.isDone()) {
                exit.completeExceptionally(e);
            }
        }
    }

    private void flush(WebSocket ws, ByteArrayOutputStream out) {
        if (out.size() > 0) {
            ByteBuffer data = ByteBuffer.wrap(out.toByteArray());
            send(() -> ws.sendBinary(data, true));
        }
    }

    /** The JDK WebSocket allows one outstanding send: serialise them. */
    private void send(java.util.function.Supplier<CompletableFuture<WebSocket>> op) {
        sendLock.lock();
        try {
            op.get().join();
        } catch (RuntimeException e) {
            if (!exit.isDone()) {
                exit.completeExceptionally(e);
            }
        } finally {
            sendLock.unlock();
        }
    }

    private final class Listener implements WebSocket.Listener {
        private final OutputStream screen;
        private final StringBuilder text = new StringBuilder();

        Listener(OutputStream screen) {
            this.screen = screen;
        }

        @Override
        public CompletionStage<?> onBinary(WebSocket ws, ByteBuffer data, boolean last) {
            try {
                byte[] b = new byte[data.remaining()];
                data.get(b);
                screen.write(b);
                screen.flush();
            } catch (Exception e) {
                exit.completeExceptionally(e);
            }
            ws.request(1);
            return null;
        }

        @Override
        public CompletionStage<?> onText(WebSocket ws, CharSequence data, boolean last) {
            text.append(data);
            if (last) {
                try {
                    JsonNode msg = Output.JSON.readTree(text.toString());
                    if ("exit".equals(msg.path("type").asText())) {
                        exitCode = msg.has("exit_code") ? msg.get("exit_code").asInt()
                                : 128 + signalNumber(msg.path("signal").asText());
                    }
                } catch (Exception ignored) {
                    // not a control message we know: ignore, as the protocol says
                }
                text.setLength(0);
            }
            ws.request(1);
            return null;
        }

        @Override
        public CompletionStage<?> onClose(WebSocket ws, int status, String reason) {
            if (exitCode != null) {
                exit.complete(exitCode);
            } else if (status == WebSocket.NORMAL_CLOSURE) {
                exit.complete(0);
            } else {
                exit.completeExceptionally(new CliException(ExitCodes.FAILURE,
                        "shell closed by the server: " + status + " " + reason));
            }
            return null;
        }

        @Override
        public void onError(WebSocket ws, Throwable error) {
            exit.completeExceptionally(error);
        }
    }

    private static int signalNumber(String name) {
        return switch (name) {
            case "SIGHUP" -> 1;
            case "SIGINT" -> 2;
            case "SIGQUIT" -> 3;
            case "SIGKILL" -> 9;
            case "SIGTERM" -> 15;
            default -> 0;
        };
    }
}
