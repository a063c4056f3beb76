package sh.createos.sandbox.server.remote;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.grpc.CallOptions;
import io.grpc.ChannelCredentials;
import io.grpc.ClientInterceptors;
import io.grpc.InsecureChannelCredentials;
import io.grpc.ManagedChannel;
import io.grpc.Metadata;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.TlsChannelCredentials;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.grpc.stub.ClientCalls;
import io.grpc.stub.MetadataUtils;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import sh.createos.sandbox.hostrpc.Empty;
import sh.createos.sandbox.hostrpc.HostInfo;
import sh.createos.sandbox.hostrpc.HostRpc;
import sh.createos.sandbox.model.ErrorCode;
import sh.createos.sandbox.server.DomainException;
import sh.createos.sandbox.server.host.LocalHost;

/**
 * The host RPC's mutual TLS against a real daemon (certificates made by {@link HostPki} with openssl): the control
 * plane's certificate gets through; no certificate, one from another CA, a host's own certificate (one daemon
 * calling another), plaintext and a daemon whose certificate names another host id are all refused. No VM: the
 * daemon serves a data directory without a guest kit, and {@code Info} answers anyway.
 */
class HostTlsTest {
    private static final String TOKEN = "t0k3n";

    @TempDir
    static Path dir;
    private static HostPki pki;
    private static HostPki otherPki;
    private static LocalHost local;
    private static HostDaemon daemon;

    @BeforeAll
    static void daemon() throws Exception {
        pki = HostPki.open(dir.resolve("pki"));
        otherPki = HostPki.open(dir.resolve("other-pki"));
        local = LocalHost.open(dir.resolve("machine"), null);
        daemon = HostDaemon.start(local, new HostDaemon.Config("h1", new InetSocketAddress("127.0.0.1", 0), TOKEN,
                pki.issueHost("h1", List.of("127.0.0.1"), dir.resolve("h1")), Map.of("zone", "eu-1")));
    }

    @AfterAll
    static void stop() {
        daemon.close();
        local.detachAll();
    }

    /** The status of an {@code Info} call with {@code credentials} (and the right token), or OK with its answer. */
    private static Status info(ChannelCredentials credentials, String authority) throws InterruptedException {
        ManagedChannel channel = NettyChannelBuilder.forAddress("127.0.0.1", daemon.port(), credentials)
                .overrideAuthority(authority).build();
        try {
            Metadata headers = new Metadata();
            headers.put(HostRpc.AUTHORIZATION, "Bearer " + TOKEN);
            HostInfo info = ClientCalls.blockingUnaryCall(ClientInterceptors.intercept(channel,
                    MetadataUtils.newAttachHeadersInterceptor(headers)), HostRpc.INFO,
                    CallOptions.DEFAULT.withDeadlineAfter(60, TimeUnit.SECONDS), Empty.getDefaultInstance());
            assertThat(info.getId()).isEqualTo("h1");
            return Status.OK;
        } catch (StatusRuntimeException e) {
            return e.getStatus();
        } finally {
            channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
        }
    }

    private static ChannelCredentials presenting(HostTls own, Path trusted) throws Exception {
        return TlsChannelCredentials.newBuilder().keyManager(own.cert().toFile(), own.key().toFile())
                .trustManager(trusted.toFile()).build();
    }

    @Test
    void theControlPlanesCertificateGetsThrough() throws Exception {
        assertThat(info(pki.controlPlane().client(), "h1").getCode()).isEqualTo(Status.Code.OK);
        try (RemoteHost remote = RemoteHost.connect("h1", "127.0.0.1", daemon.port(), TOKEN, pki.controlPlane())) {
            assertThat(remote.view().status()).as("reachable; no kit, so not active").isEqualTo("dead");
            assertThat(remote.problem()).hasValueSatisfying(p -> assertThat(p).doesNotContain("does not answer"));
            assertThat(remote.labels()).isEqualTo(Map.of("zone", "eu-1"));
        }
    }

    @Test
    void aClientWithoutACertificateIsRefusedInTheHandshake() throws Exception {
        Status status = info(TlsChannelCredentials.newBuilder().trustManager(pki.controlPlane().ca().toFile()).build(),
                "h1");
        assertThat(status.getCode()).as(status.toString()).isEqualTo(Status.Code.UNAVAILABLE);
    }

    @Test
    void aCertificateFromAnotherCaIsRefused() throws Exception {
        Status status = info(presenting(otherPki.controlPlane(), pki.controlPlane().ca()), "h1");
        assertThat(status.getCode()).as(status.toString()).isEqualTo(Status.Code.UNAVAILABLE);
    }

    @Test
    void aHostDaemonsCertificateFromTheSameCaMayNotCallAnotherDaemon() throws Exception {
        HostTls h2 = pki.issueHost("h2", List.of(), dir.resolve("h2"));
        Status status = info(presenting(h2, pki.controlPlane().ca()), "h1");
        assertThat(status.getCode()).as(status.toString()).isEqualTo(Status.Code.PERMISSION_DENIED);
        assertThat(status.getDescription()).contains(HostPki.CONTROL_PLANE);
    }

    @Test
    void plaintextIsRefused() throws Exception {
        Status status = info(InsecureChannelCredentials.create(), "h1");
        assertThat(status.getCode()).as(status.toString()).isEqualTo(Status.Code.UNAVAILABLE);
    }

    @Test
    void theControlPlaneRefusesADaemonWhoseCertificateNamesAnotherHost() throws Exception {
        // h1's daemon dialled as if it were h2: its certificate does not say h2, so nothing is sent to it.
        Status status = info(pki.controlPlane().client(), "h2");
        assertThat(status.getCode()).as(status.toString()).isEqualTo(Status.Code.UNAVAILABLE);
        try (RemoteHost impostor = RemoteHost.connect("h2", "127.0.0.1", daemon.port(), TOKEN, pki.controlPlane())) {
            assertThatThrownBy(() -> impostor.isRunning("sb_x")).isInstanceOfSatisfying(DomainException.class,
                    e -> assertThat(e.errorCode()).isEqualTo(ErrorCode.HOST_UNREACHABLE));
        }
    }

    @Test
    void plaintextIsAllowedOnLoopbackOnlyAndOnlyWhenAskedFor() {
        assertThatThrownBy(() -> new HostDaemon.Config("h1", new InetSocketAddress("0.0.0.0", 0), TOKEN, null,
                Map.of())).isInstanceOf(IllegalArgumentException.class).hasMessageContaining("mutual TLS");
        assertThatThrownBy(() -> RemoteHost.connectPlaintextOnLoopback("h1", "192.0.2.1", 7070, TOKEN))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("loopback");
    }

    @Test
    void theKeysArePrivate() throws Exception {
        for (Path key : List.of(dir.resolve("pki").resolve(HostPki.CA_KEY), pki.controlPlane().key(),
                dir.resolve("h1").resolve(HostPki.HOST_KEY))) {
            assertThat(java.nio.file.Files.getPosixFilePermissions(key))
                    .containsExactlyInAnyOrder(java.nio.file.attribute.PosixFilePermission.OWNER_READ,
                            java.nio.file.attribute.PosixFilePermission.OWNER_WRITE);
        }
        assertThat(HostPki.canSign(dir.resolve("h1"))).as("a host's bundle holds no CA key").isFalse();
    }
}
