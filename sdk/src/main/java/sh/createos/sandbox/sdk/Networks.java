package sh.createos.sandbox.sdk;

import java.util.Map;
import sh.createos.sandbox.model.Network;

/** Private overlay networks of the caller ({@link SandboxClient#networks()}). */
public final class Networks {
    private final Transport transport;

    Networks(Transport transport) {
        this.transport = transport;
    }

    /** Every network, page by page (with {@code member_count}). */
    public PagedIterable<Network> list() {
        return new PagedIterable<>(offset -> transport.data(new Transport.Call("GET", "/v1/networks")
                .query("limit", PagedIterable.PAGE_SIZE).query("offset", offset)),
                node -> Transport.convert(node, Transport.JSON.constructType(Network.class)));
    }

    /** Creates a network. @throws ConflictException when the name is taken */
    public Network create(String name) {
        return transport.data(new Transport.Call("POST", "/v1/networks").json(Map.of("name", name)), Network.class);
    }

    /** A network with its members. */
    public Network get(String id) {
        return transport.data(new Transport.Call("GET", "/v1/networks/" + Transport.segment(id)), Network.class);
    }

    /** Deletes an empty network. @throws ConflictException while it has members */
    public void delete(String id) {
        transport.data(new Transport.Call("DELETE", "/v1/networks/" + Transport.segment(id)));
    }
}
