package io.sksteer.socket;

/** The socket a listener is to take from the application cannot be found, or is not usable. */
public class SocketNotFoundException extends RuntimeException {

    private final String owner;
    private final String wanted;

    /**
     * @param owner who should have the socket ("the web server (TomcatWebServer)")
     * @param wanted what was looked for
     * @param problem what was found instead
     */
    public SocketNotFoundException(String owner, String wanted, String problem) {
        super("cannot steer to " + owner + ": looked for " + wanted + "; " + problem);
        this.owner = owner;
        this.wanted = wanted;
    }

    public String owner() {
        return owner;
    }

    public String wanted() {
        return wanted;
    }
}
