package sh.createos.sandbox.host.agent;

import java.io.Closeable;
import java.io.IOException;
import java.io.InputStream;

/** A file streaming from the guest; closing it before the end aborts the transfer. */
public record FileDownload(long size, int mode, InputStream content) implements Closeable {
    @Override
    public void close() throws IOException {
        content.close();
    }
}
