package sh.createos.sandbox.sdk;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.io.InputStream;
import java.util.Base64;

/**
 * The replayed and live output of a managed process ({@code …/connect?after=N}). Closing it detaches only: the
 * process keeps running, and a later attach replays from the last sequence number seen.
 */
public final class ProcessStream extends NdjsonEventStream<ProcessEvent> {
    ProcessStream(InputStream body) {
        super(body);
    }

    @Override
    ProcessEvent decode(String line) throws IOException {
        JsonNode f = Transport.JSON.readTree(line);
        switch (f.path("type").asText()) {
            case "data":
                return new ProcessEvent.Data(f.path("seq").asLong(), f.path("stream").asText(),
                        Base64.getDecoder().decode(f.path("data_base64").asText()));
            case "exit":
                return new ProcessEvent.Exit(f.hasNonNull("exit_code") ? f.get("exit_code").asInt() : null,
                        f.hasNonNull("signal") ? f.get("signal").asText() : null);
            case "error":
                return new ProcessEvent.Error(f.path("error").asText(),
                        f.hasNonNull("oldest_available_seq") ? f.get("oldest_available_seq").asLong() : null);
            default:
                return new ProcessEvent.Heartbeat();
        }
    }

    @Override
    boolean isLast(ProcessEvent event) {
        return event instanceof ProcessEvent.Exit || event instanceof ProcessEvent.Error;
    }

    @Override
    ProcessEvent broken(IOException cause) {
        return new ProcessEvent.Error("process stream broke: " + cause.getMessage(), null);
    }

    /** Detaches (the process keeps running). */
    @Override
    public void close() {
        super.close();
    }
}
