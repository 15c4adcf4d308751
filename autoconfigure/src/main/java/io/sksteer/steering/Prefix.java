package io.sksteer.steering;

import java.net.Inet4Address;
import java.net.Inet6Address;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.util.Arrays;
import java.util.HexFormat;

/**
 * An IPv4 or IPv6 network in CIDR form. A bare address is a /32 or /128. Host bits must be zero,
 * and IPv4-mapped IPv6 prefixes are refused (write the IPv4 prefix: one dual-stack socket takes
 * both families anyway).
 *
 * @param address the network address bytes (4 or 16), host bits zero
 * @param length the prefix length
 */
public record Prefix(byte[] address, int length) implements Comparable<Prefix> {

    public Prefix {
        if (address.length != 4 && address.length != 16) {
            throw new IllegalArgumentException("an address has 4 or 16 bytes, not " + address.length);
        }
        if (length < 0 || length > address.length * 8) {
            throw new IllegalArgumentException("prefix length " + length + " out of range");
        }
        address = address.clone();
    }

    // Compiled once: a refresh parses tens of thousands of prefixes.
    private static final java.util.regex.Pattern V6_TEXT = java.util.regex.Pattern.compile("[0-9A-Fa-f:.]+");
    private static final java.util.regex.Pattern V4_TEXT = java.util.regex.Pattern.compile("[0-9]{1,3}(\\.[0-9]{1,3}){3}");
    private static final java.util.regex.Pattern LENGTH_TEXT = java.util.regex.Pattern.compile("[0-9]{1,3}");
    private static final java.util.regex.Pattern DOT = java.util.regex.Pattern.compile("\\.");

    /**
     * Parses {@code 10.1.0.0/16}, {@code 2001:db8::/32}, or a bare address.
     *
     * @throws InvalidValueException naming the text and the problem
     */
    public static Prefix parse(String text) {
        if (text == null || text.isBlank()) {
            throw new InvalidValueException(text, "empty prefix");
        }
        String t = text.trim();
        int slash = t.indexOf('/');
        String addressText = slash < 0 ? t : t.substring(0, slash);
        boolean v6Text = addressText.contains(":");
        if (!(v6Text ? V6_TEXT : V4_TEXT).matcher(addressText).matches()) {
            throw new InvalidValueException(text, "not an IPv4 or IPv6 address (names are not resolved)");
        }
        InetAddress parsed = literal(addressText, v6Text);
        if (parsed == null) {
            throw new InvalidValueException(text, "not an IP address");
        }
        if (v6Text && parsed instanceof Inet4Address) {
            // The JDK turns ::ffff:a.b.c.d into an IPv4 address.
            throw new InvalidValueException(text, "IPv4-mapped IPv6 prefixes are not supported: write the IPv4 prefix "
                    + parsed.getHostAddress() + (slash < 0 ? "" : "/" + Math.max(0, parseLength(t, slash, 128, text) - 96)));
        }
        byte[] bytes = parsed.getAddress();
        int max = bytes.length * 8;
        int length = slash < 0 ? max : parseLength(t, slash, max, text);
        byte[] network = mask(bytes, length);
        if (!Arrays.equals(network, bytes)) {
            Prefix meant = new Prefix(network, length);
            throw new InvalidValueException(text, "host bits are set; the network is " + meant);
        }
        return new Prefix(bytes, length);
    }

    /**
     * {@link #parse(String)}, for a text written at {@code where}.
     *
     * @throws InvalidRuleException naming {@code where}, the text and the problem
     */
    public static Prefix parse(String text, String where) {
        try {
            return parse(text);
        } catch (InvalidValueException e) {
            throw e.at(where);
        }
    }

