package sh.createos.sandbox.cli.sync;

import java.io.IOException;
import java.io.InputStream;
import java.time.LocalDateTime;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.TreeMap;
import java.util.TreeSet;
import sh.createos.sandbox.cli.Progress;

/**
 * Reconciles the two trees against the last state both agreed on (the base), one round at a time: a side that
 * still matches the base takes the other side's change; when both changed, a modification beats a delete, and two
 * different contents are a conflict: the sandbox's version moves aside to a {@code .sync-conflict-…} name and both
 * copies are then carried to both sides. A rename is carried as a rename when a created path has the content of a
 * deleted one. {@code push} and {@code pull} make one side a copy of the other instead.
 */
public final class SyncEngine {
    public enum Mode { TWO_WAY, PUSH, PULL }

    /** Where the engine reports what it did. */
    public interface Events {
        void event(String kind, Map<String, Object> fields);
    }

    private static final DateTimeFormatter STAMP = DateTimeFormatter.ofPattern("yyyyMMdd-HHmmss");

    private final LocalTree local;
    private final RemoteTree remote;
    private final Mode mode;
    private final Events events;
    /** Path → content ("dir" or a hash) both sides last agreed on. */
    private final Map<String, String> base = new HashMap<>();

    public SyncEngine(LocalTree local, RemoteTree remote, Mode mode, Events events) {
        this.local = local;
        this.remote = remote;
        this.mode = mode;
        this.events = events;
    }

    /** The agreed state, to persist between runs (a restart then tells one-sided changes from conflicts). */
    public Map<String, String> base() {
        return Map.copyOf(base);
    }

    public void restore(Map<String, String> saved) {
        base.clear();
        base.putAll(saved);
    }

    /** What one round decided for the sandbox side and the local side. */
    private static final class Plan {
        final TreeSet<String> remoteMkdir = new TreeSet<>();
        final Map<String, String> remoteMove = new LinkedHashMap<>();
        final TreeSet<String> remoteReplace = new TreeSet<>();
        final TreeMap<String, String> upload = new TreeMap<>();
        final TreeSet<String> remoteDelete = new TreeSet<>(Comparator.reverseOrder());
        final TreeSet<String> localMkdir = new TreeSet<>();
        final Map<String, String> localMove = new LinkedHashMap<>();
        final TreeMap<String, String> download = new TreeMap<>();
        final TreeSet<String> localDelete = new TreeSet<>(Comparator.reverseOrder());
        final List<String[]> conflicts = new ArrayList<>();

        int size() {
            return remoteMkdir.size() + remoteMove.size() + upload.size() + remoteDelete.size() + localMkdir.size()
                    + localMove.size() + download.size() + localDelete.size() + conflicts.size();
        }
    }

    /** Scans both sides and carries every difference; returns how many changes it made (0: in sync). */
    public int round() throws IOException {
        TreeMap<String, Entry> l = local.scan();
        TreeMap<String, Entry> r = remote.scan(local.rules());
        for (String s : local.symlinks) {
            events.event("skipped", Map.of("path", s, "reason", "symbolic link"));
        }
        local.symlinks.clear();
        TreeSet<String> paths = new TreeSet<>(l.keySet());
        paths.addAll(r.keySet());
        paths.addAll(base.keySet());
        Plan plan = new Plan();
        String skipUnder = null;
        for (String p : paths) {
            if (skipUnder != null && p.startsWith(skipUnder)) {
                continue; // under a conflict moved aside this round: the next round sees the new layout
            }
            Entry le = l.get(p);
            Entry re = r.get(p);
            String lc = le == null ? null : le.content();
            String rc = re == null ? null : re.content();
            String bc = base.get(p);
            if (Objects.equals(lc, rc)) {
                if (lc == null) {
                    base.remove(p);
                } else {
                    base.put(p, lc);
                }
                continue;
            }
            if (mode == Mode.PUSH) {
                toRemote(plan, p, le, re);
            } else if (mode == Mode.PULL) {
                toLocal(plan, p, le, re);
            } else if (Objects.equals(lc, bc)) {
                toLocal(plan, p, le, re);
            } else if (Objects.equals(rc, bc)) {
                toRemote(plan, p, le, re);
            } else if (lc == null) {
                toLocal(plan, p, le, re);
                plan.conflicts.add(new String[] {p, null, "deleted here, changed in the sandbox: kept the sandbox's"});
            } else if (rc == null) {
                toRemote(plan, p, le, re);
                plan.conflicts.add(new String[] {p, null, "deleted in the sandbox, changed here: kept the local one"});
            } else {
                String copy = conflictName(p);
                plan.remoteMove.put(p, copy);
                base.remove(p);
                plan.conflicts.add(new String[] {p, copy, "changed on both sides: the local one stays at the path, "
                        + "the sandbox's is the copy (on both sides)"});
                skipUnder = p + "/";
            }
        }
        pairRenames(plan, l, r);
        apply(plan, l, r);
        return plan.size();
    }

