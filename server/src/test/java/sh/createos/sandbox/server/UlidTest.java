package sh.createos.sandbox.server;

import static org.assertj.core.api.Assertions.assertThat;

import java.math.BigInteger;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Supplier;
import org.junit.jupiter.api.Test;

/**
 * Issue 18: ids were monotonic (+1 within a millisecond), so a {@code /healthz} poll's {@code X-Request-Id} told the
 * next sandbox's id. Every id's 80 random bits must be fresh: each bit is set in about half of a burst of ids, and no
 * id's random part follows from the previous one.
 */
class UlidTest {
    private static final String CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";

    @Test
    void storedIdsCarryEightyFreshRandomBitsAndStillSortInCreationOrder() {
        List<String> ids = burst(Ulid::next);
        assertThat(ids).allMatch(id -> id.matches("[0-9A-HJKMNP-TV-Z]{26}")).doesNotHaveDuplicates();
        assertThat(ids).isSortedAccordingTo(String::compareTo);
        assertFreshRandomBits(ids);
    }

    @Test
    void requestIdsCarryEightyFreshRandomBitsToo() {
        List<String> ids = burst(Ulid::random);
        assertThat(ids).allMatch(id -> id.matches("[0-9A-HJKMNP-TV-Z]{26}")).doesNotHaveDuplicates();
        assertFreshRandomBits(ids);
    }

    @Test
    void requestIdsAndStoredIdsShareNoSequence() {
        String request = Ulid.random();
        String sandbox = Ulid.next();
        assertThat(randomPart(sandbox).subtract(randomPart(request)).abs())
                .isGreaterThan(BigInteger.ONE.shiftLeft(32)); // 1 in 2^47 to fail by chance
    }

    /** Made in a tight loop, so many share a millisecond (where the old generator counted up). */
    private static List<String> burst(Supplier<String> generator) {
        List<String> ids = new ArrayList<>();
        for (int i = 0; i < 4000; i++) {
            ids.add(generator.get());
        }
        return ids;
    }

    private static void assertFreshRandomBits(List<String> ids) {
        int[] ones = new int[80];
        for (String id : ids) {
            BigInteger random = randomPart(id);
            for (int bit = 0; bit < 80; bit++) {
                ones[bit] += random.testBit(bit) ? 1 : 0;
            }
        }
        for (int bit = 0; bit < 80; bit++) {
            // Binomial(4000, 1/2): 40%..60% is more than 12 standard deviations wide.
            assertThat(ones[bit]).as("random bit %d set in %d of %d ids", bit, ones[bit], ids.size())
                    .isBetween(1600, 2400);
        }
        for (int i = 1; i < ids.size(); i++) {
            BigInteger step = randomPart(ids.get(i)).subtract(randomPart(ids.get(i - 1))).abs();
            assertThat(step).as("%s after %s", ids.get(i), ids.get(i - 1)).isGreaterThan(BigInteger.valueOf(1 << 20));
        }
    }

    private static BigInteger randomPart(String ulid) {
        BigInteger value = BigInteger.ZERO;
        for (char c : ulid.substring(10).toCharArray()) {
            value = value.shiftLeft(5).add(BigInteger.valueOf(CROCKFORD.indexOf(c)));
        }
        return value;
    }
}
