package sh.createos.sandbox.model;

import java.util.List;
import java.util.Map;

/**
 * A custom rootfs built from a Dockerfile (spec §4.16, §12; interactive §9.1). Beyond the spec's fields it shows what
 * the Dockerfile recorded for sandboxes made from it ({@code image_config}) and why a build failed ({@code error}).
 */
public record Template(String id, String name, String base, String status, long ext4SizeBytes, String createdAt,
                       String builtAt, Integer version, String error, ImageConfig imageConfig, String dockerfile) {

    /** Body of {@code POST /v1/templates}. */
    public record CreateRequest(String name, String dockerfile, String base) {}

    /**
     * What the Dockerfile said about the image beyond its disk: ENV (every exec in a sandbox from it gets these),
     * WORKDIR (an exec's default cwd), USER (an exec's default user), and what is only recorded: CMD, ENTRYPOINT,
     * EXPOSE, LABEL, SHELL.
     */
    public record ImageConfig(Map<String, String> env, String workdir, String user, List<String> cmd,
                              List<String> entrypoint, List<String> exposedPorts, Map<String, String> labels,
                              List<String> shell) {}

    /** One NDJSON line of the followed log; the terminal frame has only {@code final} and {@code status}. */
    public record LogEvent(String ts, String level, String line, Integer attempt,
                           @com.fasterxml.jackson.annotation.JsonProperty("final") Boolean isFinal, String status) {}
}
