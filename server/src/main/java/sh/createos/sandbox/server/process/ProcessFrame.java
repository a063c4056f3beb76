package sh.createos.sandbox.server.process;

/** The NDJSON frames of {@code GET …/processes/{process_id}/connect} (interactive-api.md §5.4). */
record ProcessFrame(String type, Long seq, String stream, String dataBase64, Integer exitCode, String signal,
        String error, Long oldestAvailableSeq) {

    static final String EXPIRED = "output offset expired";

    static ProcessFrame data(long seq, String stream, String base64) {
        return new ProcessFrame("data", seq, stream, base64, null, null, null, null);
    }

    static ProcessFrame heartbeat() {
        return new ProcessFrame("heartbeat", null, null, null, null, null, null, null);
    }

    static ProcessFrame exit(int code, String agentSignal) {
        return agentSignal == null
                ? new ProcessFrame("exit", null, null, null, code, null, null, null)
                : new ProcessFrame("exit", null, null, null, null, ProcessView.signalName(agentSignal), null, null);
    }

    static ProcessFrame expired(long oldestSeq) {
        return new ProcessFrame("error", null, null, null, null, null, EXPIRED, oldestSeq);
    }

    static ProcessFrame error(String message) {
        return new ProcessFrame("error", null, null, null, null, null, message, null);
    }
}
