package sh.createos.sandbox.server.host;

/** What a sandbox's VM is made of: a guest image (or its template, when the host has one) and its size. */
public record VmShape(String image, int vcpus, int memMib, int diskMib, String hostname) {}
