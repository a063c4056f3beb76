package sh.createos.sandbox.server.sandbox;

import java.util.Optional;
import sh.createos.sandbox.model.ErrorCode;
import sh.createos.sandbox.server.DomainException;
import sh.createos.sandbox.server.host.DiskSpace;

/**
 * Disk admission against the filesystem of the data directory, where overlays and snapshots live. Disks are thin
 * (qcow2 overlays on shared layers) and rarely filled, so they are overcommitted: their sum is not bounded, and one
 * disk may be up to {@link #OVERCOMMIT} times what is free above the reserve (a 200 GiB disk with 76 GiB free is
 * refused, a 10 GiB one with 14 GiB free admitted). Below the reserve ({@link #reserveMib}: 5% of the filesystem, at
 * least 2 GiB) no create, fork or growth is admitted, so the host stops taking disks before it fills up under running
 * sandboxes (pause snapshots need that room too).
 */
final class DiskAdmission {
    static final long MIN_RESERVE_MIB = 2048;
    static final long OVERCOMMIT = 2;

    private DiskAdmission() {}

    static long reserveMib(long totalMib) {
        return Math.max(MIN_RESERVE_MIB, totalMib / 20);
    }

    /**
     * @throws DomainException UNAVAILABLE under the reserve, {@code DISK_TOO_LARGE} for a disk larger than what is
     *     free; nothing is checked on a host that does not report its disk
     */
    static void check(Optional<DiskSpace> space, long diskMib) {
        if (space.isEmpty()) {
            return;
        }
        long freeMib = space.get().freeMib();
        long totalMib = space.get().totalMib();
        long reserve = reserveMib(totalMib);
        if (freeMib < reserve) {
            throw DomainException.unavailable("no host with capacity: only " + freeMib + " MiB of disk free, below the "
                    + reserve + " MiB kept in reserve");
        }
        long admissible = OVERCOMMIT * (freeMib - reserve);
        if (diskMib > admissible) {
            throw new DomainException(ErrorCode.DISK_TOO_LARGE, "disk_mib " + diskMib + " does not fit: "
                    + admissible + " MiB of disk can be admitted on this host now (" + freeMib + " MiB free, "
                    + reserve + " MiB reserve, overcommit " + OVERCOMMIT + "x)");
        }
    }
}
