using ZeroPg.Tests.Sessions;

namespace ZeroPg.Tests.Engine.Native;

// The session and COPY tests that run against PGlite, run again with --engine postgres: each class inherits
// every test of its PGlite counterpart and gets the native server's fixture instead.

[Collection(NativeServerCollection.Name)]
public sealed class NativeErrorRecoveryTests(NativeServerFixture fixture) : ErrorRecoveryTests(fixture);

[Collection(NativeServerCollection.Name)]
public sealed class NativeListenNotifyTests(NativeServerFixture fixture) : ListenNotifyTests(fixture);

[Collection(NativeServerCollection.Name)]
public sealed class NativeMultiStatementTests(NativeServerFixture fixture) : MultiStatementTests(fixture);

[Collection(NativeServerCollection.Name)]
public sealed class NativeNpgsqlCopyTests(NativeServerFixture fixture) : NpgsqlCopyTests(fixture);

[Collection(NativeServerCollection.Name)]
public sealed class NativeNpgsqlPreparedStatementTests(NativeServerFixture fixture) : NpgsqlPreparedStatementTests(fixture);

[Collection(NativeServerCollection.Name)]
public sealed class NativePsqlCopyTests(NativeServerFixture fixture) : PsqlCopyTests(fixture);

[Collection(NativeServerCollection.Name)]
public sealed class NativeSettingsIsolationTests(NativeServerFixture fixture) : SettingsIsolationTests(fixture);

[Collection(NativeServerCollection.Name)]
public sealed class NativeSqlPrepareIsolationTests(NativeServerFixture fixture) : SqlPrepareIsolationTests(fixture);

[Collection(NativeServerCollection.Name)]
public sealed class NativeTempTableIsolationTests(NativeServerFixture fixture) : TempTableIsolationTests(fixture);

[Collection(NativeServerCollection.Name)]
public sealed class NativeTransactionTests(NativeServerFixture fixture) : TransactionTests(fixture);

[Collection(NativeServerCollection.Name)]
public sealed class NativeConcurrentCopyTests(NativeServerFixture fixture) : ConcurrentCopyTests(fixture);
