// Go pgx v4 (Debian golang-github-jackc-pgx-v4-dev) against a Postgres server.
// Usage: pgxdriver <postgres-url> <case>. Prints one line per result (the same on every correct server, so the
// xunit test compares ZeroPg's output with PostgreSQL's); exits 1 with "FAIL: ..." on stderr when a check fails.
// Built offline in GOPATH mode: GO111MODULE=off GOPATH=/usr/share/gocode go build.
package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgconn"
	"github.com/jackc/pgproto3/v2"
	"github.com/jackc/pgtype"
	"github.com/jackc/pgx/v4"
)

// decimal writes a numeric as Postgres does (pgtype's own text is digits and an exponent).
func decimal(n pgtype.Numeric) string {
	if n.NaN {
		return "NaN"
	}
	digits := n.Int.String()
	sign := ""
	if strings.HasPrefix(digits, "-") {
		sign, digits = "-", digits[1:]
	}
	if n.Exp >= 0 {
		return sign + digits + strings.Repeat("0", int(n.Exp))
	}
	scale := int(-n.Exp)
	if len(digits) <= scale {
		digits = strings.Repeat("0", scale-len(digits)+1) + digits
	}
	return sign + digits[:len(digits)-scale] + "." + digits[len(digits)-scale:]
}

var (
	ctx   = context.Background()
	url   string
	table = "drv_go"
)

func main() {
	if len(os.Args) != 3 {
		fmt.Fprintln(os.Stderr, "usage: pgxdriver <postgres-url> <case>")
		os.Exit(2)
	}
	url = os.Args[1]
	cases := map[string]func(){
		"prepare":               prepareConcurrently,
		"txerror":               transactionWithError,
		"copy":                  copyInAndOut,
		"notify":                listenNotify,
		"types":                 typeRoundTrips,
		"evict":                 statementCacheEviction,
		"deallocate-parse-made": deallocateParseMade,
		"execute-parse-made":    sqlExecuteOfParseMade,
		"bind-prepare-made":     bindOfPrepareMade,
		"prepared-statements":   preparedStatementsView,
		"advisory-lock-column":  advisoryLockColumn,
		"describe-prepare-made": describePrepareMade,
		"close-prepare-made":    closePrepareMade,
		"prepare-of-parse-made": prepareOfParseMadeName,
		"parse-of-prepare-made": parseOfPrepareMadeName,
		"deallocate-unknown":    deallocateUnknown,
		"deallocate-all":        deallocateAll,
	}
	run, ok := cases[os.Args[2]]
	if !ok {
		fail("unknown case %q", os.Args[2])
	}
	run()
}

func fail(format string, args ...interface{}) {
	fmt.Fprintf(os.Stderr, "FAIL: "+format+"\n", args...)
	os.Exit(1)
}

// must stops on an error, naming the step and the SQLSTATE.
func must(err error, step string) {
	if err != nil {
		fail("%s: %s", step, describe(err))
	}
}

func describe(err error) string {
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		return fmt.Sprintf("ERROR %s %s", pgErr.Code, pgErr.Message)
	}
	return err.Error()
}

func check(ok bool, format string, args ...interface{}) {
	if !ok {
		fail(format, args...)
	}
}

func connect(extra string) *pgx.Conn {
	if extra != "" && strings.Contains(url, "?") {
		extra = "&" + strings.TrimPrefix(extra, "?")
	}
	config, err := pgx.ParseConfig(url + extra)
	must(err, "parse url")
	conn, err := pgx.ConnectConfig(ctx, config)
	must(err, "connect")
	return conn
}

func scalarText(conn *pgx.Conn, sql string, args ...interface{}) string {
	var s *string
	must(conn.QueryRow(ctx, sql, args...).Scan(&s), sql)
	if s == nil {
		return "NULL"
	}
	return *s
}

