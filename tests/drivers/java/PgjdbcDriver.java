// Java pgjdbc (Debian libpostgresql-jdbc-java) against a Postgres server, with server-side prepares from the first
// execution (prepareThreshold=1: statements S_1, S_2, ... per connection; evicted ones closed with the protocol's Close).
// Usage: java -cp <classes>:/usr/share/java/postgresql.jar PgjdbcDriver <postgres-url> <case>. Prints one line per
// result (the same on every correct server); exits 1 with "FAIL: ..." on stderr when a check fails.

import java.io.PrintStream;
import java.io.StringReader;
import java.io.StringWriter;
import java.math.BigDecimal;
import java.net.URI;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.sql.Array;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.ResultSetMetaData;
import java.sql.SQLException;
import java.sql.Statement;
import java.sql.Types;
import java.time.LocalDate;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.LongFunction;
import org.postgresql.PGConnection;
import org.postgresql.PGNotification;
import org.postgresql.copy.CopyManager;
import org.postgresql.replication.LogSequenceNumber;
import org.postgresql.replication.PGReplicationStream;

public final class PgjdbcDriver {
    private static String jdbcUrl;
    private static final PrintStream out = new PrintStream(System.out, true, StandardCharsets.UTF_8);

    public static void main(String[] args) throws Exception {
        if (args.length != 2) {
            System.err.println("usage: PgjdbcDriver <postgres-url> <case>");
            System.exit(2);
        }
        URI uri = new URI(args[0]);
        String user = uri.getUserInfo() == null ? "postgres" : uri.getUserInfo().split(":")[0];
        jdbcUrl = "jdbc:postgresql://" + uri.getHost() + ":" + (uri.getPort() < 0 ? 5432 : uri.getPort()) + uri.getPath()
                + "?user=" + user + "&prepareThreshold=1&sslmode=disable";
        try {
            switch (args[1]) {
                case "prepare" -> prepareConcurrently();
                case "txerror" -> transactionWithError();
                case "copy" -> copyInAndOut();
                case "notify" -> listenNotify();
                case "types" -> typeRoundTrips();
                case "evict" -> statementCacheEviction();
                case "replication" -> logicalReplication();
                default -> fail("unknown case " + args[1]);
            }
        } catch (SQLException e) {
            fail(describe(e));
        }
    }

    static void fail(String message) {
        System.err.println("FAIL: " + message);
        System.exit(1);
    }

    static void check(boolean ok, String message) {
        if (!ok) fail(message);
    }

    static String describe(SQLException e) {
        String message = e.getMessage();
        if (message.startsWith("ERROR: ")) message = message.substring(7);
        int newline = message.indexOf('\n');
        if (newline >= 0) message = message.substring(0, newline);
        return "ERROR " + e.getSQLState() + " " + message;
    }

    static Connection connect(String extra) throws SQLException {
        return DriverManager.getConnection(jdbcUrl + extra);
    }

    static Object scalar(Connection conn, String sql, Object... params) throws SQLException {
        try (PreparedStatement ps = conn.prepareStatement(sql)) {
            for (int i = 0; i < params.length; i++) ps.setObject(i + 1, params[i]);
            try (ResultSet rs = ps.executeQuery()) {
                rs.next();
                return rs.getObject(1);
            }
        }
    }

    static void prepareConcurrently() throws Exception {
        int clients = 3, rounds = 25;
        CountDownLatch start = new CountDownLatch(1);
        AtomicReference<String> error = new AtomicReference<>();
        List<Thread> threads = new ArrayList<>();
        for (int c = 0; c < clients; c++) {
            int client = c;
            Thread thread = new Thread(() -> {
                try (Connection conn = connect("")) {
                    start.await();
                    // Same order on every connection: each names them S_1 and S_2, with texts of its own for S_2.
                    try (PreparedStatement same = conn.prepareStatement("select ?::int * 2");
                         PreparedStatement mine = conn.prepareStatement("select 'client" + client + ":' || ?::text")) {
                        for (int i = 0; i < rounds; i++) {
                            same.setInt(1, i);
                            try (ResultSet rs = same.executeQuery()) {
                                rs.next();
                                if (rs.getInt(1) != i * 2) throw new IllegalStateException("client " + client + " same " + i + ": " + rs.getInt(1));
                            }
                            mine.setString(1, Integer.toString(i));
                            try (ResultSet rs = mine.executeQuery()) {
                                rs.next();
                                if (!rs.getString(1).equals("client" + client + ":" + i))
                                    throw new IllegalStateException("client " + client + " mine " + i + ": " + rs.getString(1));
                            }
                        }
                    }
                } catch (SQLException e) {
                    error.compareAndSet(null, "client " + client + ": " + describe(e));
                } catch (Exception e) {
                    error.compareAndSet(null, "client " + client + ": " + e);
                }
            });
            threads.add(thread);
            thread.start();
        }
        start.countDown();
        for (Thread thread : threads) thread.join();
        check(error.get() == null, String.valueOf(error.get()));
        out.println("prepare: " + clients + " connections x " + rounds + " rounds ok");
    }

