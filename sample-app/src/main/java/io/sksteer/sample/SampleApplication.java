package io.sksteer.sample;

import org.springframework.boot.SpringApplication;
import org.springframework.boot.autoconfigure.SpringBootApplication;

/**
 * The sksteer sample: TCP to 127.77.0.0/16 ports 80, 443 and 8000-8999 reaches a tiny HTTP
 * responder, UDP to 127.77.0.0/16 port 5353 an echo. See application.yml.
 */
@SpringBootApplication
public class SampleApplication {

    public static void main(String[] args) {
        SpringApplication.run(SampleApplication.class, args);
    }
}
