# Ruby pg (Debian ruby-pg) against a Postgres server. Usage: ruby pg_driver.rb <postgres-url> <case>.
# Prints one line per result (the same on every correct server); exits 1 with "FAIL: ..." on stderr when a check fails.
# The eviction case manages statements as ActiveRecord's statement pool does: names a1, a2, ... per connection, the
# least recently used one dropped with SQL "DEALLOCATE a1" when the pool is full.
require 'pg'
require 'bigdecimal'
require 'json'

if ARGV.length != 2
  warn 'usage: ruby pg_driver.rb <postgres-url> <case>'
  exit 2
end
URL, CASE = ARGV

def fail!(message)
  warn "FAIL: #{message}"
  exit 1
end

def check(ok, message)
  fail!(message) unless ok
end

def describe(error)
  return "#{error.class}: #{error.message}" unless error.is_a?(PG::Error) && error.result
  "ERROR #{error.result.error_field(PG::PG_DIAG_SQLSTATE)} #{error.result.error_field(PG::PG_DIAG_MESSAGE_PRIMARY)}"
end

def step(what)
  yield
rescue PG::Error => e
  fail!("#{what}: #{describe(e)}")
end

def connect
  step('connect') { PG.connect(URL) }
end

# ActiveRecord's StatementPool in small: at most `max` statements, the oldest deallocated with SQL DEALLOCATE.
class StatementPool
  def initialize(conn, max)
    @conn = conn
    @max = max
    @statements = {} # sql => name, in order of use
    @counter = 0
  end

  def exec(sql, params)
    name = @statements.delete(sql)
    unless name
      if @statements.size >= @max
        oldest_sql, oldest = @statements.first
        @statements.delete(oldest_sql)
        step("deallocate #{oldest}") { @conn.exec("DEALLOCATE #{oldest}") }
      end
      name = "a#{@counter += 1}"
      step("prepare #{name}") { @conn.prepare(name, sql) }
    end
    @statements[sql] = name
    step("exec_prepared #{name}") { @conn.exec_prepared(name, params) }
  end
end

def prepare_concurrently
  rounds = 25
  threads = 3.times.map do |c|
    Thread.new do
      conn = connect
      step('prepare same') { conn.prepare('same', 'select $1::int * 2') }
      step('prepare mine') { conn.prepare('mine', "select 'client#{c}:' || $1::text") }
      rounds.times do |i|
        n = step("same #{i}") { conn.exec_prepared('same', [i]).getvalue(0, 0) }
        check(n == (i * 2).to_s, "client #{c} same #{i}: #{n.inspect}")
        s = step("mine #{i}") { conn.exec_prepared('mine', [i.to_s]).getvalue(0, 0) }
        check(s == "client#{c}:#{i}", "client #{c} mine #{i}: #{s.inspect}")
      end
      conn.close
    end
  end
  threads.each(&:join)
  puts "prepare: 3 threads x #{rounds} rounds ok"
end

def transaction_with_error
  conn = connect
  conn.exec('drop table if exists drv_ruby; create table drv_ruby (id int primary key, v text)')
  conn.exec('begin')
  step('insert 1') { conn.exec_params('insert into drv_ruby values ($1, $2)', [1, 'a']) }
  begin
    conn.exec_params('insert into drv_ruby values ($1, $2)', [1, 'b'])
    fail!('duplicate key did not fail')
  rescue PG::Error => e
    puts "duplicate insert: #{describe(e)}"
  end
  begin
    conn.exec_params('select $1::int', [1])
    fail!('statement in an aborted transaction did not fail')
  rescue PG::Error => e
    puts "statement after error: #{describe(e)}"
  end
  puts "status in failed transaction: #{conn.transaction_status == PG::PQTRANS_INERROR}"
  conn.exec('rollback')
  n = conn.exec('select count(*) from drv_ruby').getvalue(0, 0)
  puts "rows after rollback: #{n}"
  check(n == '0', 'rolled back insert is visible')
  begin
    conn.exec_params('select 1 / $1::int', [0])
  rescue PG::Error => e
    puts "division by zero: #{describe(e)}"
  end
  puts "after error: #{step('after error') { conn.exec_params('select $1::int + 1', [41]).getvalue(0, 0) }}"
  conn.exec('drop table drv_ruby')
end

def copy_in_and_out
  conn = connect
  conn.exec('drop table if exists drv_ruby_copy; create table drv_ruby_copy (id int, name text, amount numeric)')
  step('copy from') do
    conn.copy_data('copy drv_ruby_copy from stdin') do
      conn.put_copy_data("1\tone\t1.5\n")
      conn.put_copy_data("2\tzß€😀\t\\N\n3\ttab\\there\t-0.001\n")
    end
  end
  puts "copy from: #{conn.exec('select count(*) from drv_ruby_copy').getvalue(0, 0)} rows"
  # A COPY that fails on bad data: the error comes back, the connection goes on.
  begin
    conn.copy_data('copy drv_ruby_copy from stdin') { conn.put_copy_data("x\tbad\n") }
    fail!('bad copy data did not fail')
  rescue PG::Error => e
    puts "bad copy: #{describe(e)}"
  end
  step('copy to') do
    conn.copy_data('copy (select * from drv_ruby_copy order by id) to stdout') do
      while (row = conn.get_copy_data)
        puts "copy to: #{row.force_encoding('UTF-8').chomp}"
      end
    end
  end
  conn.exec('drop table drv_ruby_copy')
