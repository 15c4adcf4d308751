package io.sksteer.actuate;

import jakarta.servlet.Filter;
import jakarta.servlet.FilterChain;
import jakarta.servlet.ReadListener;
import jakarta.servlet.ServletException;
import jakarta.servlet.ServletInputStream;
import jakarta.servlet.ServletRequest;
import jakarta.servlet.ServletResponse;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletRequestWrapper;
import jakarta.servlet.http.HttpServletResponse;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.util.HashSet;
import java.util.Set;

/**
 * Bounds what a request to the {@code sksteer} endpoint may cost before the actuator parses it
 * (servlet applications): a write body over the limit is refused with 413 without being read
 * whole; explain's query may only name its own parameters, each once, without control
 * characters. It also tells the endpoint the client's address, for the audit.
 */
public final class SksteerRequestGuard implements Filter {

    /** The parameters of explain. */
    static final Set<String> EXPLAIN_PARAMETERS = Set.of("protocol", "address", "port", "remoteAddress", "remotePort");
    private static final int MAX_QUERY = 1024;
    private static final ThreadLocal<String> REMOTE = new ThreadLocal<>();

    private final String path;
    private final long maxBody;

    /**
     * @param path the endpoint's path ({@code /actuator/sksteer})
     * @param maxBody the largest body a write takes, in bytes
     */
    public SksteerRequestGuard(String path, long maxBody) {
        this.path = path;
        this.maxBody = maxBody;
    }

    /** The address and port of the client whose request the calling thread serves, or {@code null}. */
    static String currentRemoteAddress() {
        return REMOTE.get();
    }

    @Override
    public void doFilter(ServletRequest request, ServletResponse response, FilterChain chain) throws IOException, ServletException {
        HttpServletRequest http = (HttpServletRequest) request;
        HttpServletResponse out = (HttpServletResponse) response;
        String uri = http.getRequestURI().substring(http.getContextPath().length());
        if (!uri.equals(path) && !uri.startsWith(path + "/")) {
            chain.doFilter(request, response);
            return;
        }
        String problem = checkQuery(http.getQueryString(), uri.endsWith("/explain"));
        if (problem != null) {
            refuse(out, 400, problem);
            return;
        }
        HttpServletRequest passed = http;
        if ("POST".equals(http.getMethod())) {
            long length = http.getContentLengthLong();
            if (length > maxBody) {
                refuse(out, 413, "body of " + length + " bytes is over the limit of " + maxBody + " bytes (sksteer.live-changes.max-body-size)");
                return;
            }
            if (length < 0) {
                // No length given (chunked): read at most one byte past the limit, then decide.
                byte[] body = readAtMost(http.getInputStream(), maxBody + 1);
                if (body.length > maxBody) {
                    refuse(out, 413, "body over the limit of " + maxBody + " bytes (sksteer.live-changes.max-body-size)");
                    return;
                }
                passed = new BufferedBody(http, body);
            }
        }
        REMOTE.set(hostPort(http.getRemoteAddr(), http.getRemotePort()));
        try {
            chain.doFilter(passed, response);
        } finally {
            REMOTE.remove();
        }
    }

    /** Why the query of a request is refused, or {@code null}. */
    static String checkQuery(String query, boolean explain) {
        if (query == null || query.isEmpty()) {
            return null;
        }
        if (query.length() > MAX_QUERY) {
            return "query of " + query.length() + " characters is over the limit of " + MAX_QUERY;
        }
        Set<String> seen = new HashSet<>();
        for (String pair : query.split("&", -1)) {
            int eq = pair.indexOf('=');
            String name;
            String value;
            try {
                name = URLDecoder.decode(eq < 0 ? pair : pair.substring(0, eq), StandardCharsets.UTF_8);
                value = eq < 0 ? "" : URLDecoder.decode(pair.substring(eq + 1), StandardCharsets.UTF_8);
            } catch (IllegalArgumentException e) {
                return "malformed query: " + e.getMessage();
            }
            if (hasControl(name) || hasControl(value)) {
                return "control characters are not accepted in the query";
            }
            if (explain && !EXPLAIN_PARAMETERS.contains(name)) {
                return "unknown parameter '" + name + "'; explain takes " + String.join(", ", EXPLAIN_PARAMETERS.stream().sorted().toList());
            }
            if (!seen.add(name)) {
                return "parameter '" + name + "' is given more than once";
            }
        }
        return null;
    }

    static boolean hasControl(String s) {
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c < 0x20 || (c >= 0x7f && c <= 0x9f)) {
                return true;
            }
        }
        return false;
    }

    private static byte[] readAtMost(InputStream in, long limit) throws IOException {
        java.io.ByteArrayOutputStream b = new java.io.ByteArrayOutputStream();
        byte[] buffer = new byte[8192];
        int n;
        while (b.size() < limit && (n = in.read(buffer, 0, (int) Math.min(buffer.length, limit - b.size()))) > 0) {
            b.write(buffer, 0, n);
        }
        return b.toByteArray();
    }

    private static void refuse(HttpServletResponse out, int status, String message) throws IOException {
        out.setStatus(status);
        out.setContentType("application/json");
        out.setHeader("Connection", "close");
        out.getOutputStream().write(("{\"error\":\"" + message.replace("\\", "\\\\").replace("\"", "\\\"") + "\"}")
                .getBytes(StandardCharsets.UTF_8));
    }

    private static String hostPort(String address, int port) {
        return (address.contains(":") ? "[" + address + "]" : address) + ":" + port;
    }

    /** The request with a body read ahead. */
    private static final class BufferedBody extends HttpServletRequestWrapper {
        private final byte[] body;

        BufferedBody(HttpServletRequest request, byte[] body) {
            super(request);
            this.body = body;
        }

        @Override
        public int getContentLength() {
            return body.length;
        }

        @Override
        public long getContentLengthLong() {
            return body.length;
        }

        @Override
        public ServletInputStream getInputStream() {
            ByteArrayInputStream in = new ByteArrayInputStream(body);
            return new ServletInputStream() {
                @Override
                public int read() {
                    return in.read();
                }

                @Override
                public int read(byte[] b, int off, int len) {
                    return in.read(b, off, len);
                }

                @Override
                public boolean isFinished() {
                    return in.available() == 0;
                }

                @Override
                public boolean isReady() {
                    return true;
                }

                @Override
                public void setReadListener(ReadListener listener) {
                    throw new UnsupportedOperationException("blocking reads only");
                }
            };
        }

        @Override
        public java.io.BufferedReader getReader() {
            return new java.io.BufferedReader(new java.io.InputStreamReader(new ByteArrayInputStream(body), StandardCharsets.UTF_8));
        }
    }
}
