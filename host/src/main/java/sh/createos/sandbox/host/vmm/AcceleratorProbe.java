package sh.createos.sandbox.host.vmm;

import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.stream.Stream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import sh.createos.sandbox.host.kit.DataDir;
import sh.createos.sandbox.host.kit.GuestKit;
import sh.createos.sandbox.host.proc.Command;
import sh.createos.sandbox.host.proc.CommandFailedException;

/**
 * Picks the accelerator by proving that a guest runs: the kit's own kernel and initramfs are booted under KVM with
 * {@code createos.probe} on the command line, on which the initramfs's /init prints {@link #MARKER} and powers off.
 * Opening /dev/kvm and creating a vCPU proves nothing: a nested PVM /dev/kvm does both, then runs the Debian kernel
 * 20–50× slower than TCG and dies on an emulation failure. No marker within {@link #BOOT_LIMIT}: TCG.
 *
 * <p>The finding is cached in {@code <data>/accelerator.json}, keyed by the host's boot id, QEMU's version and the
 * kit's kernel and initramfs, so that a restart does not pay for the probe again.
 */
public final class AcceleratorProbe {
    private static final Logger log = LoggerFactory.getLogger(AcceleratorProbe.class);
    private static final ObjectMapper JSON = new ObjectMapper();
    static final String MARKER = "createos-probe: user space reached";
    /** A KVM guest reaches its /init in well under a second; one that does not within this is unusable. */
    static final Duration BOOT_LIMIT = Duration.ofSeconds(5);
    static final String CACHE_FILE = "accelerator.json";
    private static final Path BOOT_ID = Path.of("/proc/sys/kernel/random/boot_id");
    private static final Map<String, AcceleratorChoice> PROBED = new ConcurrentHashMap<>();

    private AcceleratorProbe() {}

    /** What the cache file holds. */
    record Cached(String key, Accelerator accelerator, String reason) {}

    /** For {@code CREATEOS_SANDBOX_DATA_DIR} and its kit; TCG when there is no kit to probe with. */
    public static AcceleratorChoice fromEnvironment() {
        Path dataDir = DataDir.fromEnvironment();
        GuestKit kit;
        try {
            kit = GuestKit.load(dataDir);
        } catch (IOException e) {
            String forced = System.getenv(Accelerator.ENV);
            if (forced != null && !forced.isBlank() && !forced.strip().equalsIgnoreCase("auto")) {
                return choose(dataDir, null, forced);
            }
            return logged(new AcceleratorChoice(Accelerator.TCG, "no guest kit to probe KVM with: " + e.getMessage()));
        }
        return choose(dataDir, kit);
    }

    /** {@link Accelerator#ENV} decides ({@code kvm}, {@code tcg}, {@code auto} or unset: probe). */
    public static AcceleratorChoice choose(Path dataDir, GuestKit kit) {
        return choose(dataDir, kit, System.getenv(Accelerator.ENV));
    }

    /**
     * @param requested {@code kvm} or {@code tcg} forces it (no probe); {@code auto}, null or blank probes
     * @throws IllegalArgumentException for anything else
     */
    public static AcceleratorChoice choose(Path dataDir, GuestKit kit, String requested) {
        String mode = requested == null || requested.isBlank() ? "auto" : requested.strip().toLowerCase(Locale.ROOT);
        switch (mode) {
            case "kvm", "tcg" -> {
                return new AcceleratorChoice(Accelerator.valueOf(mode.toUpperCase(Locale.ROOT)),
                        "forced by --accel / " + Accelerator.ENV + "=" + mode);
            }
            case "auto" -> {
                return probe(dataDir, kit);
            }
            default -> throw new IllegalArgumentException("accelerator '" + requested + "' is not one of auto, kvm, tcg");
        }
    }

    private static AcceleratorChoice probe(Path dataDir, GuestKit kit) {
        try (FileChannel ignored = FileChannel.open(Accelerator.KVM_DEVICE, StandardOpenOption.READ, StandardOpenOption.WRITE)) {
            // opened: now see whether a guest really runs on it
        } catch (IOException | UnsupportedOperationException | SecurityException e) {
            return logged(new AcceleratorChoice(Accelerator.TCG, "cannot open " + Accelerator.KVM_DEVICE + " read-write: " + e.getMessage()));
        }
        String key;
        try {
            key = cacheKey(kit);
        } catch (IOException e) {
            return logged(new AcceleratorChoice(Accelerator.TCG, "cannot identify the kit or QEMU for the KVM probe: " + e.getMessage()));
        }
        return PROBED.computeIfAbsent(dataDir + "\n" + key, k -> {
            Path cache = dataDir.resolve(CACHE_FILE);
            try {
                if (Files.exists(cache)) {
                    Cached cached = JSON.readValue(cache.toFile(), Cached.class);
                    if (key.equals(cached.key())) {
                        return logged(new AcceleratorChoice(cached.accelerator(), cached.reason() + "; cached for this host boot"));
                    }
                }
            } catch (IOException | RuntimeException e) {
                log.debug("ignoring the accelerator cache {}: {}", cache, e.toString());
            }
            AcceleratorChoice choice = bootUnderKvm(dataDir, kit);
            try {
                VmDirectory.writeAtomically(cache, new Cached(key, choice.accelerator(), choice.reason()));
            } catch (IOException e) {
                log.warn("cannot cache the accelerator probe's result in {}: {}", cache, e.getMessage());
            }
            return logged(choice);
        });
    }

