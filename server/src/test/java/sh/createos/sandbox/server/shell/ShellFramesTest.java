package sh.createos.sandbox.server.shell;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The /shell client framing (interactive-api.md §2.2), from the spec's example bytes. */
class ShellFramesTest {
    private final List<String> events = new ArrayList<>();
    private final ByteArrayOutputStream data = new ByteArrayOutputStream();
    private final ShellFrames.Sink sink = new ShellFrames.Sink() {
        @Override
        public void data(byte[] bytes, int off, int len) {
            data.write(bytes, off, len);
            events.add("data " + len);
        }

        @Override
        public void resize(int rows, int cols) {
            events.add("resize " + rows + "x" + cols);
        }
    };

    private void pump(String hex) throws IOException {
        ShellFrames.pump(new ByteArrayInputStream(HexFormat.of().parseHex(hex.replace(" ", ""))), sink);
    }

    @Test
    void theSpecsExampleBytesAreAResizeThenTyping() throws IOException {
        pump("01 00000004 0018 0050" + "00 00000003 6c730d" + "00 00000000" + "01 00000004 0032 0084");
        assertThat(events).containsExactly("resize 24x80", "data 3", "resize 50x132");
        assertThat(data.toString()).isEqualTo("ls\r");
    }

    @Test
    void unknownTypesAndOddResizesAreSkippedWhole() throws IOException {
        pump("07 00000002 ffff" + "01 00000002 0018" + "00 00000001 41");
        assertThat(events).containsExactly("data 1");
        assertThat(data.toString()).isEqualTo("A");
    }

    @Test
    void anOversizedOrCutOffFrameEndsTheSession() {
        assertThatThrownBy(() -> pump("00 00100001")).hasMessageContaining("over the 1048576 limit");
        assertThatThrownBy(() -> pump("00 00000005 6c73")).isInstanceOf(EOFException.class);
        assertThatThrownBy(() -> pump("01 0000")).isInstanceOf(EOFException.class);
    }
}
