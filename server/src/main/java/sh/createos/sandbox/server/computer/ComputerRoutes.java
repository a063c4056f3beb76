package sh.createos.sandbox.server.computer;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.io.OutputStream;
import java.security.SecureRandom;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.BiFunction;
import java.util.function.Predicate;
import sh.createos.sandbox.server.http.ApiException;
import sh.createos.sandbox.server.http.Exchange;
import sh.createos.sandbox.server.http.Router;
import sh.createos.sandbox.server.sandbox.SandboxService;
import sh.createos.sandbox.server.store.SandboxRecord;

/**
 * Computer use (docs/interactive-api.md §10.1): {@code /v1/sandboxes/{id}/computer/…} on sandboxes whose image has a
 * desktop ({@code desktop:1}). One screen, {@code screen-0} (X display :0); noVNC is port 6080 of the guest,
 * reached through the ingress with the token of the latest {@code connect}. 501 when the image has no desktop,
 * 409 {@code desktop_unavailable} while it starts or when an action fails, 404 for an unknown screen or window.
 */
public final class ComputerRoutes {
    static final String SCREEN = "screen-0";
    static final int VNC_PORT = 5900;
    static final int NOVNC_PORT = 6080;
    private static final Duration LINK_LIFETIME = Duration.ofHours(1);
    private static final SecureRandom RANDOM = new SecureRandom();
    private static final String BASE = "/v1/sandboxes/{id}/computer";

    private final SandboxService service;
    private final Predicate<String> desktopImage;
    private final BiFunction<String, Integer, Optional<String>> ingressUrl;

    private ComputerRoutes(SandboxService service, Predicate<String> desktopImage,
            BiFunction<String, Integer, Optional<String>> ingressUrl) {
        this.service = service;
        this.desktopImage = desktopImage;
        this.ingressUrl = ingressUrl;
    }

    /**
     * @param desktopImage whether an image (rootfs name) has a desktop
     * @param ingressUrl the public URL of a sandbox's port, empty when the ingress does not run
     */
    public static void register(Router router, SandboxService service, Predicate<String> desktopImage,
            BiFunction<String, Integer, Optional<String>> ingressUrl) {
        new ComputerRoutes(service, desktopImage, ingressUrl).register(router);
    }

    private interface Action {
        void handle(Exchange ex, Desktop desktop, SandboxRecord sandbox) throws Exception;
    }

    private void get(Router router, String path, Action action) {
        router.get(BASE + path, true, ex -> on(ex, action));
    }

    private void post(Router router, String path, Action action) {
        router.post(BASE + path, true, ex -> on(ex, action));
    }

