package io.sksteer.autoconfigure;

import io.sksteer.socket.AdoptedSocket;
import io.sksteer.socket.SocketNotFoundException;
import java.net.InetAddress;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import org.springframework.boot.web.server.WebServer;
import org.springframework.boot.web.server.context.WebServerInitializedEvent;
import org.springframework.context.ApplicationListener;

/**
 * The listening sockets of the application's embedded web servers (the main one, and the
 * management server where it runs apart). Spring Boot announces each server once it is bound
 * ({@link WebServerInitializedEvent}, also from the management server's child context); at
 * steering start, each adopted listener's socket is found by that server's port among the
 * process's own descriptors, without reflection into the server.
 */
final class WebServerSockets implements ApplicationListener<WebServerInitializedEvent> {

    /** An adopted listener: which server, and the address that server was told to bind (or {@code null}). */
    record Wanted(ListenerSocketKind kind, InetAddress address) {
    }

    private final Map<String, WebServer> servers = new ConcurrentHashMap<>();
    private final Map<String, Wanted> wanted;

    /** @param wanted the adopted listeners, by name */
    WebServerSockets(Map<String, Wanted> wanted) {
        this.wanted = Map.copyOf(wanted);
    }

    @Override
    public void onApplicationEvent(WebServerInitializedEvent event) {
        String namespace = event.getApplicationContext().getServerNamespace();
        servers.put(namespace == null ? "" : namespace, event.getWebServer());
    }

    /** @throws SocketNotFoundException when a server did not start, or its socket cannot be told apart */
    AdoptedSocket find(String listener) {
        Wanted w = wanted.get(listener);
        String ns = w.kind().serverNamespace();
        WebServer server = servers.get(ns == null ? "" : ns);
        if (server == null) {
            throw new SocketNotFoundException(w.kind().description(), "the socket of listener '" + listener + "'",
                    "no " + (ns == null ? "embedded web server" : "separate management server") + " has started in this application"
                            + (ns == null ? " (is it a web application? spring.main.web-application-type)"
                                    : " (set management.server.port to a port other than server.port)"));
        }
        String owner = w.kind().description() + " (" + server.getClass().getSimpleName() + ")";
        return AdoptedSocket.find(owner, server.getPort(), w.address());
    }

    /** Every adopted listener's socket. */
    AdoptedSockets all() {
        return () -> {
            Map<String, AdoptedSocket> out = new LinkedHashMap<>();
            wanted.keySet().forEach(name -> out.put(name, find(name)));
            return out;
        };
    }
}
