//! tokio-postgres 0.7 (Debian librust-tokio-postgres-dev) against a Postgres server.
//! Usage: tokio-postgres-driver <postgres-url> <case>. Prints one line per result (the same on every correct server,
//! so the xunit test compares ZeroPg's output with PostgreSQL's); exits 1 with "FAIL: ..." on stderr when a check fails.

use futures_util::{future, SinkExt, StreamExt};
use std::process::{exit, Command};
use std::time::Duration;
use tokio_postgres::{AsyncMessage, Client, Error, NoTls, Notification};

fn fail(message: String) -> ! {
    eprintln!("FAIL: {}", message);
    exit(1)
}

fn describe(error: &Error) -> String {
    match error.as_db_error() {
        Some(db) => format!("ERROR {} {}", db.code().code(), db.message()),
        None => error.to_string(),
    }
}

trait Must<T> {
    fn must(self, step: &str) -> T;
}

impl<T> Must<T> for Result<T, Error> {
    fn must(self, step: &str) -> T {
        self.unwrap_or_else(|e| fail(format!("{}: {}", step, describe(&e))))
    }
}

fn check(ok: bool, message: &str) {
    if !ok {
        fail(message.to_string())
    }
}

/// Connects; notifications arriving on the connection go to the returned channel.
async fn connect(url: &str) -> (Client, tokio::sync::mpsc::UnboundedReceiver<Notification>) {
    let (client, mut connection) = tokio_postgres::connect(url, NoTls).await.must("connect");
    let (sender, receiver) = tokio::sync::mpsc::unbounded_channel();
    tokio::spawn(async move {
        while let Some(message) = future::poll_fn(|cx| connection.poll_message(cx)).await {
            match message {
                Ok(AsyncMessage::Notification(n)) => {
                    let _ = sender.send(n);
                }
                Ok(_) => {}
                Err(e) => fail(format!("connection: {}", describe(&e))),
            }
        }
    });
    (client, receiver)
}

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let args: Vec<String> = std::env::args().collect();
    if args.len() < 3 {
        eprintln!("usage: tokio-postgres-driver <postgres-url> <case>");
        exit(2);
    }
    let url = &args[1];
    match args[2].as_str() {
        "prepare" => prepare_from_processes(url),
        "prepare-one" => prepare_one(url, args[3].parse().unwrap()).await,
        "txerror" => transaction_with_error(url).await,
        "copy-in" => copy_in(url).await,
        "copy-out" => copy_out(url).await,
        "notify" => listen_notify(url).await,
        "types" => type_round_trips(url).await,
        other => fail(format!("unknown case {}", other)),
    }
}

/// tokio-postgres names statements s0, s1, ... from one counter per process, so three processes at once prepare
/// the same names, each with texts of its own.
fn prepare_from_processes(url: &str) {
    let me = std::env::current_exe().unwrap();
    let children: Vec<_> = (0..3)
        .map(|k| Command::new(&me).args([url, "prepare-one", &k.to_string()]).output())
        .collect();
    for (k, child) in children.into_iter().enumerate() {
        let output = child.unwrap_or_else(|e| fail(format!("start child {}: {}", k, e)));
        if !output.status.success() {
            fail(format!("child {}: {}", k, String::from_utf8_lossy(&output.stderr)));
        }
    }
    println!("prepare: 3 processes x 25 rounds ok");
}

async fn prepare_one(url: &str, k: i32) {
    let (client, _) = connect(url).await;
    let same = client.prepare("select $1::int * 2").await.must("prepare same");
    let mine = client.prepare(&format!("select 'client{}:' || $1::text", k)).await.must("prepare mine");
    for i in 0..25i32 {
        let n: i32 = client.query_one(&same, &[&i]).await.must("same").get(0);
        check(n == i * 2, &format!("client {} same {}: {}", k, i, n));
        let s: String = client.query_one(&mine, &[&i.to_string()]).await.must("mine").get(0);
        check(s == format!("client{}:{}", k, i), &format!("client {} mine {}: {}", k, i, s));
        // A statement made and dropped (Close) on every round, next to the ones kept.
        let once = client.prepare("select $1::int + 1000").await.must("prepare once");
        let n: i32 = client.query_one(&once, &[&i]).await.must("once").get(0);
        check(n == i + 1000, &format!("client {} once {}: {}", k, i, n));
    }
}

