package sh.createos.sandbox.host.vmm;

import sh.createos.sandbox.host.agent.GuestNetwork;

/**
 * The network card of one VM: the host tap QEMU attaches to, and what the agent's {@code configure} sets in the guest
 * (its MAC is also the virtio-net device's).
 */
public record VmNic(String tap, GuestNetwork network) {
    public String mac() {
        return network.mac();
    }
}
