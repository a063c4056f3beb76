package sh.createos.sandbox.cli.sync;

import java.io.InputStream;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import sh.createos.sandbox.cli.CliException;
import sh.createos.sandbox.cli.ExitCodes;
import sh.createos.sandbox.cli.Progress;
import sh.createos.sandbox.sdk.ExecEvent;
import sh.createos.sandbox.sdk.ExecRequest;
import sh.createos.sandbox.sdk.ExecResult;
import sh.createos.sandbox.sdk.ExecStream;
import sh.createos.sandbox.sdk.Sandbox;

/**
 * The sandbox side, through the REST API only: listings and hashes by exec of the guest's find and sha256sum,
 * content by the files API, and a change feed from a streamed exec that lists the tree a few times a second and
 * prints a line only when the listing's checksum moved (the server kills it when this client goes away).
 */
public final class RemoteTree {
    /** find's record: type, size, mtime, inode, path; NUL-terminated so any file name survives. */
    private static final String FIND = "find . -mindepth 1 -printf '%y %s %T@ %i %P\\0'";
    private static final String LIST = "mkdir -p -- \"$1\" && cd -- \"$1\" && " + FIND;
    private static final String HASH = "cd -- \"$1\" || exit 3; shift; for f; do "
            + "if [ -f \"$f\" ] && [ ! -L \"$f\" ]; then h=$(sha256sum < \"$f\") && echo \"${h%% *}\" || echo -; "
            + "else echo -; fi; done";
    private static final String WATCH = "mkdir -p -- \"$1\" && cd -- \"$1\" || exit 3; o=; while :; do "
            + "n=$(" + FIND + " 2>/dev/null | cksum); [ \"$n\" != \"$o\" ] && { echo changed; o=$n; }; "
            + "sleep 0.3; done";
    private static final String OPS = "cd -- \"$1\" || exit 3; shift; rc=0; while [ $# -gt 0 ]; do case $1 in "
            + "rm) rm -f -- \"$2\" || rc=1; shift 2;; "
            + "rmrf) rm -rf -- \"$2\" || rc=1; shift 2;; "
            + "rmdir) rmdir -- \"$2\" 2>/dev/null; shift 2;; "
            + "mkdir) mkdir -p -- \"$2\" || rc=1; shift 2;; "
            + "mv) mkdir -p -- \"$(dirname -- \"$3\")\" && mv -f -- \"$2\" \"$3\" || rc=1; shift 3;; "
            + "*) echo \"bad op $1\" >&2; exit 2;; esac; done; exit $rc";
    private static final int HASH_BATCH = 400;

    private final Sandbox sandbox;
    private final String root;
    private final Map<String, Entry> hashCache = new HashMap<>();

    public RemoteTree(Sandbox sandbox, String root) {
        this.sandbox = sandbox;
        this.root = root;
    }

    public String root() {
        return root;
    }

    String path(String rel) {
        return root.endsWith("/") ? root + rel : root + "/" + rel;
    }

    /** The tree now: one exec for the listing, one more for the hashes of the files whose stamp moved. */
    public TreeMap<String, Entry> scan(IgnoreRules rules) {
        ExecResult r = sh(LIST, List.of(root));
        TreeMap<String, Entry> out = new TreeMap<>();
        List<String> toHash = new ArrayList<>();
        Map<String, String> stamps = new HashMap<>();
        for (String rec : r.stdout().split("\0")) {
            if (rec.isEmpty()) {
                continue;
            }
            String[] f = rec.split(" ", 5);
            if (f.length < 5 || f[4].isEmpty()) {
                continue;
            }
            String rel = f[4];
            boolean dir = f[0].equals("d");
            if (!dir && !f[0].equals("f")) {
                continue; // symlinks, sockets, devices: not carried
            }
            if (rules.ignored(rel, dir)) {
                continue;
            }
            if (dir) {
                out.put(rel, Entry.directory());
                continue;
            }
            String stamp = f[1] + ":" + f[2] + ":" + f[3];
            Entry cached = hashCache.get(rel);
            if (cached != null && cached.stamp().equals(stamp)) {
                out.put(rel, cached);
            } else {
                toHash.add(rel);
                stamps.put(rel, stamp);
            }
        }
        for (int i = 0; i < toHash.size(); i += HASH_BATCH) {
            List<String> batch = toHash.subList(i, Math.min(toHash.size(), i + HASH_BATCH));
            List<String> args = new ArrayList<>();
            args.add(root);
            args.addAll(batch);
            String[] hashes = sh(HASH, args).stdout().split("\n");
            for (int j = 0; j < batch.size(); j++) {
                String h = j < hashes.length ? hashes[j].trim() : "-";
                if (h.equals("-") || h.isEmpty()) {
                    continue; // gone between the listing and the hash: absent for this round
                }
                String rel = batch.get(j);
                String stamp = stamps.get(rel);
                Entry e = new Entry(false, Long.parseLong(stamp.substring(0, stamp.indexOf(':'))), stamp, h);
                hashCache.put(rel, e);
                out.put(rel, e);
            }
        }
        hashCache.keySet().retainAll(out.keySet());
        return out;
    }

    /** The content of a file; {@code bar} (may be off) counts the bytes. */
    InputStream download(String rel, Progress bar) {
        return bar.wrap(sandbox.files().download(path(rel)));
    }

    void upload(String rel, Path local) throws java.io.IOException {
        long size = java.nio.file.Files.size(local);
        if (!Progress.stderrIsTerminal() || size < (1 << 20)) {
            sandbox.files().upload(path(rel), local);
            return;
        }
        try (Progress bar = new Progress("sync " + rel, size);
             InputStream in = bar.wrap(java.nio.file.Files.newInputStream(local))) {
            sandbox.files().upload(path(rel), in);
        }
    }

    /** Runs a batch of {@code rm|rmdir|mkdir PATH} and {@code mv FROM TO} in one exec. */
    void apply(List<String> ops) {
        if (ops.isEmpty()) {
            return;
        }
        List<String> args = new ArrayList<>();
        args.add(root);
        args.addAll(ops);
        sh(OPS, args);
    }

    /**
     * Calls {@code onChange} each time the remote tree changes, until the stream ends (returns) or the thread is
     * interrupted.
     */
    public void watch(Runnable onChange) {
        List<String> argv = new ArrayList<>(List.of("-c", WATCH, "sh", root));
        try (ExecStream stream = sandbox.streamCommand(ExecRequest.builder("sh").args(argv).build())) {
            for (ExecEvent e : stream) {
                if (e instanceof ExecEvent.Stdout o && o.data().contains("changed")) {
                    onChange.run();
                } else if (e instanceof ExecEvent.Exit || e instanceof ExecEvent.Error) {
                    return;
                }
            }
        }
    }

    private ExecResult sh(String script, List<String> args) {
        List<String> argv = new ArrayList<>(List.of("-c", script, "sh"));
        argv.addAll(args);
        ExecResult r = sandbox.runCommand("sh", argv);
        if (r.exitCode() != 0) {
            throw new CliException(r.exitCode() == 3 ? ExitCodes.NOT_FOUND : ExitCodes.FAILURE,
                    "in the sandbox, sh -c '" + script.substring(0, Math.min(60, script.length())) + "…' exited "
                            + r.exitCode() + ": " + r.stderr().trim());
        }
        return r;
    }
}
