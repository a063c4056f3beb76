package sh.createos.sandbox.server.disks;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import sh.createos.sandbox.host.agent.AgentClient;
import sh.createos.sandbox.host.agent.ExecRequest;
import sh.createos.sandbox.host.agent.ExecResult;
import sh.createos.sandbox.model.Disk;

/**
 * s3fs mounts in the guest, run through the agent's exec. s3fs (in the devbox image) rather than rclone: it is in
 * Debian and the kit already, it maps objects to files one to one (what a bucket written from the host expects),
 * and it uploads a file when it is closed, so a closed file is in the bucket. Each mount has
 * {@code /run/createos-disks/<key>.passwd} (0600 in a 0700 directory, root's: other guest users never read it),
 * a {@code .log} (what s3fs said) and a {@code .pid}. s3fs runs in the foreground of its own session, so it outlives
 * the exec that started it and its messages reach the log.
 */
final class GuestMounts {
    static final String DIR = "/run/createos-disks";

    /**
     * Args: mount path, key, then s3fs's arguments; env CREDS is the passwd line (unset before s3fs starts).
     * Exit 0 once a listing of the mount succeeded (s3fs checks the bucket at FUSE init, which the first access
     * waits for); 3 when the path is already a mount point; else 1 with what s3fs said on stderr.
     */
    private static final String MOUNT = """
            set -u
            mp=$1; key=$2; shift 2
            umask 077
            mkdir -p %1$s && chmod 700 %1$s || exit 1
            pw=%1$s/$key.passwd; log=%1$s/$key.log; pidf=%1$s/$key.pid
            if mountpoint -q "$mp" 2>/dev/null; then echo "$mp is already a mount point in the sandbox" >&2; exit 3; fi
            printf '%%s\\n' "$CREDS" > "$pw"; unset CREDS
            umask 022
            mkdir -p "$mp" || exit 1
            : > "$log"
            setsid s3fs "$@" "$mp" -f -o passwd_file="$pw" </dev/null >>"$log" 2>&1 &
            pid=$!; echo $pid > "$pidf"
            i=0
            while [ $i -lt 300 ]; do
              if ! kill -0 $pid 2>/dev/null; then umount -l "$mp" 2>/dev/null; cat "$log" >&2; exit 1; fi
              if mountpoint -q "$mp" 2>/dev/null; then
                if ls "$mp" >/dev/null 2>>"$log"; then exit 0; fi
                kill $pid 2>/dev/null; sleep 0.5; umount -l "$mp" 2>/dev/null; cat "$log" >&2; exit 1
              fi
              sleep 0.2; i=$((i+1))
            done
            kill $pid 2>/dev/null; umount -l "$mp" 2>/dev/null
            echo "s3fs did not mount $mp within 60 s" >&2; cat "$log" >&2; exit 1
            """.formatted(DIR);

    /**
     * Args: mount path, key, {@code force} or {@code keep}. Flushes and unmounts, then waits for s3fs to finish its
     * uploads and exit. With {@code keep}, a mount that a process still uses is unmounted lazily: it leaves the
     * file tree at once, and s3fs uploads the open files as they are closed, then exits. With {@code force} (the
     * sandbox is being destroyed) the processes holding files open there are stopped first (TERM twice, then KILL), so
     * their files are closed, hence uploaded. Exit 0 (also when nothing was mounted); 1 with the reason.
     */
    private static final String UNMOUNT = """
            set -u
            mp=$1; key=$2; mode=$3
            pidf=%1$s/$key.pid
            pid=$(cat "$pidf" 2>/dev/null || true)
            if [ "$mode" = force ] && mountpoint -q "$mp" 2>/dev/null; then
              for sig in TERM TERM KILL; do
                holders=$(find /proc/[0-9]*/fd -maxdepth 1 -lname "$mp/*" 2>/dev/null | cut -d/ -f3 | sort -u)
                [ -z "$holders" ] && break
                kill -s $sig $holders 2>/dev/null; sleep 1
              done
            fi
            if mountpoint -q "$mp" 2>/dev/null; then
              sync -f "$mp" 2>/dev/null || true
              if ! umount "$mp" 2>/tmp/.cs-umount.$$; then
                if grep -q busy /tmp/.cs-umount.$$; then
                  umount -l "$mp" || { rm -f /tmp/.cs-umount.$$; exit 1; }
                  echo lazy
                  pid=""
                else
                  cat /tmp/.cs-umount.$$ >&2; rm -f /tmp/.cs-umount.$$; exit 1
                fi
              fi
              rm -f /tmp/.cs-umount.$$
            fi
            if [ -n "$pid" ]; then
              i=0; while kill -0 "$pid" 2>/dev/null && [ $i -lt 600 ]; do sleep 0.1; i=$((i+1)); done
            fi
            rm -f %1$s/$key.passwd "$pidf"
            exit 0
            """.formatted(DIR);

