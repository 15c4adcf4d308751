package io.sksteer.testkit;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.ConnectException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLSocket;

/**
 * Plain HTTP/1.0 requests made from inside a test namespace over a real socket: one request per
 * connection, the whole answer read until the server closes (at most 1 MiB).
 */
public final class HttpProbe {

    private static final int MAX_BYTES = 1 << 20;
    /** The server name a TLS request sends (SNI and Host): the test certificates are made for it. */
    public static final String TLS_HOST = "sksteer.test";

    /**
     * An answer, or a refused connection.
     *
     * @param status the status code, or 0 when refused
     * @param body the body as text ({@code ""} when refused)
     * @param clientAddress the client's own address and port (its socket's local address)
     */
    public record Answer(int status, String body, InetSocketAddress clientAddress) {

        public boolean refused() {
            return status == 0;
        }
    }

    private HttpProbe() {
    }

    /** {@code GET path} to {@code target} from inside {@code ns}. */
    public static Answer get(TestNetns ns, InetSocketAddress target, String path) {
        return get(ns, null, target, path, null);
    }

    /** {@code POST path} of a JSON {@code body} to {@code target} from inside {@code ns}. */
    public static Answer postJson(TestNetns ns, InetSocketAddress target, String path, String body) {
        return exchange(ns, null, target, "POST", path, body, null, java.util.Map.of());
    }

    /**
     * {@code method path} to {@code target} from inside {@code ns} with extra {@code headers}
     * (which may replace Host and Content-Type) and a {@code body} sent as JSON, or none when
     * {@code null}.
     */
    public static Answer request(TestNetns ns, InetSocketAddress target, String method, String path,
            java.util.Map<String, String> headers, String body) {
        return exchange(ns, null, target, method, path, body, null, headers);
    }

    /**
     * {@code GET path} to {@code target} from inside {@code ns}, from {@code source} when given,
     * over TLS when {@code tls} is given.
     */
    public static Answer get(TestNetns ns, InetSocketAddress source, InetSocketAddress target, String path, SSLContext tls) {
        return exchange(ns, source, target, "GET", path, null, tls, java.util.Map.of());
    }

    private static Answer exchange(TestNetns ns, InetSocketAddress source, InetSocketAddress target, String method, String path,
            String jsonBody, SSLContext tls, java.util.Map<String, String> extra) {
        return ns.call(() -> {
            try (Socket plain = new Socket()) {
                if (source != null) {
                    plain.bind(source);
                }
                try {
                    plain.connect(target, TestSockets.TIMEOUT_MS);
                } catch (ConnectException e) {
                    return new Answer(0, "", null);
                }
                plain.setSoTimeout(TestSockets.TIMEOUT_MS * 2);
                InetSocketAddress client = (InetSocketAddress) plain.getLocalSocketAddress();
                Socket s = plain;
                if (tls != null) {
                    SSLSocket ssl = (SSLSocket) tls.getSocketFactory().createSocket(plain, TLS_HOST, target.getPort(), true);
                    ssl.startHandshake();
                    s = ssl;
                }
                String host = target.getAddress().getHostAddress();
                // Over TLS the Host header names the certificate's host, as SNI does (Jetty checks that they agree).
                String hostHeader = tls != null ? TLS_HOST : host.contains(":") ? "[" + host + "]" : host;
                byte[] body = jsonBody == null ? new byte[0] : jsonBody.getBytes(StandardCharsets.UTF_8);
                java.util.Map<String, String> h = new java.util.LinkedHashMap<>();
                h.put("Host", hostHeader);
                h.put("Accept", "*/*");
                if (jsonBody != null) {
                    h.put("Content-Type", "application/json");
                    h.put("Content-Length", Integer.toString(body.length));
                }
                h.putAll(extra);
                StringBuilder headers = new StringBuilder(method + " " + path + " HTTP/1.0\r\n");
                h.forEach((k, v) -> headers.append(k).append(": ").append(v).append("\r\n"));
                headers.append("\r\n");
                s.getOutputStream().write(headers.toString().getBytes(StandardCharsets.US_ASCII));
                s.getOutputStream().write(body);
                s.getOutputStream().flush();
                String whole = readAll(s.getInputStream());
                int headersEnd = whole.indexOf("\r\n\r\n");
                if (!whole.startsWith("HTTP/") || headersEnd < 0) {
                    throw new AssertionError("not an HTTP answer from " + target + ": '" + whole + "'");
                }
                int status = Integer.parseInt(whole.substring(9, 12));
                return new Answer(status, whole.substring(headersEnd + 4), client);
            }
        });
    }

    private static String readAll(InputStream in) throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        byte[] buffer = new byte[8192];
        int n;
        while ((n = in.read(buffer)) > 0) {
            out.write(buffer, 0, n);
            if (out.size() > MAX_BYTES) {
                throw new AssertionError("answer over " + MAX_BYTES + " bytes");
            }
        }
        return out.toString(StandardCharsets.UTF_8);
    }
}
