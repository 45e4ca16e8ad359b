namespace ZeroPg.Replication.Walsender;

/// <summary>Parses walsender commands as Postgres's repl_gram.y does (PG 15-18 syntax, old and
/// parenthesized option forms). Returns null for text that is not a replication command: on a
/// replication=database connection that is plain SQL, passed to the engine.</summary>
internal static class ReplicationCommandParser
{
    private static readonly HashSet<string> CommandKeywords = new(StringComparer.Ordinal)
    {
        "identify_system", "show", "timeline_history", "read_replication_slot", "create_replication_slot",
        "drop_replication_slot", "alter_replication_slot", "start_replication", "base_backup", "upload_manifest",
    };

    /// <summary>True when the first word makes this a replication command (walsender's own test,
    /// replication_scanner_is_replication_command).</summary>
    public static bool IsReplicationCommand(string text)
    {
        var i = 0;
        while (i < text.Length && char.IsWhiteSpace(text[i])) i++;
        var start = i;
        while (i < text.Length && (char.IsAsciiLetterOrDigit(text[i]) || text[i] == '_')) i++;
        return CommandKeywords.Contains(text[start..i].ToLowerInvariant());
    }

    public static ReplicationCommand? Parse(string text)
    {
        if (!IsReplicationCommand(text)) return null;
        var p = new Cursor(ReplicationTokens.Read(text));
        var command = p.Next().Text switch
        {
            "identify_system" => new IdentifySystemCommand(),
            "show" => ParseShow(p),
            "timeline_history" => new TimelineHistoryCommand(p.Number()),
            "read_replication_slot" => new ReadReplicationSlotCommand(p.Identifier()),
            "drop_replication_slot" => ParseDrop(p),
            "create_replication_slot" => ParseCreate(p),
            "alter_replication_slot" => ParseAlter(p),
            "start_replication" => ParseStart(p),
            var keyword => SkipRest(p, new UnsupportedReplicationCommand(keyword.ToUpperInvariant())),
        };
        if (p.Peek.Kind == ReplicationTokenKind.Semicolon) p.Next();
        if (p.Peek.Kind != ReplicationTokenKind.End) throw ReplicationSyntaxError.Create("syntax error");
        return command;
    }

    private static ReplicationCommand SkipRest(Cursor p, ReplicationCommand command)
    {
        while (p.Peek.Kind is not (ReplicationTokenKind.End or ReplicationTokenKind.Semicolon)) p.Next();
        return command;
    }

    private static ShowCommand ParseShow(Cursor p)
    {
        var name = p.Identifier();
        while (p.Peek.Kind == ReplicationTokenKind.Dot) { p.Next(); name += "." + p.Identifier(); }
        return new ShowCommand(name);
    }

    private static DropReplicationSlotCommand ParseDrop(Cursor p)
    {
        var name = p.Identifier();
        var wait = false;
        if (p.Peek.IsWord("wait")) { p.Next(); wait = true; }
        return new DropReplicationSlotCommand(name, wait);
    }

    private static CreateReplicationSlotCommand ParseCreate(Cursor p)
    {
        var name = p.Identifier();
        var temporary = false;
        if (p.Peek.IsWord("temporary")) { p.Next(); temporary = true; }
        var kindWord = p.Next();
        ReplicationKind kind;
        string? plugin = null;
        if (kindWord.IsWord("physical")) kind = ReplicationKind.Physical;
        else if (kindWord.IsWord("logical")) { kind = ReplicationKind.Logical; plugin = p.Identifier(); }
        else throw ReplicationSyntaxError.Create("syntax error");

        // Both forms become (name, value) pairs, as the grammar turns legacy keywords into DefElems.
        var options = new List<KeyValuePair<string, string?>>();
        if (p.Peek.Kind == ReplicationTokenKind.LeftParen) options.AddRange(GenericOptions(p));
        else
        {
            while (p.Peek.Kind == ReplicationTokenKind.Word)
            {
                options.Add(p.Next().Text switch
                {
                    "export_snapshot" => new("snapshot", "export"),
                    "noexport_snapshot" => new("snapshot", "nothing"),
                    "use_snapshot" => new("snapshot", "use"),
                    "reserve_wal" => new("reserve_wal", "true"),
                    "two_phase" => new("two_phase", "true"),
                    _ => throw ReplicationSyntaxError.Create("syntax error"),
                });
            }
        }

        var snapshot = SnapshotAction.Export;
        bool twoPhase = false, failover = false, reserveWal = false;
        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (var (option, value) in options)
        {
            if (!seen.Add(option)) throw ReplicationSyntaxError.Create("conflicting or redundant options");
            switch (option)
            {
                case "snapshot" when kind == ReplicationKind.Logical:
                    snapshot = value switch
                    {
                        "export" => SnapshotAction.Export,
                        "use" => SnapshotAction.Use,
                        "nothing" => SnapshotAction.Nothing,
                        _ => throw ReplicationSyntaxError.Create(
                            $"unrecognized value for CREATE_REPLICATION_SLOT option \"snapshot\": \"{value}\""),
                    };
                    break;
                case "reserve_wal" when kind == ReplicationKind.Physical: reserveWal = Boolean(option, value); break;
                case "two_phase" when kind == ReplicationKind.Logical: twoPhase = Boolean(option, value); break;
                case "failover" when kind == ReplicationKind.Logical: failover = Boolean(option, value); break;
                default: throw ReplicationSyntaxError.Create($"unrecognized option: {option}");
            }
        }
        return new CreateReplicationSlotCommand(name, temporary, kind, plugin, snapshot, twoPhase, failover, reserveWal);
    }

