package sh.createos.sandbox.host.agent;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.EOFException;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import org.junit.jupiter.api.Test;

class FrameCodecTest {

    @Test
    void headerIsBigEndianStreamTypeChannelLength() throws Exception {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        new FrameWriter(bytes).write(0x01020304, Frame.DATA, Frame.STDERR, "hey".getBytes(StandardCharsets.UTF_8));
        assertThat(bytes.toByteArray()).containsExactly(1, 2, 3, 4, 4, 2, 0, 0, 0, 3, 'h', 'e', 'y');
    }

    @Test
    void framesRoundTripIncludingEmptyAndMaximalPayloads() throws Exception {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        FrameWriter writer = new FrameWriter(bytes);
        byte[] big = new byte[Frame.MAX_PAYLOAD];
        Arrays.fill(big, (byte) 7);
        writer.write(1, Frame.OPEN, 0, "{\"op\":\"ping\"}".getBytes(StandardCharsets.UTF_8));
        writer.write(2, Frame.EOF, Frame.STDIN, new byte[0]);
        writer.write(0xffff_ffff, Frame.DATA, Frame.STDOUT, big);

        FrameReader reader = new FrameReader(new ByteArrayInputStream(bytes.toByteArray()));
        Frame open = reader.read();
        assertThat(open.stream()).isEqualTo(1);
        assertThat(open.type()).isEqualTo(Frame.OPEN);
        assertThat(new String(open.payload(), StandardCharsets.UTF_8)).isEqualTo("{\"op\":\"ping\"}");
        Frame eof = reader.read();
        assertThat(eof.type()).isEqualTo(Frame.EOF);
        assertThat(eof.payload()).isEmpty();
        Frame data = reader.read();
        assertThat(Integer.toUnsignedLong(data.stream())).isEqualTo(0xffff_ffffL);
        assertThat(data.channel()).isEqualTo(Frame.STDOUT);
        assertThat(data.payload()).isEqualTo(big);
        assertThat(reader.read()).isNull();
    }

    @Test
    void oversizedFrameIsAProtocolError() {
        byte[] header = {0, 0, 0, 1, Frame.DATA, 1, 0, 1, 0, 1}; // 65 537 bytes announced
        assertThatThrownBy(() -> new FrameReader(new ByteArrayInputStream(header)).read())
                .isInstanceOf(ProtocolException.class)
                .hasMessageContaining("65537");
    }

    @Test
    void truncatedFrameIsAnError() {
        byte[] partial = {0, 0, 0, 1, Frame.DATA, 1, 0, 0, 0, 5, 'a', 'b'};
        assertThatThrownBy(() -> new FrameReader(new ByteArrayInputStream(partial)).read())
                .isInstanceOf(EOFException.class)
                .hasMessageContaining("middle of a frame");
    }

    @Test
    void writerRejectsPayloadsBeyondTheLimit() {
        FrameWriter writer = new FrameWriter(new ByteArrayOutputStream());
        assertThatThrownBy(() -> writer.write(1, Frame.DATA, 0, new byte[Frame.MAX_PAYLOAD + 1]))
                .isInstanceOf(IllegalArgumentException.class);
    }
}