    private void register(Router router) {
        get(router, "/screenshot", (ex, d, s) -> {
            List<String> args = new ArrayList<>();
            String window = ex.query("window_id");
            args.add(window == null ? "root" : windowId(window));
            List<String> box = new ArrayList<>();
            for (String name : List.of("x", "y", "width", "height")) {
                if (ex.query(name) != null) {
                    box.add(String.valueOf(nonNegative(name, ex.query(name))));
                }
            }
            if (!box.isEmpty() && box.size() != 4) {
                throw ApiException.badRequest("a screenshot region needs all of x, y, width and height");
            }
            args.addAll(box);
            try (Desktop.Png png = d.screenshot(args); OutputStream out = ex.stream(200, "image/png", png.size())) {
                png.content().transferTo(out);
            }
        });
        get(router, "/screen", (ex, d, s) -> {
            int[] wh = d.numbers("screen");
            ex.ok(Map.of("width", wh[0], "height", wh[1]));
        });
        get(router, "/cursor", (ex, d, s) -> {
            int[] xy = d.numbers("cursor");
            ex.ok(Map.of("x", xy[0], "y", xy[1]));
        });
        get(router, "/clipboard", (ex, d, s) -> ex.ok(Map.of("text", d.run("clipboard-get"))));
        router.put(BASE + "/clipboard", true, ex -> on(ex, (e, d, s) -> {
            d.run("clipboard-set", text(body(e), "text"));
            e.ok(Map.of());
        }));
        post(router, "/open", (ex, d, s) -> {
            d.run("open", text(body(ex), "target"));
            ex.ok(Map.of());
        });
        post(router, "/launch", (ex, d, s) -> {
            JsonNode body = body(ex);
            List<String> argv = new ArrayList<>(List.of(text(body, "application")));
            if (body.hasNonNull("uri")) {
                argv.add(body.get("uri").asText());
            }
            d.run("launch", argv.toArray(String[]::new));
            ex.ok(Map.of());
        });
        post(router, "/mouse/move", (ex, d, s) -> {
            JsonNode body = body(ex);
            d.run("move", coordinate(body, "x"), coordinate(body, "y"));
            ex.ok(Map.of());
        });
        post(router, "/mouse/click", (ex, d, s) -> {
            JsonNode body = body(ex);
            List<String> args = new ArrayList<>(List.of(button(body), String.valueOf(count(body))));
            if (body.has("x") || body.has("y")) {
                args.add(coordinate(body, "x"));
                args.add(coordinate(body, "y"));
            }
            d.run("click", args.toArray(String[]::new));
            ex.ok(Map.of());
        });
        post(router, "/mouse/down", (ex, d, s) -> {
            d.run("down", button(body(ex)));
            ex.ok(Map.of());
        });
        post(router, "/mouse/up", (ex, d, s) -> {
            d.run("up", button(body(ex)));
            ex.ok(Map.of());
        });
        post(router, "/mouse/scroll", (ex, d, s) -> {
            JsonNode body = body(ex);
            String direction = text(body, "direction");
            if (!List.of("up", "down", "left", "right").contains(direction)) {
                throw ApiException.badRequest("'direction' must be up, down, left or right");
            }
            int amount = body.has("amount") ? positive(body, "amount") : 1;
            d.run("scroll", direction, String.valueOf(amount));
            ex.ok(Map.of());
        });
        post(router, "/mouse/drag", (ex, d, s) -> {
            JsonNode body = body(ex);
            JsonNode from = object(body, "from");
            JsonNode to = object(body, "to");
            d.run("drag", coordinate(from, "x"), coordinate(from, "y"), coordinate(to, "x"), coordinate(to, "y"));
            ex.ok(Map.of());
        });
        post(router, "/keyboard/type", (ex, d, s) -> {
            JsonNode body = body(ex);
            int delay = body.has("delay_in_ms") ? nonNegative("delay_in_ms", body.get("delay_in_ms").asText()) : 12;
            d.run("type", String.valueOf(delay), text(body, "text"));
            ex.ok(Map.of());
        });
        post(router, "/keyboard/press", (ex, d, s) -> {
            d.run("key", String.join("+", keys(body(ex))));
            ex.ok(Map.of());
        });
        post(router, "/keyboard/down", (ex, d, s) -> {
            d.run("keydown", String.join("+", keys(body(ex))));
            ex.ok(Map.of());
        });
        post(router, "/keyboard/up", (ex, d, s) -> {
            d.run("keyup", String.join("+", keys(body(ex))));
            ex.ok(Map.of());
        });
        get(router, "/windows", (ex, d, s) -> {
            String app = ex.query("application");
            List<Map<String, Object>> windows = new ArrayList<>();
            for (String line : app == null ? d.lines("windows") : d.lines("windows", app)) {
                windows.add(window(line));
            }
            ex.ok(windows);
        });
        get(router, "/windows/current", (ex, d, s) -> ex.ok(window(d.lines("current").get(0))));
        get(router, "/windows/{wid}", (ex, d, s) -> {
            String wid = windowId(ex.param("wid"));
            d.run("geometry", wid); // 404 when there is no such window
            Map<String, Object> view = new LinkedHashMap<>();
            view.put("id", wid);
            d.lines("windows").stream().map(ComputerRoutes::window).filter(w -> w.get("id").equals(wid))
                    .findFirst().map(w -> w.get("title")).ifPresent(title -> view.put("title", title));
            ex.ok(view);
        });
        get(router, "/windows/{wid}/geometry", (ex, d, s) -> {
            String wid = windowId(ex.param("wid"));
            int[] g = d.numbers("geometry", wid);
            Map<String, Object> view = new LinkedHashMap<>();
            view.put("id", wid);
            view.put("x", g[0]);
            view.put("y", g[1]);
            view.put("width", g[2]);
            view.put("height", g[3]);
            view.put("screen", SCREEN);
            ex.ok(view);
        });
        for (String verb : List.of("focus", "maximize", "minimize", "restore")) {
            post(router, "/windows/{wid}/" + verb, (ex, d, s) -> {
                d.run(verb, windowId(ex.param("wid")));
                ex.ok(Map.of());
            });
        }
        post(router, "/windows/{wid}/move", (ex, d, s) -> {
            JsonNode body = body(ex);
            d.run("window-move", windowId(ex.param("wid")), coordinate(body, "x"), coordinate(body, "y"));
            ex.ok(Map.of());
        });
        post(router, "/windows/{wid}/resize", (ex, d, s) -> {
            JsonNode body = body(ex);
            d.run("window-resize", windowId(ex.param("wid")), String.valueOf(positive(body, "width")),
                    String.valueOf(positive(body, "height")));
            ex.ok(Map.of());
        });
        router.delete(BASE + "/windows/{wid}", true, ex -> on(ex, (e, d, s) -> {
            d.run("close", windowId(e.param("wid")));
            e.ok(Map.of());
        }));
        get(router, "/screens", (ex, d, s) -> ex.ok(List.of(screen(d))));
        get(router, "/screens/{sid}", (ex, d, s) -> {
            requireScreen(ex.param("sid"));
            ex.ok(screen(d));
        });
        get(router, "/screens/{sid}/connect", (ex, d, s) -> {
            requireScreen(ex.param("sid"));
            if (!s.ingressEnabled()) {
                throw ApiException.conflict("INVALID_STATE",
                        "connecting to the desktop needs ingress: enable it (PATCH ingress_enabled) first");
            }
            byte[] bytes = new byte[24];
            RANDOM.nextBytes(bytes);
            String token = HexFormat.of().formatHex(bytes);
            d.run("connect", token);
            String path = "/vnc.html?autoconnect=1&resize=remote&path=websockify%3Ftoken%3D" + token;
            Map<String, Object> link = new LinkedHashMap<>();
            link.put("screen_id", SCREEN);
            link.put("port", NOVNC_PORT);
            link.put("path", path);
            link.put("token", token);
            link.put("expires_at", Instant.now().plus(LINK_LIFETIME).toString());
            ingressUrl.apply(s.id(), NOVNC_PORT).ifPresent(url -> link.put("url", url + path));
            ex.ok(link);
        });
    }

