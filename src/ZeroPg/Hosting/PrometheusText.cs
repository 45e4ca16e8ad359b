using System.Globalization;
using System.Text;

namespace ZeroPg.Hosting;

/// <summary>Renders <see cref="ZeroPgMetrics"/> in the Prometheus text exposition format (version 0.0.4).</summary>
internal static class PrometheusText
{
    public const string ContentType = "text/plain; version=0.0.4; charset=utf-8";

    public static string Render(ZeroPgMetrics metrics, IReadOnlyList<Replication.Slots.SlotMetric>? slots = null)
    {
        var text = new StringBuilder();
        Write(text, "zeropg_connections", "gauge", "Client connections open.", metrics.OpenConnections());
        Write(text, "zeropg_connections_accepted_total", "counter", "Client connections accepted.", metrics.ConnectionsAccepted);
        Write(text, "zeropg_startup_timeouts_total", "counter", "Connections closed for not completing their startup within the authentication timeout.", metrics.StartupTimeouts);
        Write(text, "zeropg_queued_batches", "gauge", "Clients waiting for the shared engine.", metrics.QueuedBatches());
        Write(text, "zeropg_statements_total", "counter", "Clients' units of work (a statement, or a pipeline up to its Sync) that ended.", metrics.Statements);
        Write(text, "zeropg_statement_seconds_total", "counter", "Time clients' units of work took, queueing for the engine included.", metrics.StatementSeconds);
        Write(text, "zeropg_batches_total", "counter", "Batches of protocol messages run by the engine.", metrics.Batches);
        Write(text, "zeropg_batch_bytes_total", "counter", "Bytes of protocol messages sent to the engine.", metrics.BatchBytes);
        Write(text, "zeropg_queue_waits_total", "counter", "Times a client waited for the shared engine.", metrics.QueueWaits);
        Write(text, "zeropg_queue_wait_seconds_total", "counter", "Time clients spent waiting for the shared engine.", metrics.QueueWaitSeconds);
        Write(text, "zeropg_engine_long_holds_total", "counter", "Times one client held the shared engine for 1 s or more while others waited (each is logged with its query).", metrics.LongEngineHolds);
        Write(text, "zeropg_session_restore_failures_total", "counter", "Times the statements restoring a client's session state in the shared engine (or cleaning it up after the client left) failed there; each restore is logged, rolled back and built again, each cleanup run again.", metrics.SessionRestoreFailures);
        Write(text, "zeropg_auto_prepared_runs_total", "counter", "Simple Queries run through a statement ZeroPg prepared on its own.", metrics.AutoPreparedRuns);
        Write(text, "zeropg_pipelined_units_total", "counter", "Units sent to the engine behind another client's unit still running.", metrics.PipelinedUnits);
        Write(text, "zeropg_engine_restarts_total", "counter", "Engine processes replaced after dying.", metrics.EngineRestarts());
        Write(text, "zeropg_allocated_bytes_total", "counter", "Bytes the server's managed code allocated so far (its garbage collector's work; bench/pool.sh divides it by the transactions of a run).",
            GC.GetTotalAllocatedBytes());
        WriteUnhonouredCancels(text, metrics);
        if (metrics.EngineRssBytes() is { } rss)
            Write(text, "zeropg_engine_resident_memory_bytes", "gauge", "Resident memory of the engine host process.", rss);
        EngineMetricsText.Write(text, metrics.DatabaseEngines(), metrics.SpareEngine());
        if (metrics.Pool() is { } pool)
            PoolMetricsText.Write(text, pool);
        if (metrics.BackupStatus() is { } backup)
        {
            Write(text, "zeropg_backup_ok", "gauge", "1 while the backup is up to date (state ok), else 0.", backup.IsHealthy ? 1 : 0);
            Write(text, "zeropg_backup_lag_seconds", "gauge", "Age of the oldest WAL not yet in the backup.", backup.LagSeconds);
            Write(text, "zeropg_backup_lag_bytes", "gauge", "WAL on disk not yet in the backup.", backup.LagBytes);
            Write(text, "zeropg_backup_last_upload_timestamp_seconds", "gauge", "Unix time of the last successful WAL upload (0: none yet).", backup.LastUpload?.ToUnixTimeMilliseconds() / 1000.0 ?? 0);
            Write(text, "zeropg_backup_uploads_total", "counter", "WAL objects uploaded.", backup.Uploads);
            Write(text, "zeropg_backup_uploaded_bytes_total", "counter", "Bytes uploaded (WAL objects and base backups, compressed).", backup.UploadedBytes);
            Write(text, "zeropg_backup_wal_bytes_total", "counter", "WAL bytes shipped (before compression).", backup.WalBytes);
            Write(text, "zeropg_backup_upload_failures_total", "counter", "WAL uploads that failed (each is retried).", backup.UploadFailures);
            Write(text, "zeropg_backup_base_backups_total", "counter", "Base backups completed.", backup.BaseBackups);
            Write(text, "zeropg_backup_base_backup_failures_total", "counter", "Base backups that failed (retried).", backup.BaseBackupFailures);
            Write(text, "zeropg_backup_last_base_backup_timestamp_seconds", "gauge", "Unix time of the last completed base backup (0: none by this server).", backup.LastBaseBackup?.ToUnixTimeMilliseconds() / 1000.0 ?? 0);
        }
        if (slots is not null)
            WriteSlots(text, slots);
        return text.ToString();
    }

