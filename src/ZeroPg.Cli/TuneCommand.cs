using System.CommandLine;
using System.Text.Json;
using ZeroPg.Cli.Tuning;

namespace ZeroPg.Cli;

/// <summary>`zeropg tune`: postgresql.conf settings for a real server of this (or a given) size.</summary>
internal static class TuneCommand
{
    public static Command Create()
    {
        var memory = new Option<string?>("--memory") { Description = "memory the server may use (4GB, 512MB, a number of MB); default: ZEROPG_MEMORY, POSTGRES_MEMORY, the cgroup v2 limit, /proc/meminfo" };
        var cpus = new Option<int?>("--cpus") { Description = "CPUs the server may use; default: cgroup v2 cpu.max, then the CPU count" };
        var storage = new Option<string>("--storage") { Description = "ssd or hdd (planner I/O costs)", DefaultValueFactory = _ => "ssd" };
        var format = new Option<string>("--format") { Description = "conf (postgresql.conf fragment), flags (-c name=value for postgres) or json", DefaultValueFactory = _ => "conf" };
        format.AcceptOnlyFromAmong("conf", "flags", "json");
        storage.AcceptOnlyFromAmong("ssd", "hdd");
        var command = new Command("tune", "Print production settings for a PostgreSQL server of this size (the aza-pg memory table plus workers, I/O and WAL settings). Memory and CPUs are detected from cgroup v2, then /proc, unless given.")
        {
            memory, cpus, storage, format,
        };
        command.SetAction(parse =>
        {
            DetectedResources resources;
            try
            {
                resources = new ResourceDetector().Detect(parse.GetValue(memory), parse.GetValue(cpus));
                if (resources.Cpus < 1)
                    throw new ArgumentException("--cpus must be at least 1");
            }
            catch (Exception e) when (e is ArgumentException or InvalidOperationException or IOException)
            {
                Console.Error.WriteLine($"zeropg tune: {e.Message}");
                return 2;
            }
            var settings = ServerTuning.Compute(resources.MemoryMb, resources.Cpus, parse.GetValue(storage) == "hdd" ? StorageKind.Hdd : StorageKind.Ssd);
            Console.Out.Write(Render(settings, parse.GetValue(format)!, resources));
            if (resources.MemoryMb < 512)
                Console.Error.WriteLine($"zeropg tune: {resources.MemoryMb}MB is below the 512MB the table starts at; the settings follow its smallest row's ratios");
            return 0;
        });
        return command;
    }

    internal static string Render(IReadOnlyList<TuneSetting> settings, string format, DetectedResources resources) => format switch
    {
        "json" => JsonSerializer.Serialize(settings.ToDictionary(s => s.Name, s => s.Value), CliJson.Default.DictionaryStringString) + Environment.NewLine,
        "flags" => string.Join(' ', settings.Select(s => $"-c {s.Name}={s.Value}")) + Environment.NewLine,
        _ => $"# zeropg tune: {resources.MemoryMb}MB ({resources.MemorySource}), {resources.Cpus} CPUs ({resources.CpuSource})" + Environment.NewLine
            + string.Concat(settings.Select(s => $"{s.Name} = {Quote(s.Value)}{Environment.NewLine}")),
    };

    private static string Quote(string value) => double.TryParse(value, System.Globalization.CultureInfo.InvariantCulture, out _) ? value : $"'{value}'";
}