    /** Boots the kit under KVM to the marker. */
    private static AcceleratorChoice bootUnderKvm(Path dataDir, GuestKit kit) {
        Path console;
        try {
            Files.createDirectories(dataDir.resolve("tmp"));
            console = Files.createTempFile(dataDir.resolve("tmp"), "kvm-probe-", ".log");
        } catch (IOException e) {
            return new AcceleratorChoice(Accelerator.TCG, "cannot create the KVM probe's console file: " + e.getMessage());
        }
        List<String> argv = probeCommand(kit, console, Accelerator.KVM);
        log.info("probing KVM: {}", String.join(" ", argv));
        long started = System.nanoTime();
        String failure = null;
        try {
            Command.of(argv).timeout(BOOT_LIMIT).run();
        } catch (CommandFailedException e) {
            failure = e.exitCode() < 0 ? "it did not finish within " + BOOT_LIMIT.toSeconds() + " s"
                    : "qemu exited with code " + e.exitCode() + ": " + firstLine(e.stderr());
        } catch (IOException e) {
            failure = e.getMessage();
        }
        long ms = (System.nanoTime() - started) / 1_000_000;
        try {
            String output = Files.readString(console, StandardCharsets.UTF_8);
            if (output.contains(MARKER)) {
                return new AcceleratorChoice(Accelerator.KVM, "KVM probe booted the kit's kernel to user space in " + ms + " ms");
            }
            return new AcceleratorChoice(Accelerator.TCG, Accelerator.KVM_DEVICE + " opens, but the kit's kernel did not"
                    + " reach user space under KVM (" + (failure == null ? "no marker on the console" : failure) + ")"
                    + consoleHint(output));
        } catch (IOException e) {
            return new AcceleratorChoice(Accelerator.TCG, "cannot read the KVM probe's console: " + e.getMessage());
        } finally {
            try {
                Files.deleteIfExists(console);
            } catch (IOException e) {
                log.debug("cannot remove {}: {}", console, e.toString());
            }
        }
    }

    /** A one-vCPU microvm of the kit that prints {@link #MARKER} to {@code console} from /init and powers off. */
    static List<String> probeCommand(GuestKit kit, Path console, Accelerator accelerator) {
        List<String> argv = new ArrayList<>(List.of(QemuCommandLine.BINARY, "-M", "microvm"));
        argv.addAll(accelerator.qemuArgs(1));
        argv.addAll(List.of("-smp", "1", "-m", "128M", "-nodefaults", "-no-user-config", "-display", "none",
                "-no-reboot", "-kernel", kit.kernel().toString(), "-initrd", kit.initrd().toString(),
                "-append", String.join(" ", Stream.concat(Stream.of("console=ttyS0", "quiet", "panic=-1", "createos.probe"),
                        accelerator.kernelArgs().stream()).toList()),
                "-chardev", "file,id=console,path=" + console.toString().replace(",", ",,"), "-serial", "chardev:console"));
        return argv;
    }

    /** The host boot, QEMU and the kit: a change of any of them may change the answer. */
    private static String cacheKey(GuestKit kit) throws IOException {
        String qemu = Command.of(QemuCommandLine.BINARY, "--version").timeout(Duration.ofSeconds(20)).run().stdout().strip();
        String text = Files.readString(BOOT_ID).strip() + "\n" + qemu + "\n" + identity(kit.kernel()) + "\n" + identity(kit.initrd());
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(text.getBytes(StandardCharsets.UTF_8)));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    private static String identity(Path file) throws IOException {
        return file + ":" + Files.size(file) + ":" + Files.getLastModifiedTime(file).toMillis();
    }

    private static String consoleHint(String output) {
        List<String> lines = output.lines().filter(l -> !l.isBlank()).toList();
        return lines.isEmpty() ? "" : "; console: " + lines.getLast().strip();
    }

    private static String firstLine(String text) {
        return text.lines().filter(l -> !l.isBlank()).findFirst().orElse("(no stderr)").strip();
    }

    private static AcceleratorChoice logged(AcceleratorChoice choice) {
        log.info("using {}: {}", choice.accelerator(), choice.reason());
        return choice;
    }
}
