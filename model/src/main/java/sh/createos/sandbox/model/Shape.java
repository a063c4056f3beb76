package sh.createos.sandbox.model;

/** A machine size; {@code cpuQuotaPct} is absent for an unlimited shape. */
public record Shape(String id, int vcpu, int memMib, int defaultDiskMib, Integer cpuQuotaPct) {}
