package sh.createos.sandbox.server.ssh;

import java.io.IOException;
import java.nio.file.FileSystem;
import java.nio.file.Path;
import org.apache.sshd.common.AttributeRepository.AttributeKey;
import org.apache.sshd.common.file.FileSystemFactory;
import org.apache.sshd.common.session.SessionContext;
import org.apache.sshd.server.session.ServerSession;
import sh.createos.sandbox.host.agent.AgentClient;
import sh.createos.sandbox.host.agent.ExecRequest;
import sh.createos.sandbox.host.agent.ExecResult;
import sh.createos.sandbox.server.sandbox.SandboxService.RunningSandbox;

/** The file system SFTP serves for a connection: its guest's, through the agent, starting in the login's home. */
final class AgentFileSystemFactory implements FileSystemFactory {
    private static final AttributeKey<AgentFileSystem> FS = new AttributeKey<>();
    private final AgentFileSystemProvider provider = new AgentFileSystemProvider();
    private final GatewaySessions sessions;

    AgentFileSystemFactory(GatewaySessions sessions) {
        this.sessions = sessions;
    }

    @Override
    public Path getUserHomeDir(SessionContext session) throws IOException {
        return fileSystem(session).getDefaultDir();
    }

    @Override
    public FileSystem createFileSystem(SessionContext session) throws IOException {
        return fileSystem(session);
    }

    private synchronized AgentFileSystem fileSystem(SessionContext context) throws IOException {
        ServerSession session = (ServerSession) context;
        AgentFileSystem fs = session.getAttribute(FS);
        if (fs != null) {
            return fs;
        }
        SshLogin login = session.getAttribute(SshLogin.KEY);
        RunningSandbox[] current = {sessions.attach(session)};
        AgentFileSystem.AgentSource source = () -> {
            synchronized (current) {
                if (!current[0].agent().isOpen()) {
                    current[0] = sessions.attach(session); // resumed since: a new VM, a new agent connection
                }
                return current[0].agent();
            }
        };
        fs = new AgentFileSystem(provider, source, home(current[0].agent(), login.guestUser()), login.guestUser());
        session.setAttribute(FS, fs);
        return fs;
    }

    private static String home(AgentClient agent, String user) throws IOException {
        if (user == null || user.equals("root")) {
            return "/root";
        }
        ExecResult result = agent.run(ExecRequest.of("/bin/sh", "-c", "cd && pwd").withUser(user));
        String home = result.stdout().strip();
        return result.exitCode() == 0 && home.startsWith("/") ? home : "/";
    }
}
