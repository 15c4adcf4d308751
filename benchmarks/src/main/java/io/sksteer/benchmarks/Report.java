package io.sksteer.benchmarks;

import java.io.PrintStream;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;

/**
 * What the benchmarks print: Markdown tables, one per section, then the goals. Text in, text out;
 * the figures are formatted by the sections.
 */
final class Report {

    /** One table: a title, column names, rows, and notes printed under it. */
    static final class Table {
        final String title;
        final List<String> columns;
        final List<List<String>> rows = new ArrayList<>();
        final List<String> notes = new ArrayList<>();

        Table(String title, String... columns) {
            this.title = title;
            this.columns = List.of(columns);
        }

        Table row(Object... cells) {
            if (cells.length != columns.size()) {
                throw new IllegalArgumentException("row of " + cells.length + " cells in a table of " + columns.size()
                        + " columns: " + Arrays.toString(cells));
            }
            List<String> r = new ArrayList<>();
            for (Object c : cells) {
                r.add(c == null ? "" : c.toString());
            }
            rows.add(r);
            return this;
        }

        Table note(String note) {
            notes.add(note);
            return this;
        }
    }

    /** A goal with the ratio measured for it. */
    record Goal(String goal, String measuredAs, double ratio, String target, boolean met) {
    }

    private final List<String> header = new ArrayList<>();
    private final List<Table> tables = new ArrayList<>();
    private final List<Goal> goals = new ArrayList<>();

    /**
     * Adds a row of two sides measured in the same rounds: the medians, their ratio and each
     * round's ratio. Returns the ratio of the medians.
     */
    static double ratioRow(Table t, String name, List<Double> steered, List<Double> direct) {
        double s = median(steered);
        double d = median(direct);
        List<String> perRound = new ArrayList<>();
        for (int i = 0; i < steered.size(); i++) {
            perRound.add(fmt2(steered.get(i) / direct.get(i)));
        }
        t.row(name, count(Math.round(s)), count(Math.round(d)), fmt2(s / d), String.join(" ", perRound));
        return s / d;
    }

    void header(String line) {
        header.add(line);
    }

    Table table(String title, String... columns) {
        Table t = new Table(title, columns);
        tables.add(t);
        return t;
    }

    /** Records a goal "ratio ≤ limit". */
    void atMost(String goal, String measuredAs, double ratio, double limit) {
        goals.add(new Goal(goal, measuredAs, ratio, "≤ " + fmt2(limit), ratio <= limit));
    }

    /** Records a goal "ratio ≥ limit". */
    void atLeast(String goal, String measuredAs, double ratio, double limit) {
        goals.add(new Goal(goal, measuredAs, ratio, "≥ " + fmt2(limit), ratio >= limit));
    }

    List<Goal> goals() {
        return List.copyOf(goals);
    }

    void print(PrintStream out) {
        header.forEach(out::println);
        for (Table t : tables) {
            out.println();
            out.println("### " + t.title);
            out.println();
            printRows(out, t.columns, t.rows);
            if (!t.notes.isEmpty()) {
                out.println();
                t.notes.forEach(n -> out.println("- " + n));
            }
        }
        out.println();
        out.println("### Goals");
        out.println();
        List<List<String>> rows = new ArrayList<>();
        for (Goal g : goals) {
            rows.add(List.of(g.goal(), g.measuredAs(), fmt2(g.ratio()), g.target(), g.met() ? "met" : "NOT MET"));
        }
        printRows(out, List.of("goal", "measured as", "ratio", "target", "result"), rows);
        out.flush();
    }

    private static void printRows(PrintStream out, List<String> columns, List<List<String>> rows) {
        int[] width = new int[columns.size()];
        for (int i = 0; i < width.length; i++) {
            width[i] = columns.get(i).length();
            for (List<String> r : rows) {
                width[i] = Math.max(width[i], r.get(i).length());
            }
        }
        out.println(line(columns, width));
        List<String> rule = new ArrayList<>();
        for (int w : width) {
            rule.add("-".repeat(w));
        }
        out.println(line(rule, width));
        rows.forEach(r -> out.println(line(r, width)));
    }

    private static String line(List<String> cells, int[] width) {
        StringBuilder b = new StringBuilder("|");
        for (int i = 0; i < cells.size(); i++) {
            b.append(' ').append(cells.get(i)).append(" ".repeat(width[i] - cells.get(i).length())).append(" |");
        }
        return b.toString();
    }

    static String fmt2(double v) {
        return String.format(Locale.ROOT, "%.2f", v);
    }

    static String fmt1(double v) {
        return String.format(Locale.ROOT, "%.1f", v);
    }

    /** 100000 → "100,000". */
    static String count(long v) {
        return String.format(Locale.ROOT, "%,d", v);
    }

    /** The median of {@code values} (mean of the middle two for an even count). */
    static double median(double[] values) {
        double[] s = values.clone();
        Arrays.sort(s);
        int n = s.length;
        return n % 2 == 1 ? s[n / 2] : (s[n / 2 - 1] + s[n / 2]) / 2;
    }

    static double median(List<? extends Number> values) {
        return median(values.stream().mapToDouble(Number::doubleValue).toArray());
    }
}
