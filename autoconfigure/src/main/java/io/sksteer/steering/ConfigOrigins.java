package io.sksteer.steering;

/**
 * The caller's names of the places each part of a configuration is written, for messages and
 * as the origins of the rules (the Spring layer's are property paths).
 */
public interface ConfigOrigins {

    /** Where the namespace file is written. */
    String netns();

    /** Where the policy for a missing socket is written. */
    String onMissingSocket();

    /** Where the capacity is written. */
    String maxRules();

    /** Where listener {@code name} is defined. */
    String listener(String name);

    /** Where {@code field} (protocol, bind, backlog) of listener {@code name} is written: {@code LISTENER.field}. */
    default String listenerField(String name, String field) {
        return listener(name) + "." + field;
    }

    /** Where rule {@code index} of listener {@code name} is written: {@code LISTENER.rules[index]}. */
    default String rule(String name, int index) {
        return listener(name) + ".rules[" + index + "]";
    }

    /** Plain names, for a configuration built in code: {@code listeners.web.rules[0]}. */
    ConfigOrigins PLAIN = new ConfigOrigins() {
        @Override
        public String netns() {
            return "netns";
        }

        @Override
        public String onMissingSocket() {
            return "on-missing-socket";
        }

        @Override
        public String maxRules() {
            return "max-rules";
        }

        @Override
        public String listener(String name) {
            return "listeners." + name;
        }
    };
}
