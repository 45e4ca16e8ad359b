using System.Buffers;
using System.Buffers.Binary;
using System.Text;
using ZeroPg.Protocol;
using ZeroPg.Protocol.Frontend;
using ZeroPg.Sessions.Statements;

namespace ZeroPg.Sessions;

/// <summary>
/// Simple Queries run through statements ZeroPg prepares once (see <see cref="AutoParameterizer"/>):
/// Parse (first time only), Bind with the literals' values as text, Describe, Execute and Sync, with
/// the replies a Query would not get (ParseComplete, BindComplete, NoData) dropped. The client sees
/// exactly the reply of its Query.
/// </summary>
internal sealed partial class ClientSession
{
    /// <summary>This transaction changed the schema: prepare nothing more in it, and forget all auto statements when it ends (a rollback undoes the change).</summary>
    private bool _schemaChangedInTransaction;

    /// <summary>
    /// Writes <paramref name="sql"/> as an auto-prepared run and returns true; or returns false to send it
    /// as a plain Query, with <paramref name="onPlainCompleted"/> to call once it has run.
    /// </summary>
    private bool TryAutoPrepare(string sql, out Action<bool>? onPlainCompleted)
    {
        onPlainCompleted = null;
        if (!_services.Options.AutoPrepare)
            return false;
        if (!AutoParameterizer.TryParameterize(sql, out var query))
        {
            NoteSchemaChange(sql);
            return false;
        }
        if (_status == TransactionStatus.Failed || _schemaChangedInTransaction || _tempRelations.Count > 0 || _tempDirty || !_effects.IsEmpty)
            return false; // a client's own temp tables shadow tables by name; a shared plan would not see them
        var auto = Catalog.Auto;
        var statement = auto.Find(query.Sql);
        if (statement is null)
        {
            onPlainCompleted = ok =>
            {
                if (ok)
                    auto.RanOnce(query.Sql);
            };
            return false;
        }
        foreach (var name in auto.TakeClosings())
        {
            TargetedMessage.Write(_engineBatch, FrontendCode.Close, TargetedMessage.Statement, name);
            Expect(ExpectKind.Swallow, FrontendCode.Close);
        }
        if (!Catalog.IsPrepared(statement))
        {
            CloseIfMaybeHeld(statement);
            ParseMessage.Write(_engineBatch, statement.EngineNameBytes, statement.Sql, statement.ParameterTypes);
            var prepared = MarkPrepared(statement);
            Expect(ExpectKind.Swallow, FrontendCode.Parse, onCompleted: ok =>
            {
                prepared(ok);
                if (!ok)
                    auto.Refuse(query.Sql);
            });
        }
        BindMessage.Write(_engineBatch, [], statement.EngineNameBytes, TextParameters(query.Values));
        Expect(ExpectKind.Swallow, FrontendCode.Bind, onCompleted: ok =>
        {
            if (!ok)
                auto.Drop(query.Sql); // e.g. "cached plan must not change result type": prepare it afresh next time
        });
        TargetedMessage.Write(_engineBatch, FrontendCode.Describe, TargetedMessage.Portal, []);
        Expect(ExpectKind.DescribeForQuery, FrontendCode.Describe);
        ExecuteMessage.Write(_engineBatch, [], 0);
        Expect(ExpectKind.Forward, FrontendCode.Execute);
        EmptyFrontendMessage.Write(_engineBatch, FrontendCode.Sync);
        Expect(ExpectKind.Forward, FrontendCode.Sync);
        _services.Metrics.RecordAutoPreparedRun();
        return true;
    }

    /// <summary>DDL (or anything that may run it) invalidates what was prepared: see <see cref="AutoStatements.Invalidate"/>.</summary>
    private void NoteSchemaChange(string sql)
    {
        if (!_services.Options.AutoPrepare || !AutoParameterizer.MayChangeSchema(sql))
            return;
        Catalog.Auto.Invalidate();
        _schemaChangedInTransaction = true; // until the unit ends outside a transaction block
    }

    /// <summary>Called when a unit has run: a transaction that changed the schema has ended, so its changes are final (or undone).</summary>
    private void EndSchemaChangeIfIdle()
    {
        if (_schemaChangedInTransaction && _status == TransactionStatus.Idle)
        {
            _schemaChangedInTransaction = false;
            Catalog.Auto.Invalidate();
        }
    }

    /// <summary>Bind's formats and values: all text in, all text out, like a simple Query.</summary>
    private static byte[] TextParameters(IReadOnlyList<string> values)
    {
        var writer = new ArrayBufferWriter<byte>(8 + values.Count * 12);
        WriteInt16(writer, 0);
        WriteInt16(writer, (short)values.Count);
        foreach (var value in values)
        {
            var bytes = Encoding.UTF8.GetBytes(value);
            BinaryPrimitives.WriteInt32BigEndian(writer.GetSpan(4), bytes.Length);
            writer.Advance(4);
            writer.Write(bytes);
        }
        WriteInt16(writer, 0);
        return writer.WrittenSpan.ToArray();
    }

    private static void WriteInt16(ArrayBufferWriter<byte> writer, short value)
    {
        BinaryPrimitives.WriteInt16BigEndian(writer.GetSpan(2), value);
        writer.Advance(2);
    }
}
