package sh.createos.sandbox.cli;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.PropertyNamingStrategies;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import java.io.PrintStream;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Function;

/** Renders results as a table, a wide table, JSON or YAML; mutations as {@code {"action":…}}. */
final class Output {
    static final ObjectMapper JSON = new ObjectMapper()
            .setPropertyNamingStrategy(PropertyNamingStrategies.SNAKE_CASE)
            .setSerializationInclusion(JsonInclude.Include.NON_NULL)
            .enable(SerializationFeature.INDENT_OUTPUT);

    private Output() {}

    static PrintStream out() {
        return System.out;
    }

    /** A column of a table: header, value, shown only in wide mode when {@code wide}. */
    record Column<T>(String header, Function<T, Object> value, boolean wide) {}

    static void structured(Object value) {
        try {
            if (Globals.outputMode().equals("yaml")) {
                out().print(new ObjectMapper(new YAMLFactory())
                        .setPropertyNamingStrategy(PropertyNamingStrategies.SNAKE_CASE)
                        .setSerializationInclusion(JsonInclude.Include.NON_NULL)
                        .writeValueAsString(value));
            } else {
                out().println(JSON.writeValueAsString(value));
            }
            out().flush();
        } catch (Exception e) {
            throw new CliException(ExitCodes.FAILURE, "cannot render output: " + e.getMessage());
        }
    }

    /** Rows as JSON/YAML (the raw values) or as a table of the columns. */
    static <T> void rows(List<T> rows, List<Column<T>> columns, Object structuredValue) {
        if (Globals.structured()) {
            structured(structuredValue);
            return;
        }
        boolean wide = Globals.outputMode().equals("wide");
        List<Column<T>> cols = columns.stream().filter(c -> wide || !c.wide()).toList();
        List<String[]> cells = new ArrayList<>();
        cells.add(cols.stream().map(Column::header).toArray(String[]::new));
        for (T row : rows) {
            cells.add(cols.stream().map(c -> {
                Object v = c.value().apply(row);
                return v == null ? "-" : v.toString();
            }).toArray(String[]::new));
        }
        int[] width = new int[cols.size()];
        for (String[] line : cells) {
            for (int i = 0; i < line.length; i++) {
                width[i] = Math.max(width[i], line[i].length());
            }
        }
        boolean header = true;
        for (String[] line : cells) {
            StringBuilder b = new StringBuilder();
            for (int i = 0; i < line.length; i++) {
                String cell = i == line.length - 1 ? line[i] : String.format("%-" + width[i] + "s  ", line[i]);
                b.append(cell);
            }
            String text = b.toString().stripTrailing();
            out().println(header && Globals.color() ? "\u001b[1m" + text + "\u001b[0m" : text);
            header = false;
        }
        out().flush();
    }

    /** A mutation: {@code {"action":"created","id":…}} in JSON/YAML, a sentence otherwise. */
    static void action(String action, Map<String, Object> fields, String prose) {
        if (Globals.structured()) {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("action", action);
            m.putAll(fields);
            structured(m);
        } else {
            out().println(prose);
            out().flush();
        }
    }

    /** An error: JSON on stdout in JSON mode, prose on stderr otherwise. */
    static void error(int exit, String message) {
        if (Globals.structured()) {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("error", Map.of("code", ExitCodes.codeName(exit), "message", message == null ? "" : message,
                    "exit_code", exit));
            structured(m);
        } else {
            String prefix = Globals.color() && System.getenv("NO_COLOR") == null ? "\u001b[31merror:\u001b[0m " : "error: ";
            System.err.println(prefix + message);
        }
    }
}