    /** Resolves the caller's running sandbox, refuses images without a desktop, and counts the call as activity. */
    private void on(Exchange ex, Action action) throws Exception {
        var running = service.running(ex.user(), ex.param("id"));
        SandboxRecord sandbox = running.sandbox();
        if (!desktopImage.test(sandbox.rootfs())) {
            throw new ApiException(501, "NOT_IMPLEMENTED", "the image " + sandbox.rootfs()
                    + " of sandbox " + sandbox.id() + " has no desktop: create the sandbox with rootfs desktop:1");
        }
        try (var busy = service.activity().busy(sandbox.id())) {
            action.handle(ex, new Desktop(sandbox.id(), running.agent()), sandbox);
        } catch (IOException e) {
            throw service.explainLostAgent(sandbox.id(), e);
        }
    }

    private static Map<String, Object> screen(Desktop desktop) throws IOException {
        int[] wh = desktop.numbers("screen");
        Map<String, Object> view = new LinkedHashMap<>();
        view.put("screen_id", SCREEN);
        view.put("display", ":0");
        view.put("width", wh[0]);
        view.put("height", wh[1]);
        view.put("vnc_port", VNC_PORT);
        view.put("novnc_port", NOVNC_PORT);
        return view;
    }

    private static void requireScreen(String screenId) {
        if (!SCREEN.equals(screenId)) {
            throw ApiException.notFound("no screen " + screenId + ": this desktop has only " + SCREEN);
        }
    }

