package sh.createos.sandbox.model;

import com.fasterxml.jackson.annotation.JsonCreator;
import com.fasterxml.jackson.annotation.JsonValue;
import java.util.Locale;

public enum SandboxStatus {
    CREATING, RUNNING, PAUSING, PAUSED, RESUMING, FORKING, ERROR, DESTROYING, DESTROYED, FAILED;

    @JsonValue
    public String wire() {
        return name().toLowerCase(Locale.ROOT);
    }

    /** @throws IllegalArgumentException for anything that is not a status of the spec */
    @JsonCreator
    public static SandboxStatus fromWire(String value) {
        for (SandboxStatus status : values()) {
            if (status.wire().equals(value)) {
                return status;
            }
        }
        throw new IllegalArgumentException("unknown sandbox status '" + value + "'");
    }
}
