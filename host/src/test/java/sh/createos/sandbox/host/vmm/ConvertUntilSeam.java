package sh.createos.sandbox.host.vmm;

/**
 * The control plane that {@link ConvertedSnapshotTest} kills in the middle of a conversion: a separate JVM (run with
 * the {@link TestSeam#CONVERSION_SAVED} seam) that converts one paused VM by id and blocks at the seam.
 */
public final class ConvertUntilSeam {
    public static void main(String[] args) throws Exception {
        String id = args[0];
        QemuVmm vmm = QemuVmm.fromEnvironment().convertingPausedSnapshots();
        PausedVm paused = vmm.findPaused(id).orElseThrow(() -> new IllegalStateException("no paused VM " + id));
        SnapshotConverter.submit(new VmDirectory(paused.dir()));
        Thread.sleep(Long.MAX_VALUE);
    }
}