    /**
     * The address of a literal, or {@code null}. Never a name lookup: the JDK resolves anything
     * that is not a valid literal as a host name (999.1.1.1 would be a DNS query), so IPv4 is
     * parsed here, and IPv6 is handed over in brackets, which the JDK only ever parses.
     */
    private static InetAddress literal(String text, boolean v6) {
        try {
            if (v6) {
                return InetAddress.getByName("[" + text + "]");
            }
            String[] octets = DOT.split(text);
            byte[] b = new byte[4];
            for (int i = 0; i < 4; i++) {
                int v = Integer.parseInt(octets[i]);
                if (v > 255) {
                    return null;
                }
                b[i] = (byte) v;
            }
            return InetAddress.getByAddress(b);
        } catch (UnknownHostException | RuntimeException e) {
            return null;
        }
    }

    private static int parseLength(String t, int slash, int max, String text) {
        String lengthText = t.substring(slash + 1);
        if (!LENGTH_TEXT.matcher(lengthText).matches()) {
            throw new InvalidValueException(text, "prefix length must be a number from 0 to " + max);
        }
        int length = Integer.parseInt(lengthText);
        if (length > max) {
            throw new InvalidValueException(text, "prefix length must be from 0 to " + max);
        }
        return length;
    }

    static byte[] mask(byte[] bytes, int length) {
        byte[] out = bytes.clone();
        for (int i = 0; i < out.length; i++) {
            int bits = Math.max(0, Math.min(8, length - 8 * i));
            out[i] &= (byte) (0xff << (8 - bits));
        }
        return out;
    }

    @Override
    public byte[] address() {
        return address.clone();
    }

    public boolean isIpv4() {
        return address.length == 4;
    }

    /**
     * Eight bytes of the network address, big-endian, the address padded with zeros to 16 bytes:
     * {@code half} 0 is bytes 0-7, 1 is bytes 8-15. No copy of the address is made.
     */
    long half(int half) {
        long v = 0;
        for (int i = 8 * half; i < 8 * half + 8; i++) {
            v = v << 8 | (i < address.length ? address[i] & 0xff : 0);
        }
        return v;
    }

    /** Whether {@code addr} (4 or 16 bytes) lies in this network; never across families. */
    public boolean contains(byte[] addr) {
        return addr.length == address.length && Arrays.equals(mask(addr, length), address);
    }

    /** Whether every address of {@code other} lies in this network. */
    public boolean covers(Prefix other) {
        return other.address.length == address.length && other.length >= length && contains(other.address);
    }

    public InetAddress inetAddress() {
        try {
            return InetAddress.getByAddress(address);
        } catch (UnknownHostException e) {
            throw new IllegalStateException(e);
        }
    }

    /** Orders IPv4 before IPv6, then by address, then shorter first. */
    @Override
    public int compareTo(Prefix o) {
        int c = Integer.compare(address.length, o.address.length);
        if (c != 0) {
            return c;
        }
        c = Arrays.compareUnsigned(address, o.address);
        return c != 0 ? c : Integer.compare(length, o.length);
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof Prefix p && p.length == length && Arrays.equals(p.address, address);
    }

    @Override
    public int hashCode() {
        return 31 * Arrays.hashCode(address) + length;
    }

    @Override
    public String toString() {
        String a = inetAddress().getHostAddress();
        if (!isIpv4()) {
            a = compress(a);
        }
        return a + "/" + length;
    }

    /** The JDK prints full IPv6 groups; shorten the longest zero run as RFC 5952 does. */
    private String compress(String full) {
        String[] groups = HexFormat.of().formatHex(address).replaceAll("(.{4})", "$1:").split(":");
        String[] g = new String[8];
        for (int i = 0; i < 8; i++) {
            g[i] = groups[i].replaceFirst("^0+(?=.)", "");
        }
        int bestStart = -1;
        int bestLen = 1;
        for (int i = 0; i < 8; ) {
            if (g[i].equals("0")) {
                int j = i;
                while (j < 8 && g[j].equals("0")) {
                    j++;
                }
                if (j - i > bestLen) {
                    bestStart = i;
                    bestLen = j - i;
                }
                i = j;
            } else {
                i++;
            }
        }
        if (bestStart < 0) {
            return String.join(":", g);
        }
        String head = String.join(":", Arrays.copyOfRange(g, 0, bestStart));
        String tail = String.join(":", Arrays.copyOfRange(g, bestStart + bestLen, 8));
        return head + "::" + tail;
    }
}
