package io.sksteer.webserver;

import io.sksteer.testkit.KernelTest;

/** {@link WebServerSteeringKernelTest} with Jetty as the application's web server. */
@KernelTest
class JettyMvcWebServerKernelTest extends WebServerSteeringKernelTest {

    @Override
    Server server() {
        return Server.JETTY;
    }

    @Override
    String webServerClass() {
        return "JettyServletWebServer";
    }
}
