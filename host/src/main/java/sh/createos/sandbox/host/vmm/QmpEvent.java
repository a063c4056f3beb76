package sh.createos.sandbox.host.vmm;

import com.fasterxml.jackson.databind.JsonNode;

/** An asynchronous QMP event such as SHUTDOWN, STOP or RESUME; {@code data} is an empty object when QEMU sent none. */
public record QmpEvent(String name, JsonNode data) {}
