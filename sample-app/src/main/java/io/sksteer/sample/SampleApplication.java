package io.sksteer.sample;

import org.springframework.boot.SpringApplication;
import org.springframework.boot.autoconfigure.SpringBootApplication;

/**
 * The sksteer sample: TCP to 127.78.0.0/16 ports 80, 443 and 8000-8999 reaches the application's
 * own web server ({@link SampleController}); TCP to 127.77.0.0/16 on the same ports a tiny Netty
 * HTTP responder, and UDP to 127.77.0.0/16 port 5353 a Netty echo. See application.yml.
 */
@SpringBootApplication
public class SampleApplication {

    public static void main(String[] args) {
        SpringApplication.run(SampleApplication.class, args);
    }
}