end

def listen_notify
  listener = connect
  notifier = connect
  listener.exec('listen drv_ruby_chan')
  step('pg_notify') { notifier.exec_params('select pg_notify($1, $2)', ['drv_ruby_chan', 'héllo ü']) }
  notifier.exec("notify drv_ruby_chan, 'second'")
  2.times do
    got = listener.wait_for_notify(10) do |channel, pid, payload|
      puts "notification: channel=#{channel} payload=#{payload} from-notifier=#{pid == notifier.backend_pid}"
      check(pid == notifier.backend_pid, "notification pid #{pid} is not the notifier's #{notifier.backend_pid}")
    end
    check(got, 'no notification within 10 s')
  end
  listener.exec('unlisten drv_ruby_chan')
end

def type_round_trips
  conn = connect
  conn.exec("set time zone 'UTC'")
  conn.type_map_for_results = PG::BasicTypeMapForResults.new(conn)
  encoder = PG::BasicTypeMapForQueries.new(conn)
  bytea = "\x00\xff\\'".b
  params = [-2_147_483_648, 9_223_372_036_854_775_807, BigDecimal('12345678901234567890.0123456789'),
            "zß€😀 'q' \"d\"", PG::TextEncoder::Bytea.new.encode(bytea), true, Date.new(1999, 12, 31),
            Time.utc(2024, 2, 29, 12, 34, 56.789012r), 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11',
            { 'a' => [1, 2.5, 'x'] }, { 'b' => 1, 'a' => 'ü' }, [1, -2, 3], ['a', 'b c', 'ü', '', 'NULL'], nil]
  row = step('round trip') do
    conn.exec_params(
      'select $1::int4 as int4, $2::int8 as int8, $3::numeric as numeric, $4::text as text, $5::bytea as bytea,
       $6::bool as bool, $7::date as date, $8::timestamptz as timestamptz, $9::uuid as uuid, $10::json as json,
       $11::jsonb as jsonb, $12::int4[] as int4s, $13::text[] as texts, $14::int4 as null',
      params, 0, encoder
    )[0]
  end
  row.each do |name, value|
    shown = case value
            when BigDecimal then value.to_s('F')
            when Time then value.utc.strftime('%Y-%m-%dT%H:%M:%S.%6NZ')
            when Date then value.iso8601
            when String then name == 'bytea' ? value.unpack1('H*') : value.inspect
            else value.inspect
            end
    puts "#{name}: #{shown}"
  end
  check(row['int4'] == -2_147_483_648 && row['int8'] == 9_223_372_036_854_775_807, 'integers changed')
  check(row['numeric'] == BigDecimal('12345678901234567890.0123456789'), 'numeric changed')
  check(row['text'] == "zß€😀 'q' \"d\"" && row['bytea'] == bytea && row['bool'] == true, 'text/bytea/bool changed')
  check(row['timestamptz'] == Time.utc(2024, 2, 29, 12, 34, 56.789012r) && row['date'] == Date.new(1999, 12, 31), 'date/time changed')
  check(row['json'] == { 'a' => [1, 2.5, 'x'] } && row['int4s'] == [1, -2, 3] && row['null'].nil?, 'json/array/NULL changed')
end

# Three distinct queries through a pool of two, over and over: every third query evicts with SQL DEALLOCATE, outside
# a transaction and inside one (where a failing DEALLOCATE would abort it).
def statement_pool_eviction
  conn = connect
  pool = StatementPool.new(conn, 2)
  queries = ['select $1::int + 1', 'select $1::int + 2', 'select $1::int + 3']
  run = lambda do |round|
    queries.each_with_index do |sql, q|
      n = pool.exec(sql, [round * 10]).getvalue(0, 0)
      check(n == (round * 10 + q + 1).to_s, "round #{round} query #{q + 1}: #{n.inspect}")
    end
  end
  4.times { |round| run.call(round) }
  conn.exec('begin')
  4.upto(6) { |round| run.call(round) }
  conn.exec('commit')
  names = conn.exec('select name, from_sql from pg_prepared_statements order by name').values
  puts "evict: 7 rounds x 3 queries ok; prepared statements: #{names.inspect}"
  check(names.size == 2, "pg_prepared_statements has #{names.size} rows, the pool holds 2")
end

case CASE
when 'prepare' then prepare_concurrently
when 'txerror' then transaction_with_error
when 'copy' then copy_in_and_out
when 'notify' then listen_notify
when 'types' then type_round_trips
when 'evict' then statement_pool_eviction
else fail!("unknown case #{CASE}")
end