    static void transactionWithError() throws SQLException {
        try (Connection conn = connect("")) {
            try (Statement st = conn.createStatement()) {
                st.execute("drop table if exists drv_java; create table drv_java (id int primary key, v text)");
            }
            conn.setAutoCommit(false);
            try (PreparedStatement insert = conn.prepareStatement("insert into drv_java values (?, ?)")) {
                insert.setInt(1, 1);
                insert.setString(2, "a");
                insert.executeUpdate();
                insert.setString(2, "b");
                try {
                    insert.executeUpdate();
                    fail("duplicate key did not fail");
                } catch (SQLException e) {
                    out.println("duplicate insert: " + describe(e));
                }
            }
            try {
                scalar(conn, "select ?::int", 1);
                fail("statement in an aborted transaction did not fail");
            } catch (SQLException e) {
                out.println("statement after error: " + describe(e));
            }
            conn.rollback();
            conn.setAutoCommit(true);
            long n = (Long) scalar(conn, "select count(*) from drv_java");
            out.println("rows after rollback: " + n);
            check(n == 0, "rolled back insert is visible");
            try {
                scalar(conn, "select 1 / ?::int", 0);
            } catch (SQLException e) {
                out.println("division by zero: " + describe(e));
            }
            out.println("after error: " + scalar(conn, "select ?::int + 1", 41));
            try (Statement st = conn.createStatement()) {
                st.execute("drop table drv_java");
            }
        }
    }

    static void copyInAndOut() throws Exception {
        try (Connection conn = connect("")) {
            try (Statement st = conn.createStatement()) {
                st.execute("drop table if exists drv_java_copy; create table drv_java_copy (id int, name text, amount numeric)");
            }
            CopyManager copy = conn.unwrap(PGConnection.class).getCopyAPI();
            long rows = copy.copyIn("copy drv_java_copy from stdin", new StringReader("1\tone\t1.5\n2\tzß€😀\t\\N\n3\ttab\\there\t-0.001\n"));
            out.println("copy from: " + rows);
            try {
                copy.copyIn("copy drv_java_copy from stdin", new StringReader("x\tbad\t1\n"));
                fail("bad copy data did not fail");
            } catch (SQLException e) {
                out.println("bad copy: " + describe(e));
            }
            StringWriter text = new StringWriter();
            rows = copy.copyOut("copy (select * from drv_java_copy order by id) to stdout", text);
            out.println("copy to: " + rows);
            out.print(text);
            try (Statement st = conn.createStatement()) {
                st.execute("drop table drv_java_copy");
            }
        }
    }

    static void listenNotify() throws SQLException {
        try (Connection listener = connect(""); Connection notifier = connect("")) {
            try (Statement st = listener.createStatement()) {
                st.execute("listen drv_java_chan");
            }
            scalar(notifier, "select pg_notify(?, ?)", "drv_java_chan", "héllo ü");
            try (Statement st = notifier.createStatement()) {
                st.execute("notify drv_java_chan, 'second'");
            }
            int notifierPid = notifier.unwrap(PGConnection.class).getBackendPID();
            List<PGNotification> got = new ArrayList<>();
            long deadline = System.currentTimeMillis() + 10_000;
            while (got.size() < 2 && System.currentTimeMillis() < deadline) {
                PGNotification[] batch = listener.unwrap(PGConnection.class).getNotifications(1000);
                if (batch != null) got.addAll(Arrays.asList(batch));
            }
            check(got.size() == 2, "got " + got.size() + " notifications within 10 s, want 2");
            for (PGNotification n : got) {
                boolean fromNotifier = n.getPID() == notifierPid;
                out.println("notification: channel=" + n.getName() + " payload=" + n.getParameter() + " from-notifier=" + fromNotifier);
                check(fromNotifier, "notification pid " + n.getPID() + " is not the notifier's " + notifierPid);
            }
        }
    }

