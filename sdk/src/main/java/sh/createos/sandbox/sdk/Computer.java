package sh.createos.sandbox.sdk;

import java.io.IOException;
import java.io.InputStream;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Computer use on a desktop image ({@code desktop:1}): {@code /v1/sandboxes/{id}/computer/…}
 * (docs/interactive-api.md §10.1). The first call starts the desktop; until it runs every call fails with a
 * {@link ConflictException} ({@code desktop_unavailable}), so callers poll {@link #screen()}. One screen,
 * {@code screen-0}; key names are xdotool's.
 */
public final class Computer {
    private final Transport transport;
    private final String base;

    Computer(Transport transport, String base) {
        this.transport = transport;
        this.base = base;
    }

    /**
     * The screen's size in pixels.
     *
     * @param width pixels
     * @param height pixels
     */
    public record Screen(int width, int height) {}

    /**
     * A window.
     *
     * @param id its X11 id
     * @param title its title, or null
     */
    public record Window(String id, String title) {}

    /**
     * A temporary noVNC link (needs the sandbox's ingress).
     *
     * @param screenId the screen
     * @param port the guest port (6080)
     * @param path the path to open, with the token
     * @param token the token websockify admits
     * @param expiresAt RFC 3339
     * @param url the ingress URL, or null when the server runs no ingress
     */
    public record Link(String screenId, Integer port, String path, String token, String expiresAt, String url) {}

    /** The screen's size; the readiness probe of the desktop. */
    public Screen screen() {
        return transport.data(new Transport.Call("GET", base + "/screen"), Screen.class);
    }

    /** A PNG of the whole screen. */
    public byte[] screenshot() {
        try (InputStream in = transport.send(new Transport.Call("GET", base + "/screenshot")).body()) {
            return in.readAllBytes();
        } catch (IOException e) {
            throw new ConnectionException("reading the screenshot: " + e.getMessage(), e);
        }
    }

    /** Moves the pointer. */
    public void move(int x, int y) {
        post("/mouse/move", Map.of("x", x, "y", y));
    }

    /** Clicks {@code button} (left, right, middle; null: left) {@code count} times, at (x, y) when given. */
    public void click(Integer x, Integer y, String button, int count) {
        Map<String, Object> body = new LinkedHashMap<>();
        if (x != null && y != null) {
            body.put("x", x);
            body.put("y", y);
        }
        if (button != null) {
            body.put("button", button);
        }
        body.put("count", count);
        post("/mouse/click", body);
    }

    /** Scrolls {@code up|down|left|right} by {@code amount} steps. */
    public void scroll(String direction, int amount) {
        post("/mouse/scroll", Map.of("direction", direction, "amount", amount));
    }

    /** Types text as key strokes. */
    public void type(String text) {
        post("/keyboard/type", Map.of("text", text));
    }

    /** Presses keys together, e.g. {@code ["ctrl", "l"]} or {@code ["Return"]}. */
    public void press(List<String> keys) {
        post("/keyboard/press", Map.of("keys", keys));
    }

    /** The open windows. */
    public List<Window> windows() {
        return transport.data(new Transport.Call("GET", base + "/windows"),
                new com.fasterxml.jackson.core.type.TypeReference<List<Window>>() {});
    }

    /** Opens a URL or a file with the desktop's default application. */
    public void open(String target) {
        post("/open", Map.of("target", target));
    }

    /** A fresh noVNC link to {@code screen-0} (invalidates the previous one). */
    public Link connect() {
        return transport.data(new Transport.Call("GET", base + "/screens/screen-0/connect"), Link.class);
    }

    private void post(String path, Map<String, ?> body) {
        transport.data(new Transport.Call("POST", base + path).json(body));
    }
}
