package sh.createos.sandbox.host.vmm;

import java.nio.file.Path;
import java.util.List;

/**
 * Where a VM's RAM lives. Every VM of this version has one memory backend {@code ram}. A VM whose RAM is a shared
 * file saves with the migration capability {@code x-ignore-shared} (set over QMP: QEMU 7.2 has no {@code -global}
 * for it, so a load starts with {@code -incoming defer}) and its stream is device state only, its RAM being the file;
 * any other saves its RAM in a full stream without the capability. A load runs with the capability exactly when the
 * save did ({@link #loadsIgnoringShared}): QEMU checks that both sides agree.
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
record GuestRam(Kind kind, Path file, boolean loadsIgnoringShared) {
    enum Kind { ANONYMOUS, SHARED_FILE, PRIVATE_FILE, LEGACY }

    static final String BACKEND_ID = "ram";
    /** Private memory; a restore loads a full stream saved with x-ignore-shared (pauses before conversions). */
    static final GuestRam ANONYMOUS = new GuestRam(Kind.ANONYMOUS, null, true);
    /**
     * Private memory; a restore loads a full stream saved without x-ignore-shared, as pauses of private RAM write
     * it now: such a stream also loads into a shared file, which is how {@link SnapshotConverter} turns it into a
     * RAM file (QEMU refuses RAM pages for a block it ignores as shared).
     */
    static final GuestRam FULL_STREAM = new GuestRam(Kind.ANONYMOUS, null, false);
    static final GuestRam LEGACY = new GuestRam(Kind.LEGACY, null, false);

    static GuestRam sharedFile(Path file) {
        return new GuestRam(Kind.SHARED_FILE, file, true);
    }

    static GuestRam privateFile(Path file) {
        return new GuestRam(Kind.PRIVATE_FILE, file, true);
    }

    /** A shared file that a full stream saved without x-ignore-shared is loaded into (a conversion). */
    static GuestRam sharedFileLoadingFullStream(Path file) {
        return new GuestRam(Kind.SHARED_FILE, file, false);
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