    private void toRemote(Plan plan, String p, Entry le, Entry re) {
        if (le == null) {
            plan.remoteDelete.add(p);
            return;
        }
        if (re != null && re.dir() != le.dir()) {
            plan.remoteReplace.add(p);
        }
        if (le.dir()) {
            plan.remoteMkdir.add(p);
        } else {
            plan.upload.put(p, le.hash());
        }
    }

    private void toLocal(Plan plan, String p, Entry le, Entry re) {
        if (re == null) {
            plan.localDelete.add(p);
            return;
        }
        if (le != null && le.dir() != re.dir()) {
            plan.localDelete.add(p);
        }
        if (re.dir()) {
            plan.localMkdir.add(p);
        } else {
            plan.download.put(p, re.hash());
        }
    }

    /** A created file whose content a deleted file had is a rename: carried as one, not as a copy and a delete. */
    private static void pairRenames(Plan plan, Map<String, Entry> l, Map<String, Entry> r) {
        for (var it = plan.upload.entrySet().iterator(); it.hasNext(); ) {
            var up = it.next();
            for (String gone : plan.remoteDelete) {
                Entry old = r.get(gone);
                if (old != null && !old.dir() && old.hash().equals(up.getValue())
                        && !plan.remoteMove.containsKey(gone) && !plan.remoteReplace.contains(up.getKey())) {
                    plan.remoteMove.put(gone, up.getKey());
                    plan.remoteDelete.remove(gone);
                    it.remove();
                    break;
                }
            }
        }
        for (var it = plan.download.entrySet().iterator(); it.hasNext(); ) {
            var down = it.next();
            for (String gone : plan.localDelete) {
                Entry old = l.get(gone);
                if (old != null && !old.dir() && old.hash().equals(down.getValue()) && !plan.localMove.containsKey(gone)
                        && !plan.localDelete.contains(down.getKey())) {
                    plan.localMove.put(gone, down.getKey());
                    plan.localDelete.remove(gone);
                    it.remove();
                    break;
                }
            }
        }
    }