// Three connections prepare the same names at the same moment: "same" with one text everywhere, "mine" with a text
// of each connection's own; then each runs both, interleaved with the others, and with pgx's own cached statements.
func prepareConcurrently() {
	const clients, rounds = 3, 25
	conns := make([]*pgx.Conn, clients)
	for c := range conns {
		conns[c] = connect("")
		defer conns[c].Close(ctx)
	}
	start := make(chan struct{})
	errs := make(chan error, clients)
	var wg sync.WaitGroup
	for c := range conns {
		wg.Add(1)
		go func(c int, conn *pgx.Conn) {
			defer wg.Done()
			<-start
			if _, err := conn.Prepare(ctx, "same", "select $1::int * 2"); err != nil {
				errs <- fmt.Errorf("client %d prepare same: %s", c, describe(err))
				return
			}
			if _, err := conn.Prepare(ctx, "mine", fmt.Sprintf("select 'client%d:' || $1::text", c)); err != nil {
				errs <- fmt.Errorf("client %d prepare mine: %s", c, describe(err))
				return
			}
			for i := 0; i < rounds; i++ {
				var n int
				var s string
				if err := conn.QueryRow(ctx, "same", i).Scan(&n); err != nil || n != i*2 {
					errs <- fmt.Errorf("client %d same %d: %d %v", c, i, n, err)
					return
				}
				if err := conn.QueryRow(ctx, "mine", fmt.Sprint(i)).Scan(&s); err != nil || s != fmt.Sprintf("client%d:%d", c, i) {
					errs <- fmt.Errorf("client %d mine %d: %q %v", c, i, s, err)
					return
				}
				// pgx's statement cache prepares this text itself (lrupsc_N_0, one name per connection).
				if err := conn.QueryRow(ctx, "select $1::int + $2::int", c, i).Scan(&n); err != nil || n != c+i {
					errs <- fmt.Errorf("client %d cached %d: %d %v", c, i, n, err)
					return
				}
			}
		}(c, conns[c])
	}
	close(start)
	wg.Wait()
	close(errs)
	for err := range errs {
		fail("%v", err)
	}
	fmt.Printf("prepare: %d clients x %d rounds ok\n", clients, rounds)
}

func transactionWithError() {
	conn := connect("")
	defer conn.Close(ctx)
	_, err := conn.Exec(ctx, fmt.Sprintf("drop table if exists %s; create table %s (id int primary key, v text)", table, table))
	must(err, "create table")
	defer conn.Exec(ctx, "drop table "+table)

	tx, err := conn.Begin(ctx)
	must(err, "begin")
	_, err = tx.Exec(ctx, fmt.Sprintf("insert into %s values ($1, $2)", table), 1, "a")
	must(err, "insert 1")
	_, err = tx.Exec(ctx, fmt.Sprintf("insert into %s values ($1, $2)", table), 1, "b")
	fmt.Println("duplicate insert:", describe(err))
	check(err != nil, "duplicate key did not fail")
	var n int
	err = tx.QueryRow(ctx, "select $1::int", 1).Scan(&n)
	fmt.Println("statement after error:", describe(err))
	check(err != nil, "statement in an aborted transaction did not fail")
	must(tx.Rollback(ctx), "rollback")
	must(conn.QueryRow(ctx, fmt.Sprintf("select count(*) from %s", table)).Scan(&n), "count")
	fmt.Println("rows after rollback:", n)
	check(n == 0, "rolled back insert is visible")
	fmt.Println("tx status:", string(conn.PgConn().TxStatus()))

	// An error outside a transaction block, then the connection goes on.
	err = conn.QueryRow(ctx, "select 1 / $1::int", 0).Scan(&n)
	fmt.Println("division by zero:", describe(err))
	must(conn.QueryRow(ctx, "select $1::int + 1", 41).Scan(&n), "select after error")
	fmt.Println("after error:", n)
}