    /// <summary>Cancels the engine did not honour in time, by reason and action; the kills among them, by reason.</summary>
    private static void WriteUnhonouredCancels(StringBuilder text, ZeroPgMetrics metrics)
    {
        var counts = metrics.UnhonouredCancels().ToList();
        text.Append("# HELP zeropg_cancels_unhonoured_total Batches that ran on past their cancel for CancelRestartAfter: the engine killed to stop them (data directory), or waited for (memory://).\n")
            .Append("# TYPE zeropg_cancels_unhonoured_total counter\n");
        foreach (var (reason, action, count) in counts)
            text.Append("zeropg_cancels_unhonoured_total{reason=\"").Append(reason).Append("\",action=\"").Append(action).Append("\"} ")
                .Append(count.ToString(CultureInfo.InvariantCulture)).Append('\n');
        text.Append("# HELP zeropg_engine_kills_total Engines the server killed, by the cancel that was not honoured (user, statement_timeout, lock_timeout).\n")
            .Append("# TYPE zeropg_engine_kills_total counter\n");
        foreach (var (reason, action, count) in counts.Where(c => c.Action == "killed"))
            text.Append("zeropg_engine_kills_total{reason=\"").Append(reason).Append("\"} ").Append(count.ToString(CultureInfo.InvariantCulture)).Append('\n');
    }

    /// <summary>Logical replication slots, one series per database and slot.</summary>
    private static void WriteSlots(StringBuilder text, IReadOnlyList<Replication.Slots.SlotMetric> slots)
    {
        Write(text, "zeropg_replication_slots", "gauge", "Logical replication slots.", slots.Count);
        if (slots.Count == 0)
            return;
        WriteEach(text, slots, "zeropg_replication_slot_active", "1 while a walsender streams from the slot.", s => s.Active ? 1 : 0);
        WriteEach(text, slots, "zeropg_replication_slot_lost", "1 once the slot was invalidated (more than max_slot_wal_keep_size behind).", s => s.Lost ? 1 : 0);
        WriteEach(text, slots, "zeropg_replication_slot_lag_bytes", "WAL written since the slot's confirmed position.", s => s.LagBytes);
        WriteEach(text, slots, "zeropg_replication_slot_lag_seconds", "Age of the oldest captured change the slot has not confirmed (0: none).", s => s.LagSeconds);
    }

    private static void WriteEach(StringBuilder text, IReadOnlyList<Replication.Slots.SlotMetric> slots, string name, string help,
        Func<Replication.Slots.SlotMetric, double> value)
    {
        text.Append("# HELP ").Append(name).Append(' ').Append(help).Append('\n');
        text.Append("# TYPE ").Append(name).Append(" gauge\n");
        foreach (var slot in slots)
        {
            text.Append(name).Append("{database=\"").Append(Label(slot.Database)).Append("\",slot=\"").Append(Label(slot.Slot)).Append("\"} ")
                .Append(value(slot).ToString("R", CultureInfo.InvariantCulture)).Append('\n');
        }
    }

    /// <summary>A label value as the exposition format escapes it.</summary>
    internal static string Label(string value) => value.Replace("\\", "\\\\").Replace("\"", "\\\"").Replace("\n", "\\n");

    internal static void Write(StringBuilder text, string name, string type, string help, double value)
    {
        text.Append("# HELP ").Append(name).Append(' ').Append(help).Append('\n');
        text.Append("# TYPE ").Append(name).Append(' ').Append(type).Append('\n');
        text.Append(name).Append(' ').Append(value.ToString("R", CultureInfo.InvariantCulture)).Append('\n');
    }
}
