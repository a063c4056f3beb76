package sh.createos.sandbox.server.sandbox;

import java.util.List;
import java.util.Optional;
import sh.createos.sandbox.model.Shape;

/** The shape catalog: the spec's five canonical shapes plus the two the SDK examples use. */
public final class Shapes {
    private static final int DEFAULT_DISK_MIB = 10240;
    public static final List<Shape> ALL = List.of(
            shape("s-1vcpu-256mb", 1, 256),
            shape("s-1vcpu-512mb", 1, 512),
            shape("s-1vcpu-1gb", 1, 1024),
            shape("s-1vcpu-2gb", 1, 2048),
            shape("s-2vcpu-2gb", 2, 2048),
            shape("s-2vcpu-4gb", 2, 4096),
            shape("s-4vcpu-4gb", 4, 4096));

    private Shapes() {}

    public static Optional<Shape> find(String id) {
        return ALL.stream().filter(s -> s.id().equals(id)).findFirst();
    }

    private static Shape shape(String id, int vcpu, int memMib) {
        return new Shape(id, vcpu, memMib, DEFAULT_DISK_MIB, null);
    }
}
