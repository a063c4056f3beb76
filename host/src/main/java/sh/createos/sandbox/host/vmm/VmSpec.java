package sh.createos.sandbox.host.vmm;

import java.util.regex.Pattern;

/**
 * What to boot. {@code id} names the VM's directory and is passed to the guest; {@code image} is a guest kit image
 * name such as "devbox:1"; {@code diskMib} is the size of the VM's root disk, at least the image's size.
 */
public record VmSpec(String id, String image, int vcpus, int memMib, int diskMib, String hostname) {
    private static final Pattern ID = Pattern.compile("[a-z0-9][a-z0-9-]{0,62}");
    private static final Pattern HOSTNAME = Pattern.compile("[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?");
    /** Below this the guest kernel and agent do not fit. */
    static final int MIN_MEM_MIB = 64;
    static final int MAX_VCPUS = 64;

    public VmSpec {
        checkId(id);
        if (image == null || image.isBlank()) {
            throw new IllegalArgumentException("VM " + id + ": image is required");
        }
        if (vcpus < 1 || vcpus > MAX_VCPUS) {
            throw new IllegalArgumentException("VM " + id + ": vcpus must be 1.." + MAX_VCPUS + ", not " + vcpus);
        }
        if (memMib < MIN_MEM_MIB) {
            throw new IllegalArgumentException("VM " + id + ": memMib must be at least " + MIN_MEM_MIB + ", not " + memMib);
        }
        if (diskMib < 1) {
            throw new IllegalArgumentException("VM " + id + ": diskMib must be positive, not " + diskMib);
        }
        if (hostname == null || !HOSTNAME.matcher(hostname).matches()) {
            throw new IllegalArgumentException("VM " + id + ": bad hostname '" + hostname + "'");
        }
    }

    /** An id names a directory and goes on the kernel command line: lower-case letters, digits and '-' only. */
    public static String checkId(String id) {
        if (id == null || !ID.matcher(id).matches()) {
            throw new IllegalArgumentException("bad VM id '" + id + "': use 1-63 of a-z, 0-9 and '-', starting with a letter or digit");
        }
        return id;
    }

    public VmSpec withDiskMib(int newDiskMib) {
        return new VmSpec(id, image, vcpus, memMib, newDiskMib, hostname);
    }
}
