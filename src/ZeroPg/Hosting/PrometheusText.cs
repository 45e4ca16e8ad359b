using System.Globalization;
using System.Text;

namespace ZeroPg.Hosting;

/// <summary>Renders <see cref="ZeroPgMetrics"/> in the Prometheus text exposition format (version 0.0.4).</summary>
internal static class PrometheusText
{
    public const string ContentType = "text/plain; version=0.0.4; charset=utf-8";

    public static string Render(ZeroPgMetrics metrics)
    {
        var text = new StringBuilder();
        Write(text, "zeropg_connections", "gauge", "Client connections open.", metrics.OpenConnections());
        Write(text, "zeropg_connections_accepted_total", "counter", "Client connections accepted.", metrics.ConnectionsAccepted);
        Write(text, "zeropg_queued_batches", "gauge", "Clients waiting for the shared engine.", metrics.QueuedBatches());
        Write(text, "zeropg_batches_total", "counter", "Batches of protocol messages run by the engine.", metrics.Batches);
        Write(text, "zeropg_batch_bytes_total", "counter", "Bytes of protocol messages sent to the engine.", metrics.BatchBytes);
        Write(text, "zeropg_queue_waits_total", "counter", "Times a client waited for the shared engine.", metrics.QueueWaits);
        Write(text, "zeropg_queue_wait_seconds_total", "counter", "Time clients spent waiting for the shared engine.", metrics.QueueWaitSeconds);
        Write(text, "zeropg_auto_prepared_runs_total", "counter", "Simple Queries run through a statement ZeroPg prepared on its own.", metrics.AutoPreparedRuns);
        Write(text, "zeropg_pipelined_units_total", "counter", "Units sent to the engine behind another client's unit still running.", metrics.PipelinedUnits);
        Write(text, "zeropg_engine_restarts_total", "counter", "Engine processes replaced after dying.", metrics.EngineRestarts());
        if (metrics.EngineRssBytes() is { } rss)
            Write(text, "zeropg_engine_resident_memory_bytes", "gauge", "Resident memory of the engine host process.", rss);
        return text.ToString();
    }

    private static void Write(StringBuilder text, string name, string type, string help, double value)
    {
        text.Append("# HELP ").Append(name).Append(' ').Append(help).Append('\n');
        text.Append("# TYPE ").Append(name).Append(' ').Append(type).Append('\n');
        text.Append(name).Append(' ').Append(value.ToString("R", CultureInfo.InvariantCulture)).Append('\n');
    }
}