    static void typeRoundTrips() throws SQLException {
        try (Connection conn = connect("")) {
            try (Statement st = conn.createStatement()) {
                st.execute("set time zone 'UTC'");
            }
            byte[] bytea = {0, (byte) 0xff, '\\', '\''};
            OffsetDateTime ts = OffsetDateTime.of(2024, 2, 29, 12, 34, 56, 789012000, ZoneOffset.UTC);
            UUID uuid = UUID.fromString("a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11");
            try (PreparedStatement ps = conn.prepareStatement(
                    "select ?::int4 as int4, ?::int8 as int8, ?::numeric as numeric, ?::text as text, ?::bytea as bytea,"
                    + " ?::bool as bool, ?::date as date, ?::timestamptz as timestamptz, ?::uuid as uuid, ?::json as json,"
                    + " ?::jsonb as jsonb, ?::int4[] as int4s, ?::text[] as texts, ?::int4 as null")) {
                ps.setInt(1, Integer.MIN_VALUE);
                ps.setLong(2, Long.MAX_VALUE);
                ps.setBigDecimal(3, new BigDecimal("12345678901234567890.0123456789"));
                ps.setString(4, "zß€😀 'q' \"d\"");
                ps.setBytes(5, bytea);
                ps.setBoolean(6, true);
                ps.setObject(7, LocalDate.of(1999, 12, 31));
                ps.setObject(8, ts);
                ps.setObject(9, uuid);
                ps.setString(10, "{\"a\": [1, 2.5, \"x\"]}");
                ps.setString(11, "{\"b\": 1, \"a\": \"ü\"}");
                ps.setArray(12, conn.createArrayOf("int4", new Integer[] {1, -2, 3}));
                ps.setArray(13, conn.createArrayOf("text", new String[] {"a", "b c", "ü", "", "NULL", null}));
                ps.setNull(14, Types.INTEGER);
                // Twice: the first execution may go unnamed, the second through the named statement and binary results.
                for (int run = 0; run < 2; run++) {
                    try (ResultSet rs = ps.executeQuery()) {
                        rs.next();
                        ResultSetMetaData meta = rs.getMetaData();
                        out.println("-- execution " + (run + 1));
                        for (int i = 1; i <= meta.getColumnCount(); i++) {
                            Object value = switch (meta.getColumnName(i)) {
                                case "bytea" -> HexFormat.of().formatHex(rs.getBytes(i));
                                case "date" -> rs.getObject(i, LocalDate.class);
                                case "timestamptz" -> rs.getObject(i, OffsetDateTime.class);
                                case "int4s", "texts" -> Arrays.toString((Object[]) rs.getArray(i).getArray());
                                default -> rs.getObject(i);
                            };
                            out.println(meta.getColumnName(i) + ": " + value + " (" + meta.getColumnTypeName(i) + ")");
                        }
                        check(rs.getInt(1) == Integer.MIN_VALUE && rs.getLong(2) == Long.MAX_VALUE, "integers changed");
                        check(rs.getBigDecimal(3).equals(new BigDecimal("12345678901234567890.0123456789")), "numeric changed");
                        check(rs.getString(4).equals("zß€😀 'q' \"d\"") && Arrays.equals(rs.getBytes(5), bytea), "text/bytea changed");
                        check(rs.getObject(8, OffsetDateTime.class).isEqual(ts) && rs.getObject(9).equals(uuid), "timestamptz/uuid changed");
                        rs.getInt(14);
                        check(rs.wasNull(), "NULL came back as a value");
                    }
                }
            }
        }
    }

    // pgjdbc's statement cache with room for two: the third distinct query evicts the oldest (Close of S_n).
    static void statementCacheEviction() throws SQLException {
        try (Connection conn = connect("&preparedStatementCacheQueries=2")) {
            String[] queries = {"select ?::int + 1", "select ?::int + 2", "select ?::int + 3"};
            for (int round = 0; round < 7; round++) {
                if (round == 4) conn.setAutoCommit(false);
                for (int q = 0; q < queries.length; q++) {
                    int n = (Integer) scalar(conn, queries[q], round * 10);
                    check(n == round * 10 + q + 1, "round " + round + " query " + (q + 1) + ": " + n);
                }
            }
            conn.commit();
            out.println("evict: 7 rounds x 3 queries ok (3 in a transaction)");
        }
    }

