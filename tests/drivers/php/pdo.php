<?php
// PHP PDO pgsql (Debian php-pgsql) with native prepares (PDO::ATTR_EMULATE_PREPARES = false): PDO names its server
// statements pdo_stmt_00000001, ... per connection and, when a statement object goes away, runs SQL
// "DEALLOCATE pdo_stmt_..." for it. Usage: php pdo.php <postgres-url> <case>. Prints one line per result (the same on
// every correct server); exits 1 with "FAIL: ..." on stderr when a check fails.

if ($argc !== 3) {
    fwrite(STDERR, "usage: php pdo.php <postgres-url> <case>\n");
    exit(2);
}
[$_, $url, $case] = $argv;

function fail(string $message): never
{
    fwrite(STDERR, "FAIL: $message\n");
    exit(1);
}

function check(bool $ok, string $message): void
{
    if (!$ok) {
        fail($message);
    }
}

function describe(Throwable $e): string
{
    if ($e instanceof PDOException && is_array($e->errorInfo) && isset($e->errorInfo[2])) {
        // errorInfo[2] is libpq's text: "ERROR:  message" and maybe more lines (DETAIL, LINE).
        $first = strtok($e->errorInfo[2], "\n");
        return 'ERROR ' . $e->errorInfo[0] . ' ' . preg_replace('/^ERROR:\s+/', '', $first);
    }
    return get_class($e) . ': ' . $e->getMessage();
}

function connect(string $url): PDO
{
    $parts = parse_url($url);
    $dsn = sprintf('pgsql:host=%s;port=%d;dbname=%s', $parts['host'], $parts['port'] ?? 5432, ltrim($parts['path'] ?? '/postgres', '/'));
    $pdo = new PDO($dsn, $parts['user'] ?? 'postgres', $parts['pass'] ?? null, [
        PDO::ATTR_ERRMODE => PDO::ERRMODE_EXCEPTION,
        PDO::ATTR_EMULATE_PREPARES => false,
    ]);
    return $pdo;
}

function scalar(PDO $pdo, string $sql, array $params = []): mixed
{
    $statement = $pdo->prepare($sql);
    $statement->execute($params);
    return $statement->fetchColumn();
}

function run(callable $step, string $what): mixed
{
    try {
        return $step();
    } catch (Throwable $e) {
        fail("$what: " . describe($e));
    }
}

// Three connections make their statements in the same order, so each holds pdo_stmt_00000001, 2, ... with texts of
// its own, and runs them interleaved with the others.
function prepareInterleaved(string $url): void
{
    $rounds = 25;
    $connections = [connect($url), connect($url), connect($url)];
    $same = [];
    $mine = [];
    foreach ($connections as $c => $pdo) {
        $same[$c] = $pdo->prepare('select ?::int * 2');
        $mine[$c] = $pdo->prepare("select 'client$c:' || ?::text");
    }
    for ($i = 0; $i < $rounds; $i++) {
        foreach ($connections as $c => $pdo) {
            run(fn () => $same[$c]->execute([$i]), "client $c same $i");
            $n = $same[$c]->fetchColumn();
            check($n === $i * 2, "client $c same $i: " . var_export($n, true));
            run(fn () => $mine[$c]->execute([(string)$i]), "client $c mine $i");
            $s = $mine[$c]->fetchColumn();
            check($s === "client$c:$i", "client $c mine $i: " . var_export($s, true));
        }
    }
    echo "prepare: 3 connections x $rounds rounds ok\n";
}

function transactionWithError(string $url): void
{
    $pdo = connect($url);
    $pdo->exec('drop table if exists drv_php; create table drv_php (id int primary key, v text)');
    $pdo->beginTransaction();
    $insert = $pdo->prepare('insert into drv_php values (?, ?)');
    run(fn () => $insert->execute([1, 'a']), 'insert 1');
    try {
        $insert->execute([1, 'b']);
        fail('duplicate key did not fail');
    } catch (PDOException $e) {
        echo 'duplicate insert: ', describe($e), "\n";
    }
    try {
        scalar($pdo, 'select ?::int', [1]);
        fail('statement in an aborted transaction did not fail');
    } catch (PDOException $e) {
        echo 'statement after error: ', describe($e), "\n";
    }
    $pdo->rollBack();
    $n = run(fn () => scalar($pdo, 'select count(*) from drv_php'), 'count');
    echo "rows after rollback: $n\n";
    check($n === 0, 'rolled back insert is visible');
    try {
        scalar($pdo, 'select 1 / ?::int', [0]);
    } catch (PDOException $e) {
        echo 'division by zero: ', describe($e), "\n";
    }
    echo 'after error: ', run(fn () => scalar($pdo, 'select ?::int + 1', [41]), 'after error'), "\n";
    $pdo->exec('drop table drv_php');
}

function copyInAndOut(string $url): void
{
    $pdo = connect($url);
    $pdo->exec('drop table if exists drv_php_copy; create table drv_php_copy (id int, name text, amount numeric)');
    $ok = run(fn () => $pdo->pgsqlCopyFromArray('drv_php_copy', ["1\tone\t1.5", "2\tzß€😀\t\\N", "3\ttab\\there\t-0.001"]), 'copy from');
    echo 'copy from: ', var_export($ok, true), "\n";
    $rows = run(fn () => $pdo->pgsqlCopyToArray('drv_php_copy'), 'copy to');
    foreach ($rows as $row) {
        echo 'copy to: ', rtrim($row, "\n"), "\n";
    }
    check(count($rows) === 3, 'copy to returned ' . count($rows) . ' rows');
    $pdo->exec('drop table drv_php_copy');
}

