package sh.createos.sandbox.server.ssh;

import java.io.IOException;
import java.nio.file.attribute.UserPrincipalLookupService;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import org.apache.sshd.common.file.util.BaseFileSystem;
import sh.createos.sandbox.host.agent.AgentClient;
import sh.createos.sandbox.host.agent.FileStat;

/**
 * One SFTP session's view of a guest's files: every operation goes to the sandbox's agent (stat, list, mkdir,
 * remove, rename, read_file, write_file), nothing touches the host's disk. Stats from a listing are remembered for
 * a moment, so {@code ls -l} costs one round trip instead of one per entry; every change forgets what it touched.
 */
final class AgentFileSystem extends BaseFileSystem<AgentPath> {
    private static final long STAT_CACHE_NANOS = 2_000_000_000L;

    /** Reaches the (running, maybe just resumed) guest; re-asked when the agent connection is gone. */
    interface AgentSource {
        AgentClient agent() throws IOException;
    }

    private record Cached(FileStat stat, long at) {}

    private final AgentSource source;
    private final String home;
    private final String guestUser;
    private final Map<String, Cached> stats = new ConcurrentHashMap<>();
    private volatile boolean open = true;

    AgentFileSystem(AgentFileSystemProvider provider, AgentSource source, String home, String guestUser) {
        super(provider);
        this.source = source;
        this.home = home;
        this.guestUser = guestUser;
    }

    AgentClient agent() throws IOException {
        return source.agent();
    }

    /** The login's guest user when it is not root (files the agent creates get chowned to it), else null. */
    String chownTo() {
        return guestUser == null || guestUser.equals("root") || guestUser.equals("0") ? null : guestUser;
    }

    @Override
    public AgentPath getDefaultDir() {
        return getPath(home);
    }

    @Override
    protected AgentPath create(String root, List<String> names) {
        return new AgentPath(this, root, names);
    }

    FileStat cached(String path) {
        Cached c = stats.get(path);
        return c != null && System.nanoTime() - c.at() < STAT_CACHE_NANOS ? c.stat() : null;
    }

    void remember(FileStat stat) {
        stats.put(stat.path(), new Cached(stat, System.nanoTime()));
    }

    void forget(String path) {
        stats.keySet().removeIf(p -> p.equals(path) || p.startsWith(path.endsWith("/") ? path : path + "/"));
    }

    @Override
    public void close() {
        open = false;
        stats.clear();
    }

    @Override
    public boolean isOpen() {
        return open;
    }

    @Override
    public Set<String> supportedFileAttributeViews() {
        return Set.of("basic", "posix");
    }

    @Override
    public UserPrincipalLookupService getUserPrincipalLookupService() {
        throw new UnsupportedOperationException("the gateway's SFTP does not change owners");
    }
}
