package io.sksteer.autoconfigure;

import io.sksteer.netty.ListenerHandler;
import io.sksteer.testkit.LabelledListeners;
import org.springframework.boot.SpringApplication;
import org.springframework.boot.SpringBootConfiguration;
import org.springframework.boot.autoconfigure.EnableAutoConfiguration;
import org.springframework.context.annotation.Bean;

/**
 * A service of two listeners that answer with the pid of the process that serves them: TCP
 * {@code echo} on 127.79.1.0/24, UDP {@code dns} on 127.79.2.0/24, all ports, with
 * {@code sksteer.fd-store.enabled}. Run by {@link io.sksteer.testkit.ServiceManager}.
 */
@SpringBootConfiguration
@EnableAutoConfiguration
public class FdStoreTestApp {

    static final String PID = "pid" + ProcessHandle.current().pid();

    @Bean
    ListenerHandler echo() {
        return LabelledListeners.tcp(PID);
    }

    @Bean
    ListenerHandler dns() {
        return LabelledListeners.udp(PID);
    }

    public static void main(String[] args) {
        SpringApplication app = new SpringApplication(FdStoreTestApp.class);
        app.setDefaultProperties(java.util.Map.of(
                "spring.main.web-application-type", "none",
                "sksteer.fd-store.enabled", "true",
                "sksteer.listeners.echo.protocol", "tcp",
                "sksteer.listeners.echo.rules[0].prefixes", "127.79.1.0/24",
                "sksteer.listeners.echo.rules[0].ports", "all",
                "sksteer.listeners.dns.protocol", "udp",
                "sksteer.listeners.dns.rules[0].prefixes", "127.79.2.0/24",
                "sksteer.listeners.dns.rules[0].ports", "all"));
        app.run(args);
    }
}
