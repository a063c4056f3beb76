package sh.createos.sandbox.server.disks;

import java.util.List;
import java.util.Locale;
import java.util.regex.Pattern;

/** Why a mount failed, in the three words the spec names, read from what s3fs (or the bucket check) said. */
final class MountFailure {
    static final String BAD_CREDENTIALS = "bad credentials";
    static final String UNKNOWN_BUCKET = "unknown bucket";
    static final String UNREACHABLE = "endpoint unreachable";
    private static final Pattern S3FS_PREFIX = Pattern.compile("^\\S+ \\[\\w+\\] \\S+?\\(\\d+\\): ");

    private MountFailure() {}

    /** {@code "<reason>: <the last lines s3fs wrote>"}; the reason is left out when the output names none. */
    static String explain(String s3fsOutput) {
        String text = s3fsOutput == null ? "" : s3fsOutput.strip();
        String lower = text.toLowerCase(Locale.ROOT);
        String reason = null;
        if (containsAny(lower, "invalid credentials", "accessdenied", "access denied", "signaturedoesnotmatch",
                "invalidaccesskeyid", "403", "forbidden")) {
            reason = BAD_CREDENTIALS;
        } else if (containsAny(lower, "bucket not found", "nosuchbucket", "404", "not found")) {
            reason = UNKNOWN_BUCKET;
        } else if (containsAny(lower, "couldnt_connect", "could not connect", "couldn't connect", "connection refused",
                "couldnt_resolve", "resolve host", "timed out", "timeout", "operation_timedout", "unable to connect",
                "no route", "network is unreachable", "curle_")) {
            reason = UNREACHABLE;
        }
        List<String> lines = text.lines().filter(l -> !l.isBlank()).toList();
        // s3fs's own verdicts ("2026-… [CRT] s3fs.cpp:s3fs_check_service(3590): invalid credentials(…)") say it best;
        // the XML of the S3 error around them does not.
        List<String> verdicts = lines.stream().filter(l -> l.contains("[CRT]") || l.contains("[ERR]"))
                .map(l -> S3FS_PREFIX.matcher(l).replaceFirst("")).toList();
        if (!verdicts.isEmpty()) {
            lines = verdicts;
        }
        String tail = String.join(" | ", lines.subList(Math.max(0, lines.size() - 3), lines.size()));
        if (tail.length() > 500) {
            tail = tail.substring(tail.length() - 500);
        }
        if (reason == null) {
            return tail.isEmpty() ? "s3fs exited without a message" : tail;
        }
        return tail.isEmpty() ? reason : reason + ": " + tail;
    }

    private static boolean containsAny(String text, String... needles) {
        for (String needle : needles) {
            if (text.contains(needle)) {
                return true;
            }
        }
        return false;
    }
}