    // pgjdbc's replication API (what Debezium's Postgres connector streams with): a pgoutput slot made on a replication
    // connection, two transactions streamed, the first confirmed with a standby status update; a second stream on the
    // slot (a new connection, as a connector that restarts) gets the second again (unconfirmed) and not the first. Each Begin's xid is checked against txid_current().
    static final String SLOT = "jdbc_slot";

    static void logicalReplication() throws Exception {
        try (Connection sql = connect("")) {
            try (Statement st = sql.createStatement()) {
                st.execute("DROP PUBLICATION IF EXISTS jdbc_pub");
                st.execute("DROP TABLE IF EXISTS jdbc_repl");
                st.execute("CREATE TABLE jdbc_repl (id int PRIMARY KEY, note text)");
                st.execute("CREATE PUBLICATION jdbc_pub FOR TABLE jdbc_repl");
                st.execute("SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots WHERE slot_name = '" + SLOT + "'");
            }
            try (Connection replication = connectReplication()) {
                replication.unwrap(PGConnection.class).getReplicationAPI().createReplicationSlot().logical()
                        .withSlotName(SLOT).withOutputPlugin("pgoutput").make();
            }
            long first = transaction(sql, "INSERT INTO jdbc_repl VALUES (1, 'one'), (2, 'two')");
            long second = transaction(sql, "UPDATE jdbc_repl SET note = 'uno' WHERE id = 1", "DELETE FROM jdbc_repl WHERE id = 2");
            LongFunction<String> names = xid -> xid == first ? "first" : xid == second ? "second" : "unexpected " + xid;
            out.println("stream 1");
            LogSequenceNumber confirmed = stream(2, 1, names);
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
            while (!(Boolean) scalar(sql, "SELECT confirmed_flush_lsn >= ?::pg_lsn FROM pg_replication_slots WHERE slot_name = ?",
                    confirmed.asString(), SLOT)) {
                check(System.nanoTime() < deadline, "confirmed_flush_lsn never reached " + confirmed.asString());
                Thread.sleep(20);
            }
            out.println("confirmed the first");
            out.println("stream 2");
            stream(1, 0, names);
            try (Connection replication = connectReplication()) {
                replication.unwrap(PGConnection.class).getReplicationAPI().dropReplicationSlot(SLOT);
            }
            out.println("slots named " + SLOT + ": " + scalar(sql, "SELECT count(*) FROM pg_replication_slots WHERE slot_name = ?", SLOT));
        }
    }

    static Connection connectReplication() throws SQLException {
        return connect("&replication=database&assumeMinServerVersion=9.4&preferQueryMode=simple");
    }

    /** The statements in one transaction; its txid_current(). */
    static long transaction(Connection conn, String... statements) throws SQLException {
        conn.setAutoCommit(false);
        try (Statement st = conn.createStatement()) {
            for (String statement : statements) st.execute(statement);
            long xid = ((Number) scalar(conn, "SELECT txid_current()")).longValue();
            conn.commit();
            return xid;
        } finally {
            conn.setAutoCommit(true);
        }
    }

    /** Streams the slot until <code>commits</code> transactions arrived, confirming the first <code>confirm</code> as each ends. */
    static LogSequenceNumber stream(int commits, int confirm, LongFunction<String> names) throws Exception {
        try (Connection replication = connectReplication()) {
            PGReplicationStream stream = replication.unwrap(PGConnection.class).getReplicationAPI().replicationStream().logical().withSlotName(SLOT)
                    .withSlotOption("proto_version", 1).withSlotOption("publication_names", "jdbc_pub")
                    .withStatusInterval(1, TimeUnit.SECONDS).start();
            LogSequenceNumber confirmed = null;
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
            for (int seen = 0; seen < commits; ) {
                ByteBuffer message = stream.readPending();
                if (message == null) {
                    check(System.nanoTime() < deadline, "the stream sent " + seen + " of " + commits + " transactions in 30 s");
                    Thread.sleep(10);
                    continue;
                }
                String line = PgOutputText.describe(message, names);
                out.println(line);
                if (line.startsWith("COMMIT") && ++seen <= confirm) {
                    confirmed = stream.getLastReceiveLSN();
                    stream.setAppliedLSN(confirmed);
                    stream.setFlushedLSN(confirmed);
                    stream.forceUpdateStatus();
                }
            }
            stream.close();
            return confirmed;
        }
    }
}
