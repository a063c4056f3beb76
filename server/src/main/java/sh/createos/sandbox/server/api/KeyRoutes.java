package sh.createos.sandbox.server.api;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.List;
import sh.createos.sandbox.model.Json;
import sh.createos.sandbox.model.Page;
import sh.createos.sandbox.server.DomainException;
import sh.createos.sandbox.server.auth.ApiKeys;
import sh.createos.sandbox.server.auth.UserKeys;
import sh.createos.sandbox.server.http.Exchange;
import sh.createos.sandbox.server.http.Router;

/**
 * {@code /v1/keys}: the caller's own API keys (rest-api.md §5.7). A delegated sandbox token is refused (403) before
 * any of these run, since its scope holds only runtime routes of its sandbox.
 */
public final class KeyRoutes {
    private static final int MAX_BODY = 4096;

    private KeyRoutes() {}

    public static void register(Router router, UserKeys keys) {
        router.get("/v1/keys", true, ex -> {
            Paging paging = Paging.from(ex);
            List<UserKeys.KeyView> all = keys.list(ex.user(), caller(ex));
            int from = Math.min(paging.offset(), all.size());
            int to = Math.min(all.size(), from + paging.limit());
            ex.ok(Page.of(all.subList(from, to), all.size(), paging.limit(), paging.offset()));
        });
        router.post("/v1/keys", true, ex -> ex.ok(keys.create(ex.user(), name(ex))));
        router.delete("/v1/keys/{id}", true, ex -> ex.ok(keys.revoke(ex.user(), ex.param("id"), caller(ex))));
    }

    private static String caller(Exchange ex) {
        return ApiKeys.credentialOf(ex::header);
    }

    /** The body is optional: none, {@code {}} or {@code {"name":"laptop"}}. */
    private static String name(Exchange ex) throws IOException {
        byte[] raw = ex.bodyStream().readNBytes(MAX_BODY + 1);
        if (raw.length > MAX_BODY) {
            throw DomainException.invalid("JSON body larger than " + MAX_BODY + " bytes");
        }
        if (new String(raw, StandardCharsets.UTF_8).isBlank()) {
            return null;
        }
        JsonNode body = Json.mapper().readTree(raw); // malformed JSON: a 400 from the ErrorMapper
        if (!body.isObject()) {
            throw DomainException.invalid("the body must be a JSON object");
        }
        JsonNode name = body.get("name");
        if (name == null || name.isNull()) {
            return null;
        }
        if (!name.isTextual()) {
            throw DomainException.invalid("'name' must be a string");
        }
        return name.asText();
    }
}
