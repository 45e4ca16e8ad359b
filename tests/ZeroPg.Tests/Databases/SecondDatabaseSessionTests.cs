using ZeroPg.Tests.Sessions;

namespace ZeroPg.Tests.Databases;

// The session and COPY tests that run against the postgres database, run again in a second database (an engine of
// its own): each class inherits every test of its counterpart and gets the second database's fixture instead.

[Collection(SecondDatabaseCollection.Name)]
public sealed class SecondDatabaseErrorRecoveryTests(SecondDatabaseFixture fixture) : ErrorRecoveryTests(fixture);

[Collection(SecondDatabaseCollection.Name)]
public sealed class SecondDatabaseListenNotifyTests(SecondDatabaseFixture fixture) : ListenNotifyTests(fixture);

[Collection(SecondDatabaseCollection.Name)]
public sealed class SecondDatabaseMultiStatementTests(SecondDatabaseFixture fixture) : MultiStatementTests(fixture);

[Collection(SecondDatabaseCollection.Name)]
public sealed class SecondDatabaseNpgsqlCopyTests(SecondDatabaseFixture fixture) : NpgsqlCopyTests(fixture);

[Collection(SecondDatabaseCollection.Name)]
public sealed class SecondDatabaseNpgsqlPreparedStatementTests(SecondDatabaseFixture fixture) : NpgsqlPreparedStatementTests(fixture);

[Collection(SecondDatabaseCollection.Name)]
public sealed class SecondDatabasePsqlCopyTests(SecondDatabaseFixture fixture) : PsqlCopyTests(fixture);

[Collection(SecondDatabaseCollection.Name)]
public sealed class SecondDatabaseSettingsIsolationTests(SecondDatabaseFixture fixture) : SettingsIsolationTests(fixture);

[Collection(SecondDatabaseCollection.Name)]
public sealed class SecondDatabaseSqlPrepareIsolationTests(SecondDatabaseFixture fixture) : SqlPrepareIsolationTests(fixture);

[Collection(SecondDatabaseCollection.Name)]
public sealed class SecondDatabaseTempTableIsolationTests(SecondDatabaseFixture fixture) : TempTableIsolationTests(fixture);

[Collection(SecondDatabaseCollection.Name)]
public sealed class SecondDatabaseTransactionTests(SecondDatabaseFixture fixture) : TransactionTests(fixture);

[Collection(SecondDatabaseCollection.Name)]
public sealed class SecondDatabaseConcurrentCopyTests(SecondDatabaseFixture fixture) : ConcurrentCopyTests(fixture);