    /** What a mount needs: the disk's config and keys, and where. */
    record Mount(Disk.Config config, Disk.Credentials credentials, String mountPath, String subPath) {}

    /** The outcome of an unmount: {@code lazy} when a process held a file open. */
    record Unmounted(boolean lazy) {}

    private GuestMounts() {}

    /** @throws MountException with the reason (from s3fs's own words) when it did not mount */
    static void mount(AgentClient agent, Mount m) throws IOException {
        List<String> argv = new ArrayList<>(List.of("sh", "-c", MOUNT, "sh", m.mountPath(), key(m.mountPath())));
        argv.addAll(s3fsArgs(m));
        String creds = m.credentials().accessKey() + ":" + m.credentials().secretKey();
        ExecResult r = agent.run(new ExecRequest(argv, Map.of("CREDS", creds), "/", "root", null, false));
        if (r.exitCode() == 3) {
            throw new MountException(r.stderr().strip(), true);
        }
        if (r.exitCode() != 0) {
            throw new MountException(MountFailure.explain(r.stderr()), false);
        }
    }

    /** True when the path is a mount point whose root lists (s3fs alive and the bucket answering). */
    static boolean healthy(AgentClient agent, String mountPath) throws IOException {
        return agent.run(new ExecRequest(List.of("sh", "-c", "mountpoint -q \"$1\" && ls \"$1\" >/dev/null", "sh",
                mountPath), Map.of(), "/", "root", null, false)).exitCode() == 0;
    }

    static Unmounted unmount(AgentClient agent, String mountPath) throws IOException {
        return unmount(agent, mountPath, false);
    }

    /** {@code force}: stop the processes that hold files open in the mount first (before a destroy). */
    static Unmounted unmount(AgentClient agent, String mountPath, boolean force) throws IOException {
        ExecResult r = agent.run(new ExecRequest(List.of("sh", "-c", UNMOUNT, "sh", mountPath, key(mountPath),
                force ? "force" : "keep"),
                Map.of(), "/", "root", null, false));
        if (r.exitCode() != 0) {
            throw new IOException("unmounting " + mountPath + " in the sandbox failed (exit " + r.exitCode() + "): "
                    + r.stderr().strip());
        }
        return new Unmounted(r.stdout().contains("lazy"));
    }

    static List<String> s3fsArgs(Mount m) {
        Disk.Config c = m.config();
        String source = c.bucket() + (m.subPath() == null || m.subPath().isEmpty() ? "" : ":/" + m.subPath());
        List<String> options = new ArrayList<>(List.of("url=" + c.endpoint(), "allow_other", "umask=0000",
                "retries=2", "connect_timeout=10", "readwrite_timeout=30", "dbglevel=err"));
        if (c.region() != null && !c.region().isEmpty()) {
            options.add("endpoint=" + c.region());
        }
        if (Boolean.TRUE.equals(c.usePathStyle())) {
            options.add("use_path_request_style");
        }
        return List.of(source, "-o", String.join(",", options));
    }

    /** A file-name-safe key per mount path. */
    static String key(String mountPath) {
        try {
            byte[] digest = MessageDigest.getInstance("SHA-256").digest(mountPath.getBytes(StandardCharsets.UTF_8));
            return HexFormat.of().formatHex(digest, 0, 8);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    /** A mount that did not happen; {@code pathInUse} when something is already mounted there in the guest. */
    static final class MountException extends IOException {
        final boolean pathInUse;

        MountException(String message, boolean pathInUse) {
            super(message);
            this.pathInUse = pathInUse;
        }
    }
}
