package sh.createos.sandbox.model;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.core.JsonProcessingException;
import java.util.List;
import org.junit.jupiter.api.Test;

class JsonTest {
    private final com.fasterxml.jackson.databind.ObjectMapper json = Json.mapper();

    @Test
    void sandboxViewOmitsUnsetOptionalsAndUsesSnakeCase() throws Exception {
        SandboxView view = new SandboxView("sb_1", SandboxStatus.RUNNING, "10.0.0.2", 1, 256, 10240,
                "2024-01-01T00:00:00Z", false, null, null, null, null, null, null, null, null, List.of(), null,
                null, null, null, null, null, null, null);
        assertThat(json.writeValueAsString(view)).isEqualTo(
                "{\"id\":\"sb_1\",\"status\":\"running\",\"ip\":\"10.0.0.2\",\"vcpu\":1,\"mem_mib\":256,"
                        + "\"disk_mib\":10240,\"created_at\":\"2024-01-01T00:00:00Z\",\"ingress_enabled\":false,"
                        + "\"egress\":[]}");
    }

    @Test
    void envelopesHaveTheJSendShapes() throws Exception {
        assertThat(json.writeValueAsString(Envelope.success(new Probes.Healthz(true))))
                .isEqualTo("{\"status\":\"success\",\"data\":{\"up\":true}}");
        assertThat(json.writeValueAsString(Envelope.error("disks API not configured", 503)))
                .isEqualTo("{\"status\":\"error\",\"message\":\"disks API not configured\",\"code\":503}");
        assertThat(json.writeValueAsString(Envelope.success(Page.of(List.of("a"), 3, 500, 0))))
                .isEqualTo("{\"status\":\"success\",\"data\":{\"data\":[\"a\"],"
                        + "\"pagination\":{\"total\":3,\"limit\":500,\"offset\":0,\"count\":1}}}");
        assertThat(json.writeValueAsString(new RootfsData(List.of("devbox:1"), "devbox:1", null)))
                .isEqualTo("{\"rootfs\":[\"devbox:1\"],\"default\":\"devbox:1\"}");
    }

    @Test
    void streamFramesCarryOnlyTheirKey() throws Exception {
        assertThat(json.writeValueAsString(ExecStreamFrame.exit(0))).isEqualTo("{\"exit_code\":0}");
        assertThat(json.writeValueAsString(ExecStreamFrame.heartbeat())).isEqualTo("{\"hb\":true}");
        assertThat(json.writeValueAsString(ExecStreamFrame.stdout("a\nb"))).isEqualTo("{\"stdout\":\"a\\nb\"}");
    }

    @Test
    void createRequestReadsSnakeCaseAndIgnoresUnknownFields() throws Exception {
        CreateSandboxRequest req = json.readValue(
                "{\"shape\":\"s-1vcpu-256mb\",\"disk_mib\":2048,\"envs\":{\"A\":\"1\"},\"future\":[1]}",
                CreateSandboxRequest.class);
        assertThat(req.shape()).isEqualTo("s-1vcpu-256mb");
        assertThat(req.diskMib()).isEqualTo(2048);
        assertThat(req.envs()).containsEntry("A", "1");
        assertThat(req.rootfs()).isNull();
    }

    @Test
    void wrongTypesAreRejectedNotCoerced() {
        assertThatThrownBy(() -> json.readValue("{\"shape\":5}", CreateSandboxRequest.class))
                .isInstanceOf(JsonProcessingException.class);
        assertThatThrownBy(() -> json.readValue("{\"disk_mib\":\"5\"}", CreateSandboxRequest.class))
                .isInstanceOf(JsonProcessingException.class);
        assertThatThrownBy(() -> json.readValue("{\"disk_mib\":1.5}", CreateSandboxRequest.class))
                .isInstanceOf(JsonProcessingException.class);
        assertThatThrownBy(() -> json.readValue("{\"ingress_enabled\":1}", PatchSandboxRequest.class))
                .isInstanceOf(JsonProcessingException.class);
        assertThatThrownBy(() -> json.readValue("{\"cmd\":\"ls\"} x", ExecRequest.class))
                .isInstanceOf(JsonProcessingException.class);
    }

    @Test
    void statusParsesOnlySpecValues() {
        assertThat(SandboxStatus.fromWire("destroyed")).isEqualTo(SandboxStatus.DESTROYED);
        assertThatThrownBy(() -> SandboxStatus.fromWire("RUNNING")).isInstanceOf(IllegalArgumentException.class);
    }
}