async fn transaction_with_error(url: &str) {
    let (mut client, _) = connect(url).await;
    client
        .batch_execute("drop table if exists drv_rust; create table drv_rust (id int primary key, v text)")
        .await
        .must("create table");
    {
        let tx = client.transaction().await.must("begin");
        tx.execute("insert into drv_rust values ($1, $2)", &[&1i32, &"a"]).await.must("insert 1");
        let e = tx.execute("insert into drv_rust values ($1, $2)", &[&1i32, &"b"]).await.err();
        println!("duplicate insert: {}", e.as_ref().map(describe).unwrap_or_default());
        check(e.is_some(), "duplicate key did not fail");
        let e = tx.query_one("select $1::int", &[&1i32]).await.err();
        println!("statement after error: {}", e.as_ref().map(describe).unwrap_or_default());
        check(e.is_some(), "statement in an aborted transaction did not fail");
        tx.rollback().await.must("rollback");
    }
    let n: i64 = client.query_one("select count(*) from drv_rust", &[]).await.must("count").get(0);
    println!("rows after rollback: {}", n);
    check(n == 0, "rolled back insert is visible");
    let e = client.query_one("select 1 / $1::int", &[&0i32]).await.err();
    println!("division by zero: {}", e.as_ref().map(describe).unwrap_or_default());
    let n: i32 = client.query_one("select $1::int + 1", &[&41i32]).await.must("after error").get(0);
    println!("after error: {}", n);
    client.batch_execute("drop table drv_rust").await.must("drop");
}

/// tokio-postgres sends COPY FROM STDIN through the extended protocol (Parse/Bind/Execute, CopyData, CopyDone, Sync).
async fn copy_in(url: &str) {
    let (client, _) = connect(url).await;
    client
        .batch_execute("drop table if exists drv_rust_copy; create table drv_rust_copy (id int, name text)")
        .await
        .must("create table");
    let sink = client.copy_in("copy drv_rust_copy from stdin").await.must("copy in");
    futures_util::pin_mut!(sink);
    sink.send(bytes::Bytes::from_static("1\tone\n2\tzß€😀\n".as_bytes())).await.must("copy data");
    sink.send(bytes::Bytes::from_static(b"3\t\\N\n")).await.must("copy data");
    let rows = sink.finish().await.must("copy done");
    println!("copy in: {}", rows);
    for row in client.query("select id, name from drv_rust_copy order by id", &[]).await.must("select") {
        let name: Option<String> = row.get(1);
        println!("row: {} {:?}", row.get::<_, i32>(0), name);
    }
    client.batch_execute("drop table drv_rust_copy").await.must("drop");
}

async fn copy_out(url: &str) {
    let (client, _) = connect(url).await;
    let stream = client
        .copy_out("copy (select i, 'zß€😀 ' || i, null::text from generate_series(1, 3) i) to stdout")
        .await
        .must("copy out");
    futures_util::pin_mut!(stream);
    let mut out = Vec::new();
    while let Some(chunk) = stream.next().await {
        out.extend_from_slice(&chunk.must("copy data"));
    }
    print!("copy out:\n{}", String::from_utf8(out).unwrap());
}

