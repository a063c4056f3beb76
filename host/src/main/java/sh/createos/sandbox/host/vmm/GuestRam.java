package sh.createos.sandbox.host.vmm;

import java.nio.file.Path;
import java.util.List;

/**
 * Where a VM's RAM lives. Every VM of this version has one memory backend {@code ram}, and all its saves and loads
 * run with the migration capability {@code x-ignore-shared} (set over QMP: QEMU 7.2 has no {@code -global} for it,
 * so a load starts with {@code -incoming defer}): a VM whose RAM is a shared file saves device state only, its RAM
 * being the file; any other saves its RAM in the stream.
 *
 * <ul>
 *   <li>{@link Kind#ANONYMOUS}: ordinary private memory (cold boots, restores from a full memory stream);
 *   <li>{@link Kind#SHARED_FILE}: {@code share=on} on {@code file}, the guest writes into it (a template being built);
 *   <li>{@link Kind#PRIVATE_FILE}: {@code share=off}, a copy-on-write mapping of {@code file}: the guest reads the
 *       file's pages from the page cache, which all its siblings share, and its writes never reach the file;
 *   <li>{@link Kind#LEGACY}: no backend and no capability, as before RAM files (snapshots of an older version).
 * </ul>
 * No balloon, free-page reporting or virtio-mem device may ever be added: on QEMU 7.2 they punch holes into a
 * shared file.
 */
record GuestRam(Kind kind, Path file) {
    enum Kind { ANONYMOUS, SHARED_FILE, PRIVATE_FILE, LEGACY }

    static final String BACKEND_ID = "ram";
    static final GuestRam ANONYMOUS = new GuestRam(Kind.ANONYMOUS, null);
    static final GuestRam LEGACY = new GuestRam(Kind.LEGACY, null);

    static GuestRam sharedFile(Path file) {
        return new GuestRam(Kind.SHARED_FILE, file);
    }

    static GuestRam privateFile(Path file) {
        return new GuestRam(Kind.PRIVATE_FILE, file);
    }

    /** Appended to {@code -M}. */
    String machineOption() {
        return kind == Kind.LEGACY ? "" : ",memory-backend=" + BACKEND_ID;
    }

    List<String> qemuArgs(int memMib) {
        String size = "id=" + BACKEND_ID + ",size=" + memMib + "M";
        return switch (kind) {
            case LEGACY -> List.of();
            case ANONYMOUS -> List.of("-object", "memory-backend-ram," + size);
            case SHARED_FILE, PRIVATE_FILE -> List.of("-object", "memory-backend-file," + size + ",mem-path="
                    + file.toString().replace(",", ",,") + ",share=" + (kind == Kind.SHARED_FILE ? "on" : "off"));
        };
    }
}
