package sh.createos.sandbox.server.ssh;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import org.apache.sshd.common.config.keys.KeyUtils;
import org.apache.sshd.core.CoreModuleProperties;
import org.apache.sshd.server.SshServer;
import org.apache.sshd.server.auth.pubkey.UserAuthPublicKeyFactory;
import org.apache.sshd.server.forward.RejectAllForwardingFilter;
import org.apache.sshd.server.keyprovider.SimpleGeneratorHostKeyProvider;
import org.apache.sshd.sftp.server.SftpSubsystemFactory;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import sh.createos.sandbox.server.sandbox.SandboxService;

/**
 * The SSH gateway (docs/ssh-gateway.md): SSH, SFTP and {@code ssh -L} into every sandbox without an sshd in the
 * image. Users log in as {@code [USER+]SANDBOX} with a key from the sandbox's {@code ssh_pubkeys}; shells, commands,
 * files and forwarded connections all go through the sandbox's agent. Public-key authentication only; no agent or
 * X11 forwarding and no {@code -R} (the agent cannot listen in the guest).
 */
public final class SshGateway implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(SshGateway.class);
    private final SshServer server;
    private final GatewaySessions sessions;

    private SshGateway(SshServer server, GatewaySessions sessions) {
        this.server = server;
        this.sessions = sessions;
    }

    /** Starts listening; the host key is made once in {@code dataDir/ssh/} (a private directory, the key 0600). */
    public static SshGateway start(SshConfig config, Path dataDir, SandboxService sandboxes) throws IOException {
        GuestAccess access = new GuestAccess(sandboxes);
        GatewaySessions sessions = new GatewaySessions(access, config.maxSessionsPerSandbox());
        SshServer server = SshServer.setUpDefaultServer();
        server.setHost(config.host());
        server.setPort(config.port());
        server.setKeyPairProvider(hostKey(dataDir));
        server.setUserAuthFactories(List.of(UserAuthPublicKeyFactory.INSTANCE));
        server.setPublickeyAuthenticator(new SandboxKeyAuthenticator(sandboxes));
        server.setPasswordAuthenticator(null);
        server.setKeyboardInteractiveAuthenticator(null);
        server.setShellFactory(channel -> new GuestCommand(sessions, access, null));
        server.setCommandFactory((channel, command) -> new GuestCommand(sessions, access, command));
        server.setFileSystemFactory(new AgentFileSystemFactory(sessions));
        server.setSubsystemFactories(List.of(new SftpSubsystemFactory.Builder()
                .withFileSystemAccessor(AgentSftpAccessor.INSTANCE).build()));
        ChannelQuota quota = new ChannelQuota(config.maxChannelsPerConnection());
        server.setChannelFactories(List.of(GuestChannelSession.factory(quota), DirectTcpipChannel.factory(sessions,
                quota)));
        server.setForwardingFilter(RejectAllForwardingFilter.INSTANCE); // -R, agent and X11 forwarding
        server.addSessionListener(sessions);
        CoreModuleProperties.MAX_AUTH_REQUESTS.set(server, config.maxAuthAttempts());
        CoreModuleProperties.IDLE_TIMEOUT.set(server, config.idleTimeout());
        CoreModuleProperties.SERVER_IDENTIFICATION.set(server, "createos-sandbox");
        try {
            server.start();
        } catch (IOException e) {
            sessions.close();
            throw new IOException("the SSH gateway cannot listen on " + config.host() + ":" + config.port() + ": "
                    + e.getMessage(), e);
        }
        SshGateway gateway = new SshGateway(server, sessions);
        log.info("SSH gateway listening on {}:{}", config.host(), gateway.port());
        return gateway;
    }

    private static SimpleGeneratorHostKeyProvider hostKey(Path dataDir) throws IOException {
        Path dir = dataDir.resolve("ssh");
        if (!Files.isDirectory(dir)) {
            Files.createDirectories(dir, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")));
        }
        Path key = dir.resolve("host_key");
        SimpleGeneratorHostKeyProvider provider = new SimpleGeneratorHostKeyProvider(key);
        provider.setAlgorithm(KeyUtils.EC_ALGORITHM);
        provider.setKeySize(256);
        provider.loadKeys(null); // make it now, not on the first connection
        Files.setPosixFilePermissions(key, PosixFilePermissions.fromString("rw-------"));
        return provider;
    }

    public int port() {
        return ((InetSocketAddress) server.getBoundAddresses().iterator().next()).getPort();
    }

    @Override
    public void close() {
        sessions.close();
        try {
            server.stop(true);
        } catch (IOException e) {
            log.warn("stopping the SSH gateway: {}", e.toString());
        }
    }
}
