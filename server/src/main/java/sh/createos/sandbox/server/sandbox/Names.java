package sh.createos.sandbox.server.sandbox;

import java.security.SecureRandom;
import java.util.List;
import java.util.regex.Pattern;
import sh.createos.sandbox.server.DomainException;

/** Sandbox names: user-chosen ones are checked; absent ones are made up as {@code adjective-animal-NNNN}. */
final class Names {
    private static final Pattern NAME = Pattern.compile("[A-Za-z0-9][A-Za-z0-9._-]{0,62}");
    private static final List<String> ADJECTIVES = List.of("brave", "calm", "eager", "fancy", "gentle", "happy",
            "jolly", "keen", "lucky", "merry", "nimble", "proud", "quick", "shy", "swift", "witty");
    private static final List<String> ANIMALS = List.of("otter", "badger", "falcon", "gecko", "heron", "ibex",
            "koala", "lynx", "marten", "newt", "owl", "panda", "quokka", "raven", "seal", "tapir");
    private static final SecureRandom RANDOM = new SecureRandom();

    private Names() {}

    static String check(String name) {
        if (!NAME.matcher(name).matches()) {
            throw DomainException.invalid("invalid name '" + name
                    + "': use 1-63 letters, digits, '.', '_' or '-', starting with a letter or digit");
        }
        return name;
    }

    static String generate() {
        return ADJECTIVES.get(RANDOM.nextInt(ADJECTIVES.size())) + "-" + ANIMALS.get(RANDOM.nextInt(ANIMALS.size()))
                + "-" + (1000 + RANDOM.nextInt(9000));
    }
}
