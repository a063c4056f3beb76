package sh.createos.sandbox.model;

/**
 * JSend envelope: {@code success} carries {@code data}; {@code fail} (4xx) carries {@code data} with the
 * details; {@code error} (5xx) carries {@code message} and the numeric {@code code}.
 */
public record Envelope<T>(String status, T data, String message, Integer code) {
    public static <T> Envelope<T> success(T data) {
        return new Envelope<>("success", data, null, null);
    }

    public static <T> Envelope<T> fail(T data) {
        return new Envelope<>("fail", data, null, null);
    }

    public static Envelope<Void> error(String message, int code) {
        return new Envelope<>("error", null, message, code);
    }
}
