package sh.createos.sandbox.host.agent;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonProperty;
import java.security.SecureRandom;
import java.time.Instant;

/** The {@code configure} op's request: only the fields that are not null are applied by the agent. */
@JsonInclude(JsonInclude.Include.NON_NULL)
public record GuestConfiguration(String op, String hostname, @JsonProperty("time_unix_ms") Long timeUnixMs,
                                 GuestNetwork network, byte[] entropy) {
    private static final SecureRandom RANDOM = new SecureRandom();
    private static final int ENTROPY_BYTES = 64;

    /**
     * Hostname, clock and fresh entropy, as after every restore: the guest's clock is as old as the snapshot, and
     * its kernel's random generator is the state every VM restored from that snapshot shares.
     */
    public static GuestConfiguration identity(String hostname, Instant now) {
        byte[] entropy = new byte[ENTROPY_BYTES];
        RANDOM.nextBytes(entropy);
        return new GuestConfiguration("configure", hostname, now.toEpochMilli(), null, entropy);
    }

    /** The guest's network alone (addresses, routes, resolver), e.g. after a private network attach. */
    public static GuestConfiguration network(GuestNetwork network) {
        return new GuestConfiguration("configure", null, null, network, null);
    }

    /** This configuration and the network (null: the network is left as it is). */
    public GuestConfiguration withNetwork(GuestNetwork newNetwork) {
        return new GuestConfiguration(op, hostname, timeUnixMs, newNetwork, entropy);
    }
}
