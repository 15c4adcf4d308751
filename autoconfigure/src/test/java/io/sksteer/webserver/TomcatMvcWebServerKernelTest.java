package io.sksteer.webserver;

import io.sksteer.testkit.KernelTest;

/** {@link WebServerSteeringKernelTest} with Tomcat as the application's web server. */
@KernelTest
class TomcatMvcWebServerKernelTest extends WebServerSteeringKernelTest {

    @Override
    Server server() {
        return Server.TOMCAT;
    }

    @Override
    String webServerClass() {
        return "TomcatWebServer";
    }
}
