package io.sksteer.webserver;

/** The Spring Security auto-configurations, for test applications that leave security out. */
public final class SecurityExclusions {

    /** Comma-separated, for {@code spring.autoconfigure.exclude}. */
    public static final String ALL = WebServerSteeringKernelTest.NO_SECURITY;

    private SecurityExclusions() {
    }
}
