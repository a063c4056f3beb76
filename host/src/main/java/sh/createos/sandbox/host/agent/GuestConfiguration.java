package sh.createos.sandbox.host.agent;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonProperty;
import java.time.Instant;

/** The {@code configure} op's request: only the fields that are not null are applied by the agent. */
@JsonInclude(JsonInclude.Include.NON_NULL)
public record GuestConfiguration(String op, String hostname, @JsonProperty("time_unix_ms") Long timeUnixMs) {
    /** Hostname and clock, as after every restore: the guest's clock is as old as the snapshot. */
    public static GuestConfiguration identity(String hostname, Instant now) {
        return new GuestConfiguration("configure", hostname, now.toEpochMilli());
    }
}