func copyInAndOut() {
	conn := connect("")
	defer conn.Close(ctx)
	_, err := conn.Exec(ctx, fmt.Sprintf("drop table if exists %s; create table %s (id int, name text, amount numeric, data bytea)", table, table))
	must(err, "create table")
	defer conn.Exec(ctx, "drop table "+table)

	// pgx's CopyFrom: COPY ... FROM STDIN (FORMAT binary), sent as a simple Query.
	rows := [][]interface{}{
		{1, "plain", 1.5, []byte{0, 1, 2}},
		{2, "tab\there, newline\nthere, back\\slash", -0.001, []byte{}},
		{3, "zß€😀", nil, nil},
	}
	n, err := conn.CopyFrom(ctx, pgx.Identifier{table}, []string{"id", "name", "amount", "data"}, pgx.CopyFromRows(rows))
	must(err, "copy from (binary)")
	fmt.Println("copy from binary:", n)

	// Text COPY FROM STDIN through pgconn.
	text := "4\tfour\t4.0\t\\\\x04\n5\t\\N\t\\N\t\\N\n"
	tag, err := conn.PgConn().CopyFrom(ctx, strings.NewReader(text), fmt.Sprintf("copy %s from stdin", table))
	must(err, "copy from (text)")
	fmt.Println("copy from text:", tag.String())

	var out bytes.Buffer
	tag, err = conn.PgConn().CopyTo(ctx, &out, fmt.Sprintf("copy (select * from %s order by id) to stdout", table))
	must(err, "copy to")
	fmt.Println("copy to:", tag.String())
	fmt.Print(out.String())
}

func listenNotify() {
	listener := connect("")
	defer listener.Close(ctx)
	notifier := connect("")
	defer notifier.Close(ctx)
	channel := "drv_go_chan"
	_, err := listener.Exec(ctx, "listen "+channel)
	must(err, "listen")
	_, err = notifier.Exec(ctx, "select pg_notify($1, $2)", channel, "héllo ü")
	must(err, "pg_notify")
	_, err = notifier.Exec(ctx, fmt.Sprintf("notify %s, 'second'", channel))
	must(err, "notify")
	for i := 0; i < 2; i++ {
		wait, cancel := context.WithTimeout(ctx, 10*time.Second)
		n, err := listener.WaitForNotification(wait)
		cancel()
		must(err, "wait for notification")
		fmt.Printf("notification: channel=%s payload=%s from-notifier=%v\n", n.Channel, n.Payload, n.PID == notifier.PgConn().PID())
		check(n.PID == notifier.PgConn().PID(), "notification pid %d is not the notifier's %d", n.PID, notifier.PgConn().PID())
	}
	// A notification sent inside a transaction arrives at COMMIT, not before; a rolled back one never.
	tx, err := notifier.Begin(ctx)
	must(err, "begin")
	_, err = tx.Exec(ctx, fmt.Sprintf("notify %s, 'rolled back'", channel))
	must(err, "notify in tx")
	must(tx.Rollback(ctx), "rollback")
	_, err = notifier.Exec(ctx, fmt.Sprintf("notify %s, 'third'", channel))
	must(err, "notify")
	wait, cancel := context.WithTimeout(ctx, 10*time.Second)
	n, err := listener.WaitForNotification(wait)
	cancel()
	must(err, "wait for notification")
	fmt.Printf("notification: channel=%s payload=%s\n", n.Channel, n.Payload)
	_, err = listener.Exec(ctx, "unlisten "+channel)
	must(err, "unlisten")
}

