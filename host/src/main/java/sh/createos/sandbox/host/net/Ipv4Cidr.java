package sh.createos.sandbox.host.net;

/** An IPv4 network such as 10.200.0.0/16; {@code base} has no host bits set. */
public record Ipv4Cidr(int base, int prefix) {
    public Ipv4Cidr {
        if (prefix < 0 || prefix > 32) {
            throw new IllegalArgumentException("bad IPv4 prefix length /" + prefix);
        }
        base &= mask(prefix);
    }

    /** "10.0.0.0/8", or a bare address as a /32. */
    public static Ipv4Cidr parse(String text) {
        String[] parts = text.split("/", -1);
        if (parts.length > 2) {
            throw new IllegalArgumentException("bad IPv4 CIDR '" + text + "'");
        }
        int prefix = 32;
        if (parts.length == 2) {
            try {
                prefix = Integer.parseInt(parts[1]);
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException("bad IPv4 CIDR '" + text + "'");
            }
        }
        int address = parseAddress(parts[0]);
        if (prefix < 0 || prefix > 32) {
            throw new IllegalArgumentException("bad IPv4 CIDR '" + text + "': prefix length must be 0..32");
        }
        return new Ipv4Cidr(address, prefix);
    }

    public static boolean isAddress(String text) {
        try {
            parseAddress(text);
            return true;
        } catch (IllegalArgumentException e) {
            return false;
        }
    }

    public static int parseAddress(String text) {
        String[] octets = text.split("\\.", -1);
        if (octets.length != 4) {
            throw new IllegalArgumentException("bad IPv4 address '" + text + "'");
        }
        int address = 0;
        for (String octet : octets) {
            if (octet.isEmpty() || octet.length() > 3 || !octet.chars().allMatch(Character::isDigit)) {
                throw new IllegalArgumentException("bad IPv4 address '" + text + "'");
            }
            int value = Integer.parseInt(octet);
            if (value > 255) {
                throw new IllegalArgumentException("bad IPv4 address '" + text + "'");
            }
            address = address << 8 | value;
        }
        return address;
    }

    public static String format(int address) {
        return (address >>> 24) + "." + (address >>> 16 & 255) + "." + (address >>> 8 & 255) + "." + (address & 255);
    }

    private static int mask(int prefix) {
        return prefix == 0 ? 0 : -1 << (32 - prefix);
    }

    public long size() {
        return 1L << (32 - prefix);
    }

    /** The address {@code offset} places after the base. */
    public int address(long offset) {
        if (offset < 0 || offset >= size()) {
            throw new IllegalArgumentException("offset " + offset + " is outside " + this);
        }
        return (int) (base + offset);
    }

    public boolean contains(int address) {
        return (address & mask(prefix)) == base;
    }

    public boolean overlaps(Ipv4Cidr other) {
        int shorter = Math.min(prefix, other.prefix);
        return (base & mask(shorter)) == (other.base & mask(shorter));
    }

    @Override
    public String toString() {
        return format(base) + "/" + prefix;
    }
}
