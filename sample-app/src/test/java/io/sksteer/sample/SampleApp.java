package io.sksteer.sample;

import io.sksteer.testkit.HttpProbe;
import io.sksteer.testkit.TestNetns;
import java.net.InetSocketAddress;
import org.springframework.boot.builder.SpringApplicationBuilder;
import org.springframework.context.ConfigurableApplicationContext;

/**
 * The sample started inside a test namespace, as a user starts it inside the namespace it steers:
 * its web server's socket (steered by the listener 'site') is made there, so its HTTP port is
 * reached from inside the namespace too.
 */
final class SampleApp {

    private SampleApp() {
    }

    /** Runs {@code sources} (the sample first) with {@code args} on a thread inside {@code ns}. */
    static ConfigurableApplicationContext run(TestNetns ns, Class<?>[] sources, String... args) {
        return ns.call(() -> new SpringApplicationBuilder(sources).run(args));
    }

    /** Runs the sample with {@code args} on a thread inside {@code ns}. */
    static ConfigurableApplicationContext run(TestNetns ns, String... args) {
        return run(ns, new Class<?>[] {SampleApplication.class}, args);
    }

    /** The web server's own address (server.address, local.server.port). */
    static InetSocketAddress server(ConfigurableApplicationContext app) {
        return new InetSocketAddress("127.0.0.1", Integer.parseInt(app.getEnvironment().getProperty("local.server.port")));
    }

    /** {@code GET path} on the web server's own address, from inside {@code ns}. */
    static HttpProbe.Answer get(TestNetns ns, ConfigurableApplicationContext app, String path) {
        return HttpProbe.get(ns, server(app), path);
    }

    /** {@code POST path} of JSON on the web server's own address, from inside {@code ns}. */
    static HttpProbe.Answer post(TestNetns ns, ConfigurableApplicationContext app, String path, String json) {
        return HttpProbe.postJson(ns, server(app), path, json);
    }
}