func typeRoundTrips() {
	conn := connect("")
	defer conn.Close(ctx)
	_, err := conn.Exec(ctx, "set time zone 'UTC'")
	must(err, "set time zone")

	var numeric pgtype.Numeric
	must(numeric.Set("12345678901234567890.0123456789"), "numeric")
	var uuid pgtype.UUID
	must(uuid.Set("a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11"), "uuid")
	ts := time.Date(2024, 2, 29, 12, 34, 56, 789012000, time.UTC)
	date := time.Date(1999, 12, 31, 0, 0, 0, 0, time.UTC)

	var (
		i4     int32
		i8     int64
		num    pgtype.Numeric
		text   string
		bytea  []byte
		boolV  bool
		dateV  time.Time
		tsV    time.Time
		uuidV  pgtype.UUID
		jsonV  string
		jsonbV string
		ints   []int32
		texts  []string
		null   *int32
		nullT  *string
	)
	err = conn.QueryRow(ctx, `select $1::int4, $2::int8, $3::numeric, $4::text, $5::bytea, $6::bool, $7::date,
		$8::timestamptz, $9::uuid, $10::json, $11::jsonb, $12::int4[], $13::text[], $14::int4, $15::text`,
		int32(-2147483648), int64(9223372036854775807), &numeric, "zß€😀 'q' \"d\"", []byte{0, 255, 92, 39},
		true, date, ts, &uuid, `{"a": [1, 2.5, "x"]}`, `{"b": 1, "a": "ü"}`, []int32{1, -2, 3},
		[]string{"a", "b c", "ü", "", "NULL"}, nil, nil).
		Scan(&i4, &i8, &num, &text, &bytea, &boolV, &dateV, &tsV, &uuidV, &jsonV, &jsonbV, &ints, &texts, &null, &nullT)
	must(err, "round trip")
	numText := decimal(num)
	var uuidText string
	must(uuidV.AssignTo(&uuidText), "uuid text")
	fmt.Println("int4:", i4)
	fmt.Println("int8:", i8)
	fmt.Println("numeric:", numText)
	fmt.Printf("text: %q\n", text)
	fmt.Printf("bytea: %x\n", bytea)
	fmt.Println("bool:", boolV)
	fmt.Println("date:", dateV.Format("2006-01-02"))
	fmt.Println("timestamptz:", tsV.UTC().Format(time.RFC3339Nano))
	fmt.Println("uuid:", uuidText)
	fmt.Println("json:", jsonV)
	fmt.Println("jsonb:", jsonbV)
	fmt.Println("int4[]:", ints)
	fmt.Printf("text[]: %q\n", texts)
	fmt.Println("null int4:", null == nil, "null text:", nullT == nil)
	check(i4 == -2147483648 && i8 == 9223372036854775807 && numText == "12345678901234567890.0123456789", "numbers changed")
	check(text == "zß€😀 'q' \"d\"" && bytes.Equal(bytea, []byte{0, 255, 92, 39}) && boolV, "text/bytea/bool changed")
	check(tsV.Equal(ts) && dateV.Equal(date) && uuidText == "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11", "date/time/uuid changed")
	check(null == nil && nullT == nil, "NULL came back as a value")

	// Values made by the server, read in pgx's binary formats.
	fmt.Println("server text:", scalarText(conn, "select 12345678901234567890.5::numeric::text || ' ' || 'ü'::text"))
	var interval pgtype.Interval
	must(conn.QueryRow(ctx, "select interval '1 day 02:03:04.5'").Scan(&interval), "interval")
	fmt.Println("interval:", interval.Days, interval.Microseconds)
	var f8 float64
	must(conn.QueryRow(ctx, "select 0.1::float8 + 0.2::float8").Scan(&f8), "float8")
	fmt.Println("float8:", f8)
}

// pgx's statement cache with room for two statements: the third distinct query evicts the oldest with SQL
// "deallocate lrupsc_N_0", and the first query comes back prepared under a new name.
func statementCacheEviction() {
	conn := connect("?statement_cache_capacity=2&statement_cache_mode=prepare")
	defer conn.Close(ctx)
	queries := []string{"select $1::int + 1", "select $1::int + 2", "select $1::int + 3"}
	for round := 0; round < 4; round++ {
		for q, sql := range queries {
			var n int
			err := conn.QueryRow(ctx, sql, round*10).Scan(&n)
			must(err, fmt.Sprintf("round %d query %d", round, q+1))
			check(n == round*10+q+1, "round %d query %d: %d", round, q+1, n)
		}
	}
	var count int
	var fromSQL bool
	must(conn.QueryRow(ctx, "select count(*), bool_or(from_sql) from pg_prepared_statements").Scan(&count, &fromSQL), "pg_prepared_statements")
	fmt.Println("evict: 4 rounds x 3 queries ok; prepared statements:", count, "from_sql:", fromSQL)
	check(count == 2, "pg_prepared_statements has %d rows, the cache holds 2", count)
}

