using ZeroPg.Tests.Sessions;

namespace ZeroPg.Tests.Engine.Pooled;

// The session and COPY tests that run against PGlite and --engine postgres run again through the pool (--pool 4): each class
// inherits every test of its PGlite counterpart and gets the pooled server's fixture instead.

[Collection(PooledServerCollection.Name)]
public sealed class PooledErrorRecoveryTests(PooledServerFixture fixture) : ErrorRecoveryTests(fixture);

[Collection(PooledServerCollection.Name)]
public sealed class PooledListenNotifyTests(PooledServerFixture fixture) : ListenNotifyTests(fixture);

[Collection(PooledServerCollection.Name)]
public sealed class PooledMultiStatementTests(PooledServerFixture fixture) : MultiStatementTests(fixture);

[Collection(PooledServerCollection.Name)]
public sealed class PooledNpgsqlCopyTests(PooledServerFixture fixture) : NpgsqlCopyTests(fixture);

[Collection(PooledServerCollection.Name)]
public sealed class PooledNpgsqlPreparedStatementTests(PooledServerFixture fixture) : NpgsqlPreparedStatementTests(fixture);

[Collection(PooledServerCollection.Name)]
public sealed class PooledPsqlCopyTests(PooledServerFixture fixture) : PsqlCopyTests(fixture);

[Collection(PooledServerCollection.Name)]
public sealed class PooledSettingsIsolationTests(PooledServerFixture fixture) : SettingsIsolationTests(fixture);

[Collection(PooledServerCollection.Name)]
public sealed class PooledSqlPrepareIsolationTests(PooledServerFixture fixture) : SqlPrepareIsolationTests(fixture);

[Collection(PooledServerCollection.Name)]
public sealed class PooledTempTableIsolationTests(PooledServerFixture fixture) : TempTableIsolationTests(fixture);

[Collection(PooledServerCollection.Name)]
public sealed class PooledTransactionTests(PooledServerFixture fixture) : TransactionTests(fixture);

[Collection(PooledServerCollection.Name)]
public sealed class PooledConcurrentCopyTests(PooledServerFixture fixture) : ConcurrentCopyTests(fixture);

// The same session tests through the pool on Kestrel's sockets (--no-pool-event-loop; what every OS but Linux runs).

[Collection(KestrelPooledServerCollection.Name)]
public sealed class KestrelPooledTransactionTests(KestrelPooledServerFixture fixture) : TransactionTests(fixture);

[Collection(KestrelPooledServerCollection.Name)]
public sealed class KestrelPooledNpgsqlCopyTests(KestrelPooledServerFixture fixture) : NpgsqlCopyTests(fixture);

[Collection(KestrelPooledServerCollection.Name)]
public sealed class KestrelPooledListenNotifyTests(KestrelPooledServerFixture fixture) : ListenNotifyTests(fixture);
