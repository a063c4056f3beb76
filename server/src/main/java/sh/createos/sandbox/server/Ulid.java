package sh.createos.sandbox.server;

import java.security.SecureRandom;

/**
 * ULIDs: a 48-bit millisecond time and 80 bits drawn fresh from a CSPRNG for every id, in Crockford base32. The random
 * part is the secret (an ingress host name is a sandbox's ULID, and ingress is public by design), so it is never
 * derived from an earlier id: the ULID spec's "monotonic" mode (+1 within a millisecond) made the next sandbox's id
 * readable from any response's {@code X-Request-Id}. Ids from {@link #next()} still sort in the order they were made:
 * the time part is kept strictly increasing (a second id in the same millisecond takes the next millisecond), which
 * reveals nothing that {@code created_at} does not.
 */
public final class Ulid {
    private static final char[] ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ".toCharArray();
    private static final SecureRandom RANDOM = new SecureRandom();
    private static long lastMillis;

    private Ulid() {}

    /** An id for a stored object (user, sandbox, network, key): unique and in creation order within this process. */
    public static String next() {
        long millis;
        synchronized (Ulid.class) {
            lastMillis = Math.max(System.currentTimeMillis(), lastMillis + 1);
            millis = lastMillis;
        }
        return encode(millis);
    }

    /** An id with the current time that orders nothing (request ids: many per millisecond, none stored). */
    public static String random() {
        return encode(System.currentTimeMillis());
    }

    private static String encode(long millis) {
        byte[] random = new byte[10];
        RANDOM.nextBytes(random);
        long randHigh = ((random[0] & 0xffL) << 8) | (random[1] & 0xffL); // 16 bits
        long randLow = 0;                                                 // 64 bits
        for (int i = 2; i < 10; i++) {
            randLow = (randLow << 8) | (random[i] & 0xffL);
        }
        char[] out = new char[26];
        long time = millis;
        for (int i = 9; i >= 0; i--) {
            out[i] = ALPHABET[(int) (time & 31)];
            time >>>= 5;
        }
        // 80 random bits = 16 chars of 5 bits: the top 16 bits then the low 64.
        for (int i = 0; i < 16; i++) {
            int shift = 75 - 5 * i; // bit offset of this char within the 80-bit value
            long bits;
            if (shift >= 64) {
                bits = randHigh >>> (shift - 64);
            } else if (shift > 59) {
                bits = (randLow >>> shift) | (randHigh << (64 - shift));
            } else {
                bits = randLow >>> shift;
            }
            out[10 + i] = ALPHABET[(int) (bits & 31)];
        }
        return new String(out);
    }
}