    private static AlterReplicationSlotCommand ParseAlter(Cursor p)
    {
        var name = p.Identifier();
        if (p.Peek.Kind != ReplicationTokenKind.LeftParen) throw ReplicationSyntaxError.Create("syntax error");
        bool? twoPhase = null, failover = null;
        foreach (var (option, value) in GenericOptions(p))
        {
            switch (option)
            {
                case "two_phase" when twoPhase is null: twoPhase = Boolean(option, value); break;
                case "failover" when failover is null: failover = Boolean(option, value); break;
                case "two_phase" or "failover": throw ReplicationSyntaxError.Create("conflicting or redundant options");
                default: throw ReplicationSyntaxError.Create($"unrecognized option: {option}");
            }
        }
        return new AlterReplicationSlotCommand(name, twoPhase, failover);
    }

    private static StartReplicationCommand ParseStart(Cursor p)
    {
        string? slot = null;
        if (p.Peek.IsWord("slot")) { p.Next(); slot = p.Identifier(); }
        if (p.Peek.IsWord("logical"))
        {
            if (slot is null) throw ReplicationSyntaxError.Create("syntax error");
            p.Next();
            var start = p.LsnValue();
            var options = new List<KeyValuePair<string, string?>>();
            if (p.Peek.Kind == ReplicationTokenKind.LeftParen)
            {
                // plugin_opt_elem: IDENT [SCONST]
                p.Next();
                while (true)
                {
                    var name = p.Identifier();
                    string? value = null;
                    if (p.Peek.Kind == ReplicationTokenKind.String) value = p.Next().Text;
                    options.Add(new(name, value));
                    var t = p.Next();
                    if (t.Kind == ReplicationTokenKind.RightParen) break;
                    if (t.Kind != ReplicationTokenKind.Comma) throw ReplicationSyntaxError.Create("syntax error");
                }
            }
            return new StartReplicationCommand(ReplicationKind.Logical, slot, start, null, options);
        }
        if (p.Peek.IsWord("physical")) p.Next();
        var lsn = p.LsnValue();
        uint? timeline = null;
        if (p.Peek.IsWord("timeline")) { p.Next(); timeline = p.Number(); }
        return new StartReplicationCommand(ReplicationKind.Physical, slot, lsn, timeline, []);
    }

    /// <summary>'(' name [value] {, name [value]} ')', value a string, number or word; names lowercased.</summary>
    private static List<KeyValuePair<string, string?>> GenericOptions(Cursor p)
    {
        p.Expect(ReplicationTokenKind.LeftParen);
        var list = new List<KeyValuePair<string, string?>>();
        while (true)
        {
            var name = p.Next();
            if (name.Kind != ReplicationTokenKind.Word) throw ReplicationSyntaxError.Create("syntax error");
            string? value = null;
            if (p.Peek.Kind is ReplicationTokenKind.String or ReplicationTokenKind.Number or ReplicationTokenKind.Word
                or ReplicationTokenKind.QuotedIdentifier)
                value = p.Next().Text;
            list.Add(new(name.Text, value));
            var t = p.Next();
            if (t.Kind == ReplicationTokenKind.RightParen) return list;
            if (t.Kind != ReplicationTokenKind.Comma) throw ReplicationSyntaxError.Create("syntax error");
        }
    }

    /// <summary>defGetBoolean: no value is true; true/false/on/off/1/0 (and unique prefixes, as parse_bool).</summary>
    internal static bool Boolean(string option, string? value)
    {
        if (value is null) return true;
        var v = value.ToLowerInvariant();
        if (v is "1" or "on" || (v.Length > 0 && ("true".StartsWith(v, StringComparison.Ordinal) || "yes".StartsWith(v, StringComparison.Ordinal)))) return true;
        if (v is "0" or "off" || (v.Length > 0 && ("false".StartsWith(v, StringComparison.Ordinal) || "no".StartsWith(v, StringComparison.Ordinal)))) return false;
        throw ReplicationSyntaxError.Create($"{option} requires a Boolean value");
    }

    private sealed class Cursor(List<ReplicationToken> tokens)
    {
        private int _i;
        public ReplicationToken Peek => tokens[_i];
        public ReplicationToken Next() => _i < tokens.Count - 1 ? tokens[_i++] : tokens[_i];

        public void Expect(ReplicationTokenKind kind)
        {
            if (Next().Kind != kind) throw ReplicationSyntaxError.Create("syntax error");
        }

        public string Identifier()
        {
            var t = Next();
            return t.IsIdentifier ? t.Text : throw ReplicationSyntaxError.Create("syntax error");
        }

        public uint Number()
        {
            var t = Next();
            return t.Kind == ReplicationTokenKind.Number && uint.TryParse(t.Text, out var n) ? n : throw ReplicationSyntaxError.Create("syntax error");
        }

        public Lsn LsnValue()
        {
            var t = Next();
            if (t.Kind != ReplicationTokenKind.Lsn) throw ReplicationSyntaxError.Create("syntax error");
            Lsn.TryParse(t.Text, out var lsn);
            return lsn;
        }
    }
}
