package io.sksteer.webserver;

import io.sksteer.testkit.KernelTest;

/** {@link WebServerSteeringKernelTest} with Reactor Netty (WebFlux) as the application's web server. */
@KernelTest
class ReactorNettyWebFluxWebServerKernelTest extends WebServerSteeringKernelTest {

    @Override
    Server server() {
        return Server.REACTOR_NETTY;
    }

    @Override
    String webServerClass() {
        return "NettyWebServer";
    }
}
