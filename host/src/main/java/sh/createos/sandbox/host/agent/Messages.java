package sh.createos.sandbox.host.agent;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.PropertyNamingStrategies;
import com.fasterxml.jackson.databind.json.JsonMapper;
import java.io.IOException;
import java.util.List;
import java.util.Map;

/** The JSON payloads of HELLO, OPEN and EVENT frames (snake_case on the wire, absent fields omitted). */
final class Messages {
    private static final ObjectMapper JSON = JsonMapper.builder()
            .propertyNamingStrategy(PropertyNamingStrategies.SNAKE_CASE)
            .serializationInclusion(JsonInclude.Include.NON_NULL)
            .disable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES)
            .build();

    static final String MAGIC = "createos-agent";
    static final int VERSION = 1;

    private Messages() {}

    static byte[] encode(Object message) {
        try {
            return JSON.writeValueAsBytes(message);
        } catch (IOException e) {
            throw new IllegalStateException("cannot encode " + message, e);
        }
    }

    static <T> T decode(byte[] payload, Class<T> type) throws ProtocolException {
        try {
            return JSON.readValue(payload, type);
        } catch (IOException e) {
            throw new ProtocolException("malformed " + type.getSimpleName() + " from the agent: " + e.getMessage());
        }
    }

    static Event decodeEvent(byte[] payload) throws ProtocolException {
        JsonNode node = decode(payload, JsonNode.class);
        if (!node.isObject() || !node.path("type").isTextual()) {
            throw new ProtocolException("EVENT without a type: " + node);
        }
        return new Event(node.get("type").asText(), node);
    }

    /** An EVENT from the agent; its fields depend on its type (an exit's "code" is a number, an error's a string). */
    record Event(String type, JsonNode body) {
        <T> T as(Class<T> shape) throws ProtocolException {
            try {
                return JSON.treeToValue(body, shape);
            } catch (IOException e) {
                throw new ProtocolException("malformed " + type + " event from the agent: " + body);
            }
        }

        boolean is(String expected) {
            return type.equals(expected);
        }

        @Override
        public String toString() {
            return body.toString();
        }
    }

    record Hello(String magic, int version) {}

    record HelloAnswer(String magic, int version, String agent, String kernel, String hostname, long bootMs) {}

    // Requests (OPEN payloads).
    record Ping(String op) {}

    record Watch(String op) {}

    record Exec(String op, List<String> argv, Map<String, String> env, String cwd, String user, PtySize pty, boolean stdin) {}

    record WriteFile(String op, String path, int mode, boolean mkdirs) {}

    record PathOp(String op, String path) {}

    record Mkdir(String op, String path, boolean parents, int mode) {}

    record Remove(String op, String path, boolean recursive) {}

    record Rename(String op, String from, String to) {}

    record Dial(String op, int port, String host, String scope) {}

    record GrowFs(String op, long deviceBytes, long timeoutMs) {}

    record GrowFsAnswer(long fsBytesBefore, long fsBytes) {}

    // Events the host sends on an exec stream.
    record Resize(String type, int rows, int cols) {}

    record Signal(String type, String signal) {}

    record Kill(String type) {}

    // Events the agent sends.
    record Error(String code, String message) {}

    record Pong(long uptimeMs) {}

    record Started(int pid) {}

    record Exit(int code, String signal) {}

    record FileOk(long size, int mode) {}

    record StatOk(FileStat stat) {}

    record Entries(List<FileStat> entries) {}
}
