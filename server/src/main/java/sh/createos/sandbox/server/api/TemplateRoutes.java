package sh.createos.sandbox.server.api;

import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import sh.createos.sandbox.model.OkResponse;
import sh.createos.sandbox.model.Page;
import sh.createos.sandbox.model.Template;
import sh.createos.sandbox.server.DomainException;
import sh.createos.sandbox.server.http.Exchange;
import sh.createos.sandbox.server.http.Router;
import sh.createos.sandbox.server.templates.TemplateService;

/** {@code /v1/templates} (spec §12, interactive §9.1): {@code {ref}} is a template id or name. */
public final class TemplateRoutes {
    private TemplateRoutes() {}

    public static void register(Router router, TemplateService templates) {
        router.get("/v1/templates", true, ex -> {
            Paging paging = Paging.from(ex);
            ex.ok(Page.of(templates.list(ex.user(), paging.limit(), paging.offset()), templates.count(ex.user()),
                    paging.limit(), paging.offset()));
        });
        router.post("/v1/templates", true,
                ex -> ex.ok(templates.submit(ex.user(), ex.body(Template.CreateRequest.class))));
        router.get("/v1/templates/{ref}", true, ex -> ex.ok(templates.get(ex.user(), ex.param("ref"),
                "dockerfile".equals(ex.query("include")))));
        router.delete("/v1/templates/{ref}", true, ex -> {
            templates.delete(ex.user(), ex.param("ref"));
            ex.ok(new OkResponse(true));
        });
        router.get("/v1/templates/{ref}/logs", true, ex -> {
            int attempt = attempt(ex);
            if ("true".equals(ex.query("follow"))) {
                TemplateService.LogFollower follower = templates.follower(ex.user(), ex.param("ref"), attempt);
                try (OutputStream out = ex.stream(200, "application/x-ndjson", -1)) {
                    follower.writeTo(out);
                }
                return;
            }
            byte[] text = templates.logText(ex.user(), ex.param("ref"), attempt).getBytes(StandardCharsets.UTF_8);
            try (OutputStream out = ex.stream(200, "text/plain; charset=utf-8", text.length)) {
                out.write(text);
            }
        });
    }

    private static int attempt(Exchange ex) {
        String raw = ex.query("attempt");
        if (raw == null || raw.isEmpty()) {
            return 0;
        }
        try {
            int n = Integer.parseInt(raw);
            if (n < 1) {
                throw new NumberFormatException();
            }
            return n;
        } catch (NumberFormatException e) {
            throw DomainException.invalid("'attempt' must be a positive number, not '" + raw + "'");
        }
    }
}
