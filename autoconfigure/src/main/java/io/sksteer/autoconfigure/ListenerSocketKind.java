package io.sksteer.autoconfigure;

import io.sksteer.steering.InvalidRuleException;
import java.util.Locale;

/** What {@code sksteer.listeners.NAME.socket} names: whose socket a listener's traffic goes to. */
enum ListenerSocketKind {

    /** A Netty socket sksteer binds, served by the listener's ListenerHandler bean. */
    BIND("bind", null, null, null),
    /** The embedded web server's listening socket. */
    WEB_SERVER("web-server", "the web server", "server.port", "server.address"),
    /** The separate management server's listening socket. */
    MANAGEMENT_SERVER("management-server", "the management server", "management.server.port", "management.server.address");

    private final String value;
    private final String description;
    private final String portProperty;
    private final String addressProperty;

    ListenerSocketKind(String value, String description, String portProperty, String addressProperty) {
        this.value = value;
        this.description = description;
        this.portProperty = portProperty;
        this.addressProperty = addressProperty;
    }

    /** @throws InvalidRuleException naming {@code property} for anything but the three values */
    static ListenerSocketKind parse(String text, String property) {
        String t = text == null ? "bind" : text.trim().toLowerCase(Locale.ROOT);
        for (ListenerSocketKind k : values()) {
            if (k.value.equals(t)) {
                return k;
            }
        }
        throw new InvalidRuleException(property, text, "must be 'bind', 'web-server' or 'management-server'");
    }

    String value() {
        return value;
    }

    /** "the web server", for messages; {@code null} for {@link #BIND}. */
    String description() {
        return description;
    }

    String portProperty() {
        return portProperty;
    }

    String addressProperty() {
        return addressProperty;
    }

    /** The server namespace Spring Boot gives this server's context ({@code null} for the main one). */
    String serverNamespace() {
        return this == MANAGEMENT_SERVER ? "management" : null;
    }
}
