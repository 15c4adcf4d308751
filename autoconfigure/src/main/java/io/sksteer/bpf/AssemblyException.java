package io.sksteer.bpf;

/** A program could not be assembled: unknown or duplicate label, jump out of range. */
public final class AssemblyException extends IllegalArgumentException {

    public AssemblyException(String message) {
        super(message);
    }
}
