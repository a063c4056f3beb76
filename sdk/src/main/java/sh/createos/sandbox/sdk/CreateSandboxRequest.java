package sh.createos.sandbox.sdk;

import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * What {@link SandboxClient#createSandbox} creates: only {@code shape} is required, e.g.
 * {@code CreateSandboxRequest.builder().shape("s-1vcpu-512mb").build()}. Unset fields are left to the server.
 */
public final class CreateSandboxRequest {
    private final sh.createos.sandbox.model.CreateSandboxRequest wire;

    private CreateSandboxRequest(sh.createos.sandbox.model.CreateSandboxRequest wire) {
        this.wire = wire;
    }

    /** A new builder. */
    public static Builder builder() {
        return new Builder();
    }

    /** The request as the server's model type (the JSON body). */
    public sh.createos.sandbox.model.CreateSandboxRequest toModel() {
        return wire;
    }

    /** Collects the fields of a {@link CreateSandboxRequest}. */
    public static final class Builder {
        private String shape;
        private String rootfs;
        private String name;
        private final List<sh.createos.sandbox.model.CreateSandboxRequest.NetworkRef> networks = new ArrayList<>();
        private Integer diskMib;
        private List<String> egress;
        private final Map<String, String> envs = new LinkedHashMap<>();
        private final List<String> sshPubkeys = new ArrayList<>();
        private String hostId;
        private Boolean ingressEnabled;
        private final List<sh.createos.sandbox.model.CreateSandboxRequest.DiskAttachment> disks = new ArrayList<>();
        private String region;
        private Integer autoPauseAfterSeconds;
        private Long bandwidthQuotaBytes;

        private Builder() {}

        /** The machine size, e.g. {@code s-1vcpu-512mb} ({@link SandboxClient#listShapes()}). Required. */
        public Builder shape(String shape) {
            this.shape = shape;
            return this;
        }

        /** The root filesystem, e.g. {@code devbox:1} ({@link SandboxClient#listRootfs()}). */
        public Builder rootfs(String rootfs) {
            this.rootfs = rootfs;
            return this;
        }

        /** A name, unique among the caller's sandboxes. */
        public Builder name(String name) {
            this.name = name;
            return this;
        }

        /** Joins a private network at boot. */
        public Builder network(String networkId) {
            networks.add(new sh.createos.sandbox.model.CreateSandboxRequest.NetworkRef(networkId));
            return this;
        }

        /** The root disk size in MiB. */
        public Builder diskMib(int diskMib) {
            this.diskMib = diskMib;
            return this;
        }

        /** The egress allowlist ({@code host:port}, {@code *.domain}, CIDR); empty allows all. */
        public Builder egress(List<String> egress) {
            this.egress = List.copyOf(egress);
            return this;
        }

        /** One environment variable of every command; only keys declared here may be overridden per exec. */
        public Builder env(String key, String value) {
            envs.put(key, value);
            return this;
        }

        /** Environment variables of every command. */
        public Builder envs(Map<String, String> envs) {
            this.envs.putAll(envs);
            return this;
        }

        /** An SSH public key to install for the default user. */
        public Builder sshPubkey(String key) {
            sshPubkeys.add(key);
            return this;
        }

        /** Pins the sandbox to a host ({@link SandboxClient#listHosts()}). */
        public Builder hostId(String hostId) {
            this.hostId = hostId;
            return this;
        }

        /** Serves the sandbox's ports through the ingress ({@link Sandbox#previewUrl(int)}). */
        public Builder ingressEnabled(boolean enabled) {
            this.ingressEnabled = enabled;
            return this;
        }

        /** Mounts a registered disk (id or name) at {@code mountPath}. */
        public Builder disk(String diskId, String mountPath, String subPath) {
            disks.add(new sh.createos.sandbox.model.CreateSandboxRequest.DiskAttachment(diskId, mountPath, subPath));
            return this;
        }

        /** The region to place the sandbox in. */
        public Builder region(String region) {
            this.region = region;
            return this;
        }

        /** Pauses the sandbox after this long without activity. */
        public Builder autoPauseAfter(Duration idle) {
            this.autoPauseAfterSeconds = Math.toIntExact(idle.getSeconds());
            return this;
        }

        /** The traffic quota in bytes ({@code -1} unmetered). */
        public Builder bandwidthQuotaBytes(long bytes) {
            this.bandwidthQuotaBytes = bytes;
            return this;
        }

        /** The request. */
        public CreateSandboxRequest build() {
            Objects.requireNonNull(shape, "shape is required");
            return new CreateSandboxRequest(new sh.createos.sandbox.model.CreateSandboxRequest(shape, rootfs, name,
                    networks.isEmpty() ? null : List.copyOf(networks), diskMib, egress,
                    envs.isEmpty() ? null : Map.copyOf(envs), sshPubkeys.isEmpty() ? null : List.copyOf(sshPubkeys),
                    hostId, null, ingressEnabled, disks.isEmpty() ? null : List.copyOf(disks), region,
                    autoPauseAfterSeconds, bandwidthQuotaBytes));
        }
    }
}
