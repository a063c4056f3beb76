package sh.createos.sandbox.server;

import java.security.SecureRandom;

/**
 * Monotonic ULIDs (48-bit millisecond time + 80 random bits, Crockford base32): ids sort by creation time, and
 * ids made in the same millisecond still sort in the order they were made, so listing by id is a stable order.
 */
public final class Ulid {
    private static final char[] ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ".toCharArray();
    private static final SecureRandom RANDOM = new SecureRandom();
    private static long lastMillis;
    private static long randHigh; // 16 bits
    private static long randLow;  // 64 bits

    private Ulid() {}

    public static synchronized String next() {
        long now = System.currentTimeMillis();
        if (now > lastMillis) {
            lastMillis = now;
            randHigh = RANDOM.nextInt(1 << 16);
            randLow = RANDOM.nextLong();
        } else if (++randLow == 0 && ++randHigh == 1 << 16) {
            // 80-bit overflow within one millisecond: borrow the next millisecond.
            lastMillis++;
            randHigh = 0;
        }
        char[] out = new char[26];
        long time = lastMillis;
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