async fn listen_notify(url: &str) {
    let (listener, mut notifications) = connect(url).await;
    let (notifier, _) = connect(url).await;
    listener.batch_execute("listen drv_rust_chan").await.must("listen");
    notifier.execute("select pg_notify($1, $2)", &[&"drv_rust_chan", &"héllo ü"]).await.must("pg_notify");
    notifier.batch_execute("notify drv_rust_chan, 'second'").await.must("notify");
    let mut pids = Vec::new();
    for _ in 0..2 {
        let n = tokio::time::timeout(Duration::from_secs(10), notifications.recv())
            .await
            .unwrap_or_else(|_| fail("no notification within 10 s".into()))
            .unwrap();
        println!("notification: channel={} payload={}", n.channel(), n.payload());
        pids.push(n.process_id());
    }
    check(pids[0] == pids[1], "two notifications from one connection carry different pids");
    listener.batch_execute("unlisten drv_rust_chan").await.must("unlisten");
}

async fn type_round_trips(url: &str) {
    let (client, _) = connect(url).await;
    client.batch_execute("set time zone 'UTC'").await.must("set time zone");
    let date = chrono::NaiveDate::from_ymd_opt(1999, 12, 31).unwrap();
    let ts = chrono::DateTime::parse_from_rfc3339("2024-02-29T12:34:56.789012Z").unwrap().with_timezone(&chrono::Utc);
    let uuid = uuid::Uuid::parse_str("a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11").unwrap();
    let json: serde_json::Value = serde_json::from_str(r#"{"a": [1, 2.5, "x"]}"#).unwrap();
    let jsonb: serde_json::Value = serde_json::from_str(r#"{"b": 1, "a": "ü"}"#).unwrap();
    let text = "zß€😀 'q' \"d\"";
    let bytea: Vec<u8> = vec![0, 255, 92, 39];
    let ints: Vec<i32> = vec![1, -2, 3];
    let texts: Vec<&str> = vec!["a", "b c", "ü", "", "NULL"];
    let null: Option<i32> = None;
    // tokio-postgres has no numeric type of its own (rust_decimal is not packaged): numeric goes as text.
    let row = client
        .query_one(
            "select $1::int4, $2::int8, $3::text::numeric::text, $4::text, $5::bytea, $6::bool, $7::date, \
             $8::timestamptz, $9::uuid, $10::json, $11::jsonb, $12::int4[], $13::text[], $14::int4",
            &[&i32::MIN, &i64::MAX, &"12345678901234567890.0123456789", &text, &bytea, &true, &date, &ts, &uuid,
              &json, &jsonb, &ints, &texts, &null],
        )
        .await
        .must("round trip");
    println!("int4: {}", row.get::<_, i32>(0));
    println!("int8: {}", row.get::<_, i64>(1));
    println!("numeric: {}", row.get::<_, String>(2));
    println!("text: {:?}", row.get::<_, String>(3));
    let b: Vec<u8> = row.get(4);
    println!("bytea: {}", b.iter().map(|x| format!("{:02x}", x)).collect::<String>());
    println!("bool: {}", row.get::<_, bool>(5));
    println!("date: {}", row.get::<_, chrono::NaiveDate>(6));
    println!("timestamptz: {}", row.get::<_, chrono::DateTime<chrono::Utc>>(7).to_rfc3339_opts(chrono::SecondsFormat::Micros, true));
    println!("uuid: {}", row.get::<_, uuid::Uuid>(8));
    println!("json: {}", row.get::<_, serde_json::Value>(9));
    println!("jsonb: {}", row.get::<_, serde_json::Value>(10));
    println!("int4[]: {:?}", row.get::<_, Vec<i32>>(11));
    println!("text[]: {:?}", row.get::<_, Vec<String>>(12));
    println!("null: {:?}", row.get::<_, Option<i32>>(13));
    check(row.get::<_, i32>(0) == i32::MIN && row.get::<_, i64>(1) == i64::MAX, "integers changed");
    check(row.get::<_, String>(3) == text && b == bytea, "text/bytea changed");
    check(row.get::<_, chrono::DateTime<chrono::Utc>>(7) == ts && row.get::<_, uuid::Uuid>(8) == uuid, "timestamptz/uuid changed");
    check(row.get::<_, Option<i32>>(13).is_none(), "NULL came back as a value");
}
