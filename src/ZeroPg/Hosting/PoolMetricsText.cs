using System.Text;

namespace ZeroPg.Hosting;

/// <summary>The backend pool's gauges (--pool) in the Prometheus text format: backends busy and idle, clients waiting, waits.</summary>
internal static class PoolMetricsText
{
    public static void Write(StringBuilder text, Engine.Pooled.PoolCounts pool)
    {
        PrometheusText.Write(text, "zeropg_pool_size", "gauge", "Backends the pool may open (--pool).", pool.Size);
        PrometheusText.Write(text, "zeropg_pool_backends_busy", "gauge", "Pooled backends lent to a client (in a transaction, or pinned by session state).", pool.Busy);
        PrometheusText.Write(text, "zeropg_pool_backends_idle", "gauge", "Pooled backends logged in and idle.", pool.Idle);
        PrometheusText.Write(text, "zeropg_pool_clients_waiting", "gauge", "Clients waiting for a pooled backend.", pool.Waiting);
        PrometheusText.Write(text, "zeropg_pool_oldest_wait_seconds", "gauge", "How long the longest-waiting client has waited so far.", pool.OldestWaiting.TotalSeconds);
        PrometheusText.Write(text, "zeropg_pool_waits_total", "counter", "Times a client waited for a pooled backend.", pool.Waits);
        PrometheusText.Write(text, "zeropg_pool_wait_seconds_total", "counter", "Time clients spent waiting for a pooled backend.", pool.WaitTotal.TotalSeconds);
        PrometheusText.Write(text, "zeropg_pool_max_wait_seconds", "gauge", "The longest wait for a pooled backend so far.", pool.LongestWait.TotalSeconds);
    }
}
