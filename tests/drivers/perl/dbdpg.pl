#!/usr/bin/perl
# Perl DBI with DBD::Pg (Debian libdbd-pg-perl): server-side prepares named dbdpg_p<pid>_<n> per handle, deallocated
# with SQL "DEALLOCATE dbdpg_..." when a statement handle goes away. Usage: perl dbdpg.pl <postgres-url> <case>.
# Prints one line per result (the same on every correct server); exits 1 with "FAIL: ..." on stderr when a check fails.
use strict;
use warnings;
use utf8;
use DBI;
use DBD::Pg qw(:pg_types);
use IO::Select;

binmode STDOUT, ':encoding(UTF-8)';
binmode STDERR, ':encoding(UTF-8)';

die "usage: perl dbdpg.pl <postgres-url> <case>\n" unless @ARGV == 2;
my ($url, $case) = @ARGV;

sub fail { print STDERR "FAIL: $_[0]\n"; exit 1; }
sub check { fail($_[1]) unless $_[0]; }

sub describe {
    my ($h) = @_;
    my $message = (split /\n/, $h->errstr // '')[0] // '';
    $message =~ s/^ERROR:\s+//;
    return 'ERROR ' . ($h->state // '') . " $message";
}

sub connect_db {
    $url =~ m{^postgres(?:ql)?://(?:([^:@/]+)(?::([^@/]*))?@)?([^:/]+)(?::(\d+))?/(\w+)} or fail("cannot read url $url");
    my $dbh = DBI->connect("dbi:Pg:host=$3;port=" . ($4 // 5432) . ";dbname=$5", $1 // 'postgres', $2 // '',
        { RaiseError => 0, PrintError => 0, AutoCommit => 1, pg_enable_utf8 => 1, pg_server_prepare => 1,
          pg_switch_prepared => 1 })
        or fail('connect: ' . $DBI::errstr);
    return $dbh;
}

sub run_ok {
    my ($what, $h, $result) = @_;
    fail("$what: " . describe($h)) unless defined $result;
    return $result;
}

sub scalar_of {
    my ($dbh, $sql, @params) = @_;
    my $sth = run_ok("prepare $sql", $dbh, $dbh->prepare($sql));
    run_ok($sql, $sth, $sth->execute(@params));
    my ($value) = $sth->fetchrow_array;
    return $value;
}

# Three handles make their statements in the same order, so each holds dbdpg_p<pid>_1, _2 with texts of its own, run
# interleaved with the others.
sub prepare_interleaved {
    my $rounds = 25;
    my @dbhs = map { connect_db() } 0 .. 2;
    my (@same, @mine);
    for my $c (0 .. 2) {
        $same[$c] = $dbhs[$c]->prepare('select ?::int * 2');
        $mine[$c] = $dbhs[$c]->prepare("select 'client$c:' || ?::text");
    }
    for my $i (0 .. $rounds - 1) {
        for my $c (0 .. 2) {
            run_ok("client $c same $i", $same[$c], $same[$c]->execute($i));
            my ($n) = $same[$c]->fetchrow_array;
            check($n == $i * 2, "client $c same $i: $n");
            run_ok("client $c mine $i", $mine[$c], $mine[$c]->execute("$i"));
            my ($s) = $mine[$c]->fetchrow_array;
            check($s eq "client$c:$i", "client $c mine $i: $s");
        }
    }
    print "prepare: 3 handles x $rounds rounds ok\n";
}

sub transaction_with_error {
    my $dbh = connect_db();
    run_ok('create', $dbh, $dbh->do('drop table if exists drv_perl; create table drv_perl (id int primary key, v text)'));
    $dbh->begin_work;
    my $insert = $dbh->prepare('insert into drv_perl values (?, ?)');
    run_ok('insert 1', $insert, $insert->execute(1, 'a'));
    check(!defined $insert->execute(1, 'b'), 'duplicate key did not fail');
    print 'duplicate insert: ', describe($insert), "\n";
    my $sth = $dbh->prepare('select ?::int');
    check(!defined $sth->execute(1), 'statement in an aborted transaction did not fail');
    print 'statement after error: ', describe($sth), "\n";
    run_ok('rollback', $dbh, $dbh->rollback);
    my $n = scalar_of($dbh, 'select count(*) from drv_perl');
    print "rows after rollback: $n\n";
    check($n == 0, 'rolled back insert is visible');
    $sth = $dbh->prepare('select 1 / ?::int');
    $sth->execute(0);
    print 'division by zero: ', describe($sth), "\n";
    print 'after error: ', scalar_of($dbh, 'select ?::int + 1', 41), "\n";
    $dbh->do('drop table drv_perl');
}

sub copy_in_and_out {
    my $dbh = connect_db();
    run_ok('create', $dbh, $dbh->do('drop table if exists drv_perl_copy; create table drv_perl_copy (id int, name text, amount numeric)'));
    run_ok('copy from', $dbh, $dbh->do('copy drv_perl_copy from stdin'));
    $dbh->pg_putcopydata("1\tone\t1.5\n");
    $dbh->pg_putcopydata("2\tzß€😀\t\\N\n3\ttab\\there\t-0.001\n");
    run_ok('copy end', $dbh, $dbh->pg_putcopyend());
    print 'copy from: ', scalar_of($dbh, 'select count(*) from drv_perl_copy'), " rows\n";
    run_ok('copy to', $dbh, $dbh->do('copy (select * from drv_perl_copy order by id) to stdout'));
    my $row = '';
    while ($dbh->pg_getcopydata($row) >= 0) {
        chomp $row;
        print "copy to: $row\n";
    }
    $dbh->do('drop table drv_perl_copy');
}

sub listen_notify {
    my $listener = connect_db();
    my $notifier = connect_db();
    run_ok('listen', $listener, $listener->do('listen drv_perl_chan'));
    scalar_of($notifier, 'select pg_notify(?, ?)', 'drv_perl_chan', 'héllo ü');
    run_ok('notify', $notifier, $notifier->do("notify drv_perl_chan, 'second'"));
    my $select = IO::Select->new($listener->{pg_socket});
    my @got;
    my $deadline = time + 10;
    while (@got < 2 && time < $deadline) {
        $select->can_read(1);
        while (my $n = $listener->pg_notifies) {
            push @got, $n;
        }
    }
    check(@got == 2, 'got ' . scalar(@got) . ' notifications within 10 s, want 2');
    for my $n (@got) {
        my ($channel, $pid, $payload) = @$n;
        my $from = $pid == $notifier->{pg_pid} ? 'true' : 'false';
        print "notification: channel=$channel payload=$payload from-notifier=$from\n";
        check($from eq 'true', "notification pid $pid is not the notifier's $notifier->{pg_pid}");
    }
    $listener->do('unlisten drv_perl_chan');
}

sub type_round_trips {
    my $dbh = connect_db();
    $dbh->do("set time zone 'UTC'");
    my $sth = $dbh->prepare('select ?::int4, ?::int8, ?::numeric, ?::text, ?::bytea, ?::bool, ?::date, ?::timestamptz,
        ?::uuid, ?::json, ?::jsonb, ?::int4[], ?::text[], ?::int4');
    my $bytea = "\x00\xff\\'";
    my @params = (-2147483648, '9223372036854775807', '12345678901234567890.0123456789', "zß€😀 'q' \"d\"", $bytea,
        1, '1999-12-31', '2024-02-29 12:34:56.789012+00', 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11',
        '{"a": [1, 2.5, "x"]}', '{"b": 1, "a": "ü"}', [1, -2, 3], ['a', 'b c', 'ü', '', 'NULL'], undef);
    for my $i (0 .. $#params) {
        $sth->bind_param($i + 1, $params[$i], $i == 4 ? { pg_type => PG_BYTEA } : ());
    }
    run_ok('round trip', $sth, $sth->execute);
    my @row = $sth->fetchrow_array;
    my @names = qw(int4 int8 numeric text bytea bool date timestamptz uuid json jsonb int4[] text[] null);
    for my $i (0 .. $#names) {
        my $v = $row[$i];
        my $shown = !defined $v ? 'undef'
            : ref $v eq 'ARRAY' ? '[' . join(', ', map { defined $_ ? "'$_'" : 'undef' } @$v) . ']'
            : $i == 4 ? unpack('H*', $v)
            : "'$v'";
        print "$names[$i]: $shown\n";
    }
    check($row[0] == -2147483648 && $row[1] eq '9223372036854775807' && $row[2] eq '12345678901234567890.0123456789', 'numbers changed');
    check($row[3] eq "zß€😀 'q' \"d\"" && $row[4] eq $bytea && $row[5], 'text/bytea/bool changed');
    check(!defined $row[13], 'NULL came back as a value');
}

# DBD::Pg deallocates with SQL DEALLOCATE when a statement handle goes away: make and drop many, outside and inside a
# transaction (where a failing DEALLOCATE would abort it).
sub deallocate_on_destroy {
    my $dbh = connect_db();
    run_ok('create', $dbh, $dbh->do('drop table if exists drv_perl_evict; create table drv_perl_evict (i int)'));
    my $make_and_drop = sub {
        my ($from, $to) = @_;
        for my $i ($from .. $to - 1) {
            my $sth = $dbh->prepare('select ?::int + ' . ($i % 3));
            run_ok("statement $i", $sth, $sth->execute($i));
            my ($n) = $sth->fetchrow_array;
            check($n == $i + $i % 3, "statement $i: $n");
            undef $sth; # DEALLOCATE dbdpg_p<pid>_<n>
            fail("deallocate after statement $i: " . describe($dbh)) if $dbh->err;
        }
    };
    $make_and_drop->(0, 30);
    $dbh->begin_work;
    $make_and_drop->(30, 40);
    run_ok('insert in the transaction', $dbh, $dbh->do('insert into drv_perl_evict values (?)', undef, 1));
    run_ok('commit', $dbh, $dbh->commit);
    my $rows = scalar_of($dbh, 'select count(*) from drv_perl_evict');
    print "evict: 40 statements made and destroyed (10 in a transaction); committed rows: $rows\n";
    check($rows == 1, "the transaction's insert was not committed ($rows rows)");
    my $live = scalar_of($dbh, "select count(*) from pg_prepared_statements where name like 'dbdpg_%'");
    print "live dbdpg statements: $live\n";
    # The counting statement has no placeholders: DBD::Pg runs it unprepared, so none is live.
    check($live == 0, "pg_prepared_statements still has $live dbdpg statements");
    $dbh->do('drop table drv_perl_evict');
}

my %cases = (
    prepare => \&prepare_interleaved,
    txerror => \&transaction_with_error,
    copy    => \&copy_in_and_out,
    notify  => \&listen_notify,
    types   => \&type_round_trips,
    evict   => \&deallocate_on_destroy,
);
my $run = $cases{$case} or fail("unknown case $case");
$run->();