    private void apply(Plan plan, Map<String, Entry> l, Map<String, Entry> r) throws IOException {
        // The sandbox first: replacements, directories, moves (renames and conflict copies) in one exec…
        List<String> ops = new ArrayList<>();
        plan.remoteReplace.forEach(p -> ops.addAll(List.of("rmrf", p)));
        plan.remoteMkdir.forEach(p -> ops.addAll(List.of("mkdir", p)));
        plan.remoteMove.forEach((from, to) -> ops.addAll(List.of("mv", from, to)));
        remote.apply(ops);
        plan.remoteMkdir.forEach(p -> {
            base.put(p, Entry.DIR);
            events.event("mkdir_remote", Map.of("path", p));
        });
        for (String[] c : plan.conflicts) {
            Map<String, Object> f = new LinkedHashMap<>();
            f.put("path", c[0]);
            if (c[1] != null) {
                f.put("copy", c[1]);
            }
            f.put("resolution", c[2]);
            events.event("conflict", f);
        }
        plan.remoteMove.forEach((from, to) -> {
            if (plan.conflicts.stream().noneMatch(c -> c[0].equals(from))) {
                base.remove(from);
                base.put(to, r.get(from).content());
                events.event("rename_remote", Map.of("from", from, "to", to));
            }
        });
        // …then the uploads, one streamed PUT each…
        for (var up : plan.upload.entrySet()) {
            remote.upload(up.getKey(), local.path(up.getKey()));
            base.put(up.getKey(), up.getValue());
            events.event("upload", Map.of("path", up.getKey(), "bytes", l.get(up.getKey()).size()));
        }
        // …and the deletes, files before their directories, in one more exec.
        List<String> deletes = new ArrayList<>();
        for (String p : plan.remoteDelete) {
            Entry e = r.get(p);
            deletes.addAll(List.of(e != null && e.dir() ? "rmdir" : "rm", p));
        }
        remote.apply(deletes);
        plan.remoteDelete.forEach(p -> {
            base.remove(p);
            events.event("delete_remote", Map.of("path", p));
        });

        // The local side, each write checked against what the plan saw (a file edited meanwhile waits a round).
        for (String p : plan.localMkdir) {
            local.mkdir(p);
            base.put(p, Entry.DIR);
            events.event("mkdir_local", Map.of("path", p));
        }
        for (var mv : plan.localMove.entrySet()) {
            if (unchanged(mv.getKey(), l)) {
                local.move(mv.getKey(), mv.getValue());
                base.remove(mv.getKey());
                base.put(mv.getValue(), l.get(mv.getKey()).content());
                events.event("rename_local", Map.of("from", mv.getKey(), "to", mv.getValue()));
            }
        }
        for (var down : plan.download.entrySet()) {
            String p = down.getKey();
            if (!unchanged(p, l)) {
                continue;
            }
            if (l.get(p) != null && l.get(p).dir()) {
                deleteTree(p);
            }
            long size = r.get(p).size();
            try (Progress bar = new Progress("sync " + p, size >= (1 << 20) ? size : 0);
                 InputStream in = remote.download(p, bar)) {
                local.write(p, in);
            }
            base.put(p, down.getValue());
            events.event("download", Map.of("path", p, "bytes", r.get(p).size()));
        }
        for (String p : plan.localDelete) {
            if (plan.download.containsKey(p) || plan.localMkdir.contains(p)) {
                continue; // a type change, done above
            }
            if (unchanged(p, l)) {
                local.delete(p);
                base.remove(p);
                events.event("delete_local", Map.of("path", p));
            }
        }
    }

    /** Whether the local path still holds what the round's scan saw. */
    private boolean unchanged(String p, Map<String, Entry> l) throws IOException {
        Entry now = local.current(p);
        Entry seen = l.get(p);
        return Objects.equals(now == null ? null : now.content(), seen == null ? null : seen.content());
    }

    private void deleteTree(String p) throws IOException {
        try (var walk = java.nio.file.Files.walk(local.path(p))) {
            for (var f : walk.sorted(Comparator.reverseOrder()).toList()) {
                java.nio.file.Files.delete(f);
            }
        }
    }

    static String conflictName(String p) {
        int slash = p.lastIndexOf('/');
        String dir = p.substring(0, slash + 1);
        String name = p.substring(slash + 1);
        int dot = name.lastIndexOf('.');
        String stem = dot > 0 ? name.substring(0, dot) : name;
        String ext = dot > 0 ? name.substring(dot) : "";
        return dir + stem + ".sync-conflict-" + LocalDateTime.now().format(STAMP) + "-sandbox" + ext;
    }
}