// Item 3: the protocol's and SQL's prepared statements are one namespace in Postgres.
func deallocateParseMade() {
	conn := connect("?statement_cache_capacity=0")
	defer conn.Close(ctx)
	pg := conn.PgConn()
	_, err := pg.Prepare(ctx, "p1", "select $1::int * 10", nil)
	must(err, "parse p1")
	_, err = pg.Exec(ctx, "deallocate p1").ReadAll()
	must(err, "deallocate p1")
	fmt.Println("deallocate p1: ok")
	res := pg.ExecPrepared(ctx, "p1", [][]byte{[]byte("4")}, nil, nil).Read()
	fmt.Println("bind p1 after deallocate:", describe(res.Err))
	check(res.Err != nil, "p1 still works after DEALLOCATE")
	_, err = pg.Prepare(ctx, "p1", "select $1::int * 20", nil)
	must(err, "parse p1 again")
	res = pg.ExecPrepared(ctx, "p1", [][]byte{[]byte("4")}, nil, nil).Read()
	must(res.Err, "bind p1 again")
	fmt.Println("p1 again:", string(res.Rows[0][0]))
}

func sqlExecuteOfParseMade() {
	conn := connect("?statement_cache_capacity=0")
	defer conn.Close(ctx)
	pg := conn.PgConn()
	_, err := pg.Prepare(ctx, "p2", "select $1::int * 10", nil)
	must(err, "parse p2")
	results, err := pg.Exec(ctx, "execute p2(4)").ReadAll()
	must(err, "execute p2(4)")
	fmt.Println("execute p2(4):", string(results[0].Rows[0][0]))
}

func bindOfPrepareMade() {
	conn := connect("?statement_cache_capacity=0")
	defer conn.Close(ctx)
	pg := conn.PgConn()
	_, err := pg.Exec(ctx, "prepare q1(int) as select $1 + 100").ReadAll()
	must(err, "prepare q1")
	res := pg.ExecPrepared(ctx, "q1", [][]byte{[]byte("5")}, nil, nil).Read()
	must(res.Err, "bind q1")
	fmt.Println("bind q1(5):", string(res.Rows[0][0]))
	// The name is taken for Parse too.
	_, err = pg.Prepare(ctx, "q1", "select 1", nil)
	fmt.Println("parse q1 again:", describe(err))
	check(err != nil, "Parse of a name PREPARE made did not fail")
}

func preparedStatementsView() {
	conn := connect("?statement_cache_capacity=0")
	defer conn.Close(ctx)
	pg := conn.PgConn()
	_, err := pg.Prepare(ctx, "p3", "select $1::int * 10", nil)
	must(err, "parse p3")
	_, err = pg.Exec(ctx, "prepare q3(int) as select $1 + 100").ReadAll()
	must(err, "prepare q3")
	results, err := pg.Exec(ctx, "select name, statement, from_sql, parameter_types::text from pg_prepared_statements order by name").ReadAll()
	must(err, "pg_prepared_statements")
	for _, row := range results[0].Rows {
		fmt.Printf("pg_prepared_statements: %s | %s | %s | %s\n", row[0], row[1], row[2], row[3])
	}
	check(len(results[0].Rows) == 2, "pg_prepared_statements has %d rows, want 2", len(results[0].Rows))
}

func advisoryLockColumn() {
	conn := connect("")
	defer conn.Close(ctx)
	rows, err := conn.Query(ctx, "select pg_advisory_lock(1), pg_try_advisory_lock(2), pg_advisory_unlock(1), pg_advisory_unlock(2)")
	must(err, "advisory locks")
	var names []string
	for _, f := range rows.FieldDescriptions() {
		names = append(names, string(f.Name))
	}
	rows.Close()
	must(rows.Err(), "advisory locks")
	fmt.Println("columns:", strings.Join(names, ","))
}

