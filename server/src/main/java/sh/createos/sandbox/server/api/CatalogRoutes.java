package sh.createos.sandbox.server.api;

import java.util.List;
import sh.createos.sandbox.model.RootfsData;
import sh.createos.sandbox.server.http.Router;
import sh.createos.sandbox.server.host.Host;
import sh.createos.sandbox.server.sandbox.Shapes;

/** Shapes and rootfs catalogs (no auth) and the host list (auth). */
public final class CatalogRoutes {
    private static final String DEFAULT_ROOTFS = "devbox:1";

    private CatalogRoutes() {}

    public static void register(Router router, Host host) {
        router.get("/v1/shapes", false, ex -> ex.ok(Paging.from(ex).page(Shapes.ALL)));
        router.get("/v1/rootfs", false, ex -> ex.ok(rootfs(host.images())));
        router.get("/v1/hosts", true, ex -> ex.ok(Paging.from(ex).page(host.views())));
    }

    private static RootfsData rootfs(List<String> images) {
        String fallback = images.contains(DEFAULT_ROOTFS) || images.isEmpty() ? DEFAULT_ROOTFS : images.get(0);
        List<RootfsData.Entry> entries = images.stream()
                .map(name -> new RootfsData.Entry(name, description(name), null, null))
                .toList();
        return new RootfsData(images, fallback, entries.isEmpty() ? null : entries);
    }

    private static String description(String name) {
        return name.equals(DEFAULT_ROOTFS) ? "Debian dev image" : null;
    }
}
