package sh.createos.sandbox.server.ssh;

import java.io.IOException;
import java.nio.file.LinkOption;
import java.util.List;
import org.apache.sshd.common.file.util.BasePath;

/** A path in a guest's file system, as seen through the agent; always resolved to an absolute, clean string. */
final class AgentPath extends BasePath<AgentPath, AgentFileSystem> {
    AgentPath(AgentFileSystem fs, String root, List<String> names) {
        super(fs, root, names);
    }

    /** The absolute, normalised form the agent's operations require. */
    String agentPath() {
        return toAbsolutePath().normalize().toString();
    }

    @Override
    public AgentPath toRealPath(LinkOption... options) throws IOException {
        AgentPath absolute = toAbsolutePath().normalize();
        getFileSystem().provider().checkAccess(absolute);
        return absolute;
    }
}
