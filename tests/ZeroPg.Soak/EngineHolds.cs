using System.Globalization;
using System.Text.RegularExpressions;

namespace ZeroPg.Soak;

/// <summary>
/// The server's own account of who made the others wait: its log's "engine of database D held N ms while W waited, by H"
/// lines (src/ZeroPg/Sessions/SharedEngine/EngineHoldLog.cs), grouped by what held the engine (the statement's first words).
/// </summary>
public static partial class EngineHolds
{
    public static List<Dictionary<string, object>> Read(string logPath)
    {
        var groups = new Dictionary<string, (int Count, double Max, double Total)>();
        try
        {
            foreach (var line in File.ReadLines(logPath))
            {
                var match = Held().Match(line);
                if (!match.Success)
                    continue;
                var ms = double.Parse(match.Groups[2].Value, CultureInfo.InvariantCulture);
                var holder = Regex.Replace(match.Groups[3].Value, @"^client \d+ \(.*?\): ", ""); // the state may hold parentheses: "(idle in transaction (aborted); ...)"
                var key = match.Groups[1].Value + ": " + (holder.Length > 48 ? holder[..48] : holder);
                var (count, max, total) = groups.GetValueOrDefault(key);
                groups[key] = (count + 1, Math.Max(max, ms), total + ms);
            }
        }
        catch (IOException)
        {
        }
        return [.. groups.OrderByDescending(g => g.Value.Total).Take(12).Select(g => new Dictionary<string, object>
        {
            ["holder"] = g.Key,
            ["count"] = g.Value.Count,
            ["maxMs"] = Math.Round(g.Value.Max),
            ["totalMs"] = Math.Round(g.Value.Total),
        })];
    }

    [GeneratedRegex(@"engine of database (\S+) held (\d+) ms while \d+ waited, by (.*)$")]
    private static partial Regex Held();
}
