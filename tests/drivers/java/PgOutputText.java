// pgoutput (protocol 1) messages as one line of text each, LSNs and timestamps left out so the lines are the same on
// every correct server; a Begin's xid is named by the caller (the txid_current() of the transaction it expects).
// Message layouts: https://www.postgresql.org/docs/current/protocol-logicalrep-message-formats.html

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.function.LongFunction;

final class PgOutputText {
    private PgOutputText() {
    }

    /** The message's line; <code>xidName</code> names a Begin's xid. */
    static String describe(ByteBuffer message, LongFunction<String> xidName) {
        ByteBuffer m = message.slice();
        char type = (char) m.get();
        switch (type) {
            case 'B': {
                m.getLong(); // final LSN
                m.getLong(); // commit time
                return "BEGIN xid=" + xidName.apply(Integer.toUnsignedLong(m.getInt()));
            }
            case 'C': {
                int flags = m.get();
                return "COMMIT flags=" + flags;
            }
            case 'R': {
                int relid = m.getInt();
                String line = "RELATION " + string(m) + "." + string(m) + " replident=" + (char) m.get() + " columns=";
                int count = m.getShort();
                List<String> columns = new ArrayList<>();
                for (int i = 0; i < count; i++) {
                    int flags = m.get();
                    String name = string(m);
                    int type_ = m.getInt();
                    int typmod = m.getInt();
                    columns.add(name + ":" + type_ + (typmod == -1 ? "" : "(" + typmod + ")") + (flags == 1 ? ":key" : ""));
                }
                return line + String.join(",", columns) + (relid == 0 ? " relid=0" : "");
            }
            case 'I': {
                m.getInt(); // relid: the Relation message's, an oid that differs between servers
                char n = (char) m.get();
                return "INSERT " + n + tuple(m);
            }
            case 'U': {
                m.getInt();
                StringBuilder line = new StringBuilder("UPDATE");
                char part = (char) m.get();
                if (part == 'K' || part == 'O') {
                    line.append(' ').append(part).append(tuple(m));
                    part = (char) m.get();
                }
                return line.append(' ').append(part).append(tuple(m)).toString();
            }
            case 'D': {
                m.getInt();
                char part = (char) m.get();
                return "DELETE " + part + tuple(m);
            }
            case 'T': {
                int relations = m.getInt();
                return "TRUNCATE relations=" + relations + " options=" + m.get();
            }
            default:
                return "MESSAGE " + type;
        }
    }

    private static String tuple(ByteBuffer m) {
        int count = m.getShort();
        List<String> values = new ArrayList<>();
        for (int i = 0; i < count; i++) {
            char kind = (char) m.get();
            switch (kind) {
                case 'n' -> values.add("null");
                case 'u' -> values.add("unchanged");
                case 't' -> {
                    byte[] bytes = new byte[m.getInt()];
                    m.get(bytes);
                    values.add("'" + new String(bytes, StandardCharsets.UTF_8) + "'");
                }
                default -> throw new IllegalStateException("tuple column kind " + kind);
            }
        }
        return "(" + String.join(",", values) + ")";
    }

    private static String string(ByteBuffer m) {
        int start = m.position();
        while (m.get() != 0) {
        }
        byte[] bytes = new byte[m.position() - start - 1];
        m.position(start);
        m.get(bytes);
        m.get();
        return new String(bytes, StandardCharsets.UTF_8);
    }
}
