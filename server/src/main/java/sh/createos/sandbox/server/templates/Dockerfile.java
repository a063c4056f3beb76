package sh.createos.sandbox.server.templates;

import java.util.List;
import java.util.Map;
import sh.createos.sandbox.model.Template;

/**
 * A parsed Dockerfile, evaluated as far as it can be without a VM: the base it starts from, its instructions in
 * order (each with the text that keys the build cache, and for a RUN the command with the env, cwd and user it runs
 * with), and what the image records for sandboxes ({@link Template.ImageConfig}).
 *
 * @param from the base as written after ARG substitution ({@code devbox:1}, {@code nodeops/sandbox:debian}, a
 *             template name…); the build service resolves it
 */
public record Dockerfile(String from, int fromLine, List<Instruction> instructions, Template.ImageConfig config) {

    /**
     * One instruction after FROM.
     *
     * @param text      the instruction as written (continuations joined), for the log
     * @param canonical the keyword and its arguments after line continuations and variable substitution: the cache
     *                  key is made of these (see {@link BuildCache})
     * @param run       the command to run for a RUN; null for instructions that only change the build's state
     * @param workdir   the working directory after this instruction (the builder creates it)
     */
    public record Instruction(int line, String keyword, String text, String canonical, Run run, String workdir) {
        public boolean isRun() {
            return run != null;
        }
    }

    /** A RUN: argv (a shell form already wrapped in the current SHELL), its env (ENV and ARG in scope), cwd, user. */
    public record Run(List<String> argv, Map<String, String> env, String cwd, String user) {}
}