function listenNotify(string $url): void
{
    $listener = connect($url);
    $notifier = connect($url);
    $listener->exec('listen drv_php_chan');
    run(fn () => scalar($notifier, 'select pg_notify(?, ?)', ['drv_php_chan', 'héllo ü']), 'pg_notify');
    $notifier->exec("notify drv_php_chan, 'second'");
    for ($i = 0; $i < 2; $i++) {
        $n = $listener->pgsqlGetNotify(PDO::FETCH_ASSOC, 10000);
        check($n !== false, 'no notification within 10 s');
        $fromNotifier = $n['pid'] === $notifier->pgsqlGetPid();
        echo "notification: channel={$n['message']} payload={$n['payload']} from-notifier=", var_export($fromNotifier, true), "\n";
        check($fromNotifier, "notification pid {$n['pid']} is not the notifier's " . $notifier->pgsqlGetPid());
    }
    $listener->exec('unlisten drv_php_chan');
}

function typeRoundTrips(string $url): void
{
    $pdo = connect($url);
    $pdo->exec("set time zone 'UTC'");
    $statement = $pdo->prepare('select ?::int4 as int4, ?::int8 as int8, ?::numeric as numeric, ?::text as text,
        ?::bytea as bytea, ?::bool as bool, ?::date as date, ?::timestamptz as timestamptz, ?::uuid as uuid,
        ?::json as json, ?::jsonb as jsonb, ?::int4[] as int4s, ?::text[] as texts, ?::int4 as null');
    $bytea = "\x00\xff\\'";
    $statement->bindValue(1, -2147483648, PDO::PARAM_INT);
    $statement->bindValue(2, PHP_INT_MAX, PDO::PARAM_INT);
    $statement->bindValue(3, '12345678901234567890.0123456789');
    $statement->bindValue(4, "zß€😀 'q' \"d\"");
    $statement->bindValue(5, $bytea, PDO::PARAM_LOB);
    $statement->bindValue(6, true, PDO::PARAM_BOOL);
    $statement->bindValue(7, '1999-12-31');
    $statement->bindValue(8, '2024-02-29 12:34:56.789012+00');
    $statement->bindValue(9, 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11');
    $statement->bindValue(10, '{"a": [1, 2.5, "x"]}');
    $statement->bindValue(11, '{"b": 1, "a": "ü"}');
    $statement->bindValue(12, '{1,-2,3}');
    $statement->bindValue(13, '{a,"b c",ü,"","NULL"}');
    $statement->bindValue(14, null, PDO::PARAM_NULL);
    run(fn () => $statement->execute(), 'round trip');
    $statement->bindColumn('bytea', $lob, PDO::PARAM_LOB);
    $row = $statement->fetch(PDO::FETCH_ASSOC);
    $bytes = is_resource($row['bytea']) ? stream_get_contents($row['bytea']) : $row['bytea'];
    foreach ($row as $name => $value) {
        if ($name === 'bytea') {
            echo "bytea: ", bin2hex($bytes), "\n";
            continue;
        }
        echo "$name: ", var_export($value, true), "\n";
    }
    check($row['int4'] === -2147483648 && $row['int8'] === PHP_INT_MAX, 'integers changed');
    check($row['numeric'] === '12345678901234567890.0123456789', 'numeric changed');
    check($row['text'] === "zß€😀 'q' \"d\"" && $bytes === $bytea && $row['bool'] === true, 'text/bytea/bool changed');
    check($row['null'] === null, 'NULL came back as a value');
}

// PDO deallocates a statement with SQL DEALLOCATE when its object goes away: make and drop many statements, re-making
// the same texts, outside and inside a transaction (where a failing DEALLOCATE would abort it), and see that the server
// keeps only the live ones.
function deallocateOnDestroy(string $url): void
{
    $pdo = connect($url);
    $pdo->exec('drop table if exists drv_php_evict; create table drv_php_evict (i int)');
    $makeAndDrop = function (int $from, int $to) use ($pdo) {
        for ($i = $from; $i < $to; $i++) {
            $statement = $pdo->prepare('select ?::int + ' . ($i % 3));
            run(fn () => $statement->execute([$i]), "statement $i");
            check($statement->fetchColumn() === $i + $i % 3, "statement $i");
            $statement = null; // DEALLOCATE pdo_stmt_000000NN
        }
    };
    $makeAndDrop(0, 30);
    $pdo->beginTransaction();
    $makeAndDrop(30, 40);
    $insert = $pdo->prepare('insert into drv_php_evict values (?)');
    run(fn () => $insert->execute([1]), 'insert after deallocations in a transaction');
    $insert = null;
    run(fn () => $pdo->commit(), 'commit');
    $rows = run(fn () => scalar($pdo, 'select count(*) from drv_php_evict'), 'count');
    echo "evict: 40 statements made and destroyed (10 in a transaction); committed rows: $rows\n";
    check($rows === 1, "the transaction's insert was not committed ($rows rows)");
    $count = $pdo->prepare("select count(*) from pg_prepared_statements where name like 'pdo_stmt_%'");
    $count->execute();
    $n = $count->fetchColumn();
    echo "live pdo statements: $n\n";
    check($n === 1, "pg_prepared_statements has $n pdo statements, only the counting one is live");
    $pdo->exec('drop table drv_php_evict');
}

match ($case) {
    'prepare' => prepareInterleaved($url),
    'txerror' => transactionWithError($url),
    'copy' => copyInAndOut($url),
    'notify' => listenNotify($url),
    'types' => typeRoundTrips($url),
    'evict' => deallocateOnDestroy($url),
    default => fail("unknown case $case"),
};
