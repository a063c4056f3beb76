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
        register(router, host, user -> List.of());
    }

    /**
     * @param ownImages a caller's own images (ready templates), listed after the catalog's when the request carries
     *                  a valid API key (the route needs none)
     */
    public static void register(Router router, Host host,
            java.util.function.Function<sh.createos.sandbox.server.store.User, List<RootfsData.Entry>> ownImages) {
        router.get("/v1/shapes", false, ex -> ex.ok(Paging.from(ex).page(Shapes.ALL)));
        router.get("/v1/rootfs", false, ex -> {
            List<RootfsData.Entry> entries = new java.util.ArrayList<>(host.imageEntries());
            if (ex.user() != null) {
                entries.addAll(ownImages.apply(ex.user()));
            }
            ex.ok(rootfs(entries));
        });
        router.get("/v1/hosts", true, ex -> ex.ok(Paging.from(ex).page(host.views())));
    }

    /** Deprecated images stay bootable and listed (with their successor), so old scripts keep working. */
    static RootfsData rootfs(List<RootfsData.Entry> entries) {
        List<String> images = entries.stream().map(RootfsData.Entry::name).toList();
        String fallback = images.contains(DEFAULT_ROOTFS) || images.isEmpty() ? DEFAULT_ROOTFS : images.get(0);
        return new RootfsData(images, fallback, entries.isEmpty() ? null : entries);
    }
}
