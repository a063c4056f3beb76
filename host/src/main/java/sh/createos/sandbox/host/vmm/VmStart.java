package sh.createos.sandbox.host.vmm;

import java.time.Duration;

/**
 * How a {@link Vm} came to run and how long that took, until its agent answered and its identity was set; {@code steps}
 * says where that time went (null when not measured, e.g. {@link Kind#ATTACHED}).
 */
public record VmStart(Kind kind, Duration took, StartTimings steps) {
    public enum Kind {
        /** Booted from the kernel: the first VM of its template key, or templates are off. */
        COLD_BOOT,
        /** {@link Vmm#boot} restored the image's template snapshot. */
        TEMPLATE_RESTORE,
        /** {@link Vmm#resume} of a paused VM. */
        RESUME,
        /** {@link Vmm#fork} of a paused VM. */
        FORK,
        /** Found running by {@link Vmm#attach}; {@code took} is zero. */
        ATTACHED
    }

    public VmStart(Kind kind, Duration took) {
        this(kind, took, null);
    }

    /** True for every start that restored a memory snapshot instead of booting a kernel. */
    public boolean restored() {
        return kind == Kind.TEMPLATE_RESTORE || kind == Kind.RESUME || kind == Kind.FORK;
    }
}
