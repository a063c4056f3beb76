package sh.createos.sandbox.server.process;

import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.OutputStream;
import java.util.Base64;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import sh.createos.sandbox.host.agent.ProcessOutput;
import sh.createos.sandbox.host.agent.ProcessOutputFrame;
import sh.createos.sandbox.model.Json;
import sh.createos.sandbox.server.http.Exchange;

/**
 * One {@code connect} response: the agent's replay-and-follow frames as NDJSON, flushed per frame. The agent sends a
 * heartbeat every 5 s of silence, so a client that went away is noticed by a failed write within 5 s; that ends
 * this stream only, never the process.
 */
final class ProcessConnectStream {
    private static final Logger log = LoggerFactory.getLogger(ProcessConnectStream.class);
    private static final ObjectMapper JSON = Json.mapper();

    private ProcessConnectStream() {}

    static void run(Exchange ex, ProcessOutput output) throws IOException {
        try (output; OutputStream out = ex.stream(200, "application/x-ndjson", -1)) {
            while (true) {
                ProcessOutputFrame frame;
                try {
                    frame = output.next();
                } catch (IOException agentLost) {
                    // The status is already 200: a pause, a destroy or a lost agent is told in-band.
                    log.debug("process stream lost its agent: {}", agentLost.toString());
                    write(out, ProcessFrame.error("the sandbox stopped running or its agent went away; "
                            + "reconnect with after=<last seq> once it runs"));
                    return;
                }
                if (frame == null) {
                    return;
                }
                write(out, switch (frame) {
                    case ProcessOutputFrame.Chunk c ->
                            ProcessFrame.data(c.seq(), c.stream(), Base64.getEncoder().encodeToString(c.data()));
                    case ProcessOutputFrame.Heartbeat h -> ProcessFrame.heartbeat();
                    case ProcessOutputFrame.Exit e -> ProcessFrame.exit(e.code(), e.signal());
                    case ProcessOutputFrame.Expired x -> ProcessFrame.expired(x.oldestSeq());
                });
            }
        }
    }

    private static void write(OutputStream out, ProcessFrame frame) throws IOException {
        byte[] line = JSON.writeValueAsBytes(frame);
        byte[] withNewline = new byte[line.length + 1];
        System.arraycopy(line, 0, withNewline, 0, line.length);
        withNewline[line.length] = '\n';
        out.write(withNewline); // a client that went away fails here: try-with-resources ends the agent stream
        out.flush();
    }
}
