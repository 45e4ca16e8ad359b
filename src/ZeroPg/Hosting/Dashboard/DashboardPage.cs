namespace ZeroPg.Hosting.Dashboard;

/// <summary>The dashboard page: one self-contained document (inline style and script, no CDN), served with a first snapshot inside and fed by /events.</summary>
internal static class DashboardPage
{
    private const string SnapshotMarker = "/*SNAPSHOT*/";

    /// <summary>The page with <paramref name="snapshotJson"/> as its first state ("&lt;/" escaped so the JSON cannot end the script).</summary>
    public static string With(string snapshotJson) => Html.Replace(SnapshotMarker, snapshotJson.Replace("</", "<\\/"), StringComparison.Ordinal);

    public const string Html = """
        <!doctype html>
        <html lang="en">
        <head>
        <meta charset="utf-8">
        <title>ZeroPg</title>
        <meta name="viewport" content="width=device-width, initial-scale=1">
        <style>
          body { font: 14px/1.4 system-ui, sans-serif; margin: 24px; color: #1d2330; background: #f6f7f9; }
          h1 { font-size: 20px; margin: 0 0 4px; } h2 { font-size: 15px; margin: 24px 0 8px; }
          .tiles { display: flex; gap: 12px; flex-wrap: wrap; }
          .tile { background: #fff; border: 1px solid #dde1e7; border-radius: 6px; padding: 10px 14px; min-width: 130px; }
          .tile b { display: block; font-size: 22px; }
          table { border-collapse: collapse; width: 100%; background: #fff; border: 1px solid #dde1e7; }
          th, td { text-align: left; padding: 6px 10px; border-bottom: 1px solid #eceff3; vertical-align: top; }
          th { background: #eef1f5; font-weight: 600; }
          td.query { font-family: ui-monospace, monospace; font-size: 12px; max-width: 520px; overflow-wrap: anywhere; }
          .state { padding: 1px 8px; border-radius: 10px; font-size: 12px; white-space: nowrap; }
          .state-idle { background: #e8eef7; } .state-active { background: #d7f5dd; }
          .state-queued { background: #ffe9b8; } .state-idle-in-transaction, .state-idle-in-transaction-aborted { background: #ffd6d6; }
          .state-running { background: #d7f5dd; } .state-evicted, .state-retired { background: #eceff3; } .state-spare, .state-serving { background: #e3dcf7; }
          .muted { color: #6b7280; }
          .charts { display: flex; gap: 12px; flex-wrap: wrap; }
          .chart { background: #fff; border: 1px solid #dde1e7; border-radius: 6px; padding: 8px 10px; }
          .chart svg { display: block; width: 320px; height: 70px; }
          .chart polyline { fill: none; stroke: #2f6fd6; stroke-width: 1.5; }
          .chart .axis { stroke: #dde1e7; stroke-width: 1; }
        </style>
        </head>
        <body>
        <h1>ZeroPg</h1>
        <div class="muted" id="updated">connecting…</div>
        <div class="tiles">
          <div class="tile">connections<b id="connection-count">–</b></div>
          <div class="tile">statements / s<b id="rate">–</b></div>
          <div class="tile">queued for an engine<b id="queued">–</b></div>
          <div class="tile">uptime<b id="uptime">–</b></div>
        </div>
        <h2>Last minutes</h2>
        <div class="charts">
          <div class="chart"><div>statements / s <b class="now" id="now-throughput">–</b> <span class="muted" id="max-throughput"></span></div><svg id="chart-throughput" viewBox="0 0 320 70" preserveAspectRatio="none"></svg></div>
          <div class="chart"><div>queued for an engine <b class="now" id="now-queued">–</b> <span class="muted" id="max-queued"></span></div><svg id="chart-queued" viewBox="0 0 320 70" preserveAspectRatio="none"></svg></div>
          <div class="chart"><div>latency (ms, mean) <b class="now" id="now-latency">–</b> <span class="muted" id="max-latency"></span></div><svg id="chart-latency" viewBox="0 0 320 70" preserveAspectRatio="none"></svg></div>
        </div>
        <h2>Connections</h2>
        <table><thead><tr><th>pid</th><th>user</th><th>database</th><th>application</th><th>state</th><th>for</th><th>in transaction</th><th>query</th></tr></thead>
        <tbody id="connections"></tbody></table>
        <h2>Databases and engines</h2>
        <table><thead><tr><th>database</th><th>engine</th><th>clients</th><th>queued</th><th>engine memory</th></tr></thead>
        <tbody id="databases"></tbody></table>
        <h2>Engines</h2>
        <table><thead><tr><th>role</th><th>database</th><th>state</th><th>process</th><th>memory</th></tr></thead>
        <tbody id="engines"></tbody></table>
        <h2>Shared engine hosts</h2>
        <table><thead><tr><th>pid</th><th>state</th><th>engines</th><th>resident memory</th><th>beyond its engines' heaps</th></tr></thead>
        <tbody id="engine-hosts"></tbody></table>
        <h2>Backup</h2>
        <div id="backup" class="muted">–</div>
        <h2>Replication slots</h2>
        <div id="slots" class="muted">–</div>
        <script>
          const text = (value) => document.createTextNode(value == null ? '' : String(value));
          const cell = (row, value, cls) => { const td = row.insertCell(); if (cls) td.className = cls; td.appendChild(value instanceof Node ? value : text(value)); return td; };
          const seconds = (s) => s == null ? '' : s < 60 ? s.toFixed(1) + ' s' : s < 3600 ? (s / 60).toFixed(1) + ' min' : (s / 3600).toFixed(1) + ' h';
          const bytes = (b) => b == null ? '' : b > 1e9 ? (b / 1e9).toFixed(2) + ' GB' : (b / 1e6).toFixed(0) + ' MB';
          function badge(state) {
            const span = document.createElement('span');
            span.className = 'state state-' + state.replace(/[^a-z]+/g, '-').replace(/-$/, '');
            span.textContent = state;
            return span;
          }
          const SVG = 'http://www.w3.org/2000/svg';
          // One series of the history as a line over the last minutes (the newest point at the right edge); the axis spans 0 to its maximum.
          function chart(name, points, value, unit) {
            const svg = document.getElementById('chart-' + name);
            const values = points.map(value);
            const max = Math.max(1, ...values);
            const span = Math.max(60, ...points.map(p => p.secondsAgo));
            const line = document.createElementNS(SVG, 'polyline');
            line.setAttribute('points', points.map(p => `${(320 * (1 - p.secondsAgo / span)).toFixed(1)},${(68 - 64 * value(p) / max).toFixed(1)}`).join(' '));
            const axis = document.createElementNS(SVG, 'line');
            axis.setAttribute('class', 'axis'); axis.setAttribute('x1', 0); axis.setAttribute('x2', 320); axis.setAttribute('y1', 68); axis.setAttribute('y2', 68);
            svg.replaceChildren(axis, line);
            document.getElementById('now-' + name).textContent = values.length ? values[values.length - 1] : 0;
            document.getElementById('max-' + name).textContent = `max ${Math.round(Math.max(0, ...values) * 10) / 10}${unit} over ${Math.round(span / 60 * 10) / 10} min`;
          }
          function render(s) {
            document.getElementById('updated').textContent = 'updated ' + new Date(s.at).toLocaleTimeString();
            document.getElementById('connection-count').textContent = s.connections.length;
            document.getElementById('rate').textContent = s.statementsPerSecond;
            document.getElementById('queued').textContent = s.queued;
            document.getElementById('uptime').textContent = seconds(s.uptimeSeconds);
            const connections = document.getElementById('connections');
            connections.replaceChildren();
            for (const c of s.connections) {
              const row = connections.insertRow();
              row.dataset.pid = c.pid;
              cell(row, c.pid); cell(row, c.user); cell(row, c.database); cell(row, c.application);
              cell(row, badge(c.state)); cell(row, seconds(c.stateSeconds) + (c.waitingFor ? ' waiting for ' + c.waitingFor : ''));
              cell(row, seconds(c.transactionSeconds)); cell(row, c.query, 'query');
            }
            const databases = document.getElementById('databases');
            databases.replaceChildren();
            for (const d of s.databases) {
              const row = databases.insertRow();
              cell(row, d.name); cell(row, badge(d.state)).appendChild(text(d.running ? ' pid ' + d.enginePid : ''));
              cell(row, d.clients); cell(row, d.queued); cell(row, bytes(d.engineRssBytes));
            }
            const engines = document.getElementById('engines');
            engines.replaceChildren();
            for (const e of s.engines) {
              const row = engines.insertRow();
              row.dataset.role = e.role;
              cell(row, e.role); cell(row, e.database ?? (e.role === 'spare' ? '(the next CREATE DATABASE)' : '')); cell(row, badge(e.state));
              cell(row, e.sharedHost ? 'shared host ' + e.pid : 'pid ' + e.pid); cell(row, bytes(e.rssBytes));
            }
            const hosts = document.getElementById('engine-hosts');
            hosts.replaceChildren();
            for (const h of s.engineHosts) {
              const row = hosts.insertRow();
              cell(row, h.pid); cell(row, badge(h.state)); cell(row, h.engines); cell(row, bytes(h.residentBytes)); cell(row, bytes(h.floorBytes));
            }
            if (!s.engineHosts.length) cell(hosts.insertRow(), 'none (--engine-host process)', 'muted');
            chart('throughput', s.history, p => p.statementsPerSecond, '/s');
            chart('queued', s.history, p => p.queued, '');
            chart('latency', s.history, p => p.latencyMs, ' ms');
            document.getElementById('backup').textContent = s.backup
              ? `${s.backup.state} to ${s.backup.url}: ${s.backup.lagSeconds.toFixed(1)} s / ${bytes(s.backup.lagBytes)} behind${s.backup.detail ? ' (' + s.backup.detail + ')' : ''}`
              : 'no continuous backup (--backup)';
            document.getElementById('slots').textContent = s.replicationSlots.length ? s.replicationSlots.join(', ') : 'none';
          }
          // The snapshot of the moment the page was served: the page shows it before any request of its own.
          render(/*SNAPSHOT*/);
          const events = new EventSource('/events');
          events.onmessage = (e) => render(JSON.parse(e.data));
          events.onerror = () => { document.getElementById('updated').textContent = 'disconnected: retrying…'; };
        </script>
        </body>
        </html>
        """;
}