    /** "ID TITLE" of the script → {id, title?}. */
    private static Map<String, Object> window(String line) {
        String[] parts = line.strip().split(" ", 2);
        Map<String, Object> view = new LinkedHashMap<>();
        view.put("id", parts[0]);
        if (parts.length > 1 && !parts[1].isBlank()) {
            view.put("title", parts[1]);
        }
        return view;
    }

    private static String windowId(String raw) {
        if (raw == null || !raw.matches("\\d{1,12}")) {
            throw ApiException.badRequest("a window id is a decimal X11 window number, not '" + raw + "'");
        }
        return raw;
    }

    private static JsonNode body(Exchange ex) throws IOException {
        return ex.body(JsonNode.class);
    }

    private static JsonNode object(JsonNode body, String field) {
        JsonNode value = body.get(field);
        if (value == null || !value.isObject()) {
            throw ApiException.badRequest("'" + field + "' must be an object {x, y}");
        }
        return value;
    }

    private static String text(JsonNode body, String field) {
        JsonNode value = body.get(field);
        if (value == null || !value.isTextual() || value.asText().isEmpty()) {
            throw ApiException.badRequest("'" + field + "' is required and must be a non-empty string");
        }
        return value.asText();
    }

    private static String coordinate(JsonNode body, String field) {
        JsonNode value = body.get(field);
        if (value == null || !value.canConvertToInt() || value.asInt() < 0) {
            throw ApiException.badRequest("'" + field + "' is required and must be a whole number ≥ 0");
        }
        return String.valueOf(value.asInt());
    }

    private static int positive(JsonNode body, String field) {
        JsonNode value = body.get(field);
        if (value == null || !value.canConvertToInt() || value.asInt() < 1) {
            throw ApiException.badRequest("'" + field + "' must be a whole number ≥ 1");
        }
        return value.asInt();
    }

    private static int count(JsonNode body) {
        return body.has("count") ? positive(body, "count") : 1;
    }

    private static String button(JsonNode body) {
        JsonNode value = body.get("button");
        String button = value == null ? "left" : value.asText();
        return switch (button) {
            case "left", "1" -> "1";
            case "middle", "2" -> "2";
            case "right", "3" -> "3";
            default -> throw ApiException.badRequest("'button' must be left, middle or right, not '" + button + "'");
        };
    }

    private static List<String> keys(JsonNode body) {
        JsonNode keys = body.get("keys");
        if (keys == null || !keys.isArray() || keys.isEmpty()) {
            throw ApiException.badRequest("'keys' must be a non-empty array of key names (e.g. [\"ctrl\",\"c\"])");
        }
        List<String> names = new ArrayList<>();
        for (JsonNode key : keys) {
            if (!key.isTextual() || !key.asText().matches("[A-Za-z0-9_]{1,32}")) {
                throw ApiException.badRequest("a key name is letters, digits or '_', not " + key);
            }
            names.add(key.asText());
        }
        return names;
    }

    private static int nonNegative(String name, String raw) {
        try {
            int value = Integer.parseInt(raw);
            if (value >= 0) {
                return value;
            }
        } catch (NumberFormatException e) {
            // the message below
        }
        throw ApiException.badRequest("'" + name + "' must be a whole number ≥ 0, not '" + raw + "'");
    }
}