// raw sends protocol messages as they are (pgconn's escape hatch) and describes the replies up to ReadyForQuery.
func raw(pg *pgconn.PgConn, messages ...pgproto3.FrontendMessage) string {
	var buf []byte
	for _, m := range messages {
		buf = m.Encode(buf)
	}
	must(pg.SendBytes(ctx, buf), "send")
	var replies []string
	for {
		m, err := pg.ReceiveMessage(ctx)
		must(err, "receive")
		switch m := m.(type) {
		case *pgproto3.ErrorResponse:
			replies = append(replies, fmt.Sprintf("ErrorResponse %s %s", m.Code, m.Message))
		case *pgproto3.ReadyForQuery:
			return strings.Join(append(replies, fmt.Sprintf("ReadyForQuery %c", m.TxStatus)), ", ")
		default:
			replies = append(replies, strings.TrimPrefix(fmt.Sprintf("%T", m), "*pgproto3."))
		}
	}
}

func exec(pg *pgconn.PgConn, sql string) string {
	results, err := pg.Exec(ctx, sql).ReadAll()
	if err != nil {
		return describe(err)
	}
	if len(results[0].Rows) > 0 {
		return "row " + string(results[0].Rows[0][0])
	}
	return results[0].CommandTag.String()
}

func describePrepareMade() {
	conn := connect("?statement_cache_capacity=0")
	defer conn.Close(ctx)
	pg := conn.PgConn()
	fmt.Println("prepare q2:", exec(pg, "prepare q2(int) as select $1 + 100 as n"))
	fmt.Println("describe q2:", raw(pg, &pgproto3.Describe{ObjectType: 'S', Name: "q2"}, &pgproto3.Sync{}))
}

func closePrepareMade() {
	conn := connect("?statement_cache_capacity=0")
	defer conn.Close(ctx)
	pg := conn.PgConn()
	fmt.Println("prepare q3:", exec(pg, "prepare q3(int) as select $1 + 100"))
	fmt.Println("close q3:", raw(pg, &pgproto3.Close{ObjectType: 'S', Name: "q3"}, &pgproto3.Sync{}))
	fmt.Println("execute q3(1):", exec(pg, "execute q3(1)"))
}

func prepareOfParseMadeName() {
	conn := connect("?statement_cache_capacity=0")
	defer conn.Close(ctx)
	pg := conn.PgConn()
	_, err := pg.Prepare(ctx, "s4", "select 1", nil)
	must(err, "parse s4")
	fmt.Println("prepare s4:", exec(pg, "prepare s4 as select 2"))
}

func parseOfPrepareMadeName() {
	conn := connect("?statement_cache_capacity=0")
	defer conn.Close(ctx)
	pg := conn.PgConn()
	fmt.Println("prepare q5:", exec(pg, "prepare q5 as select 1"))
	fmt.Println("parse q5:", raw(pg, &pgproto3.Parse{Name: "q5", Query: "select 2"}, &pgproto3.Sync{}))
}

func deallocateUnknown() {
	conn := connect("?statement_cache_capacity=0")
	defer conn.Close(ctx)
	fmt.Println("deallocate nope:", exec(conn.PgConn(), "deallocate nope"))
}

func deallocateAll() {
	conn := connect("?statement_cache_capacity=0")
	defer conn.Close(ctx)
	pg := conn.PgConn()
	_, err := pg.Prepare(ctx, "s6", "select 1", nil)
	must(err, "parse s6")
	fmt.Println("prepare q6:", exec(pg, "prepare q6 as select 2"))
	fmt.Println("deallocate all:", exec(pg, "deallocate all"))
	res := pg.ExecPrepared(ctx, "s6", nil, nil, nil).Read()
	fmt.Println("bind s6:", describe(res.Err))
	fmt.Println("execute q6:", exec(pg, "execute q6"))
}
