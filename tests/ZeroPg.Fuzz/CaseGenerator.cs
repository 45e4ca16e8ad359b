using System.Buffers.Binary;
using System.Text;

namespace ZeroPg.Fuzz;

/// <summary>
/// Makes a <see cref="FuzzCase"/> from its id: mostly valid message sequences (simple queries, extended-query
/// sequences, COPY FROM STDIN with its data, function calls), then mutations of fields, lengths and counts,
/// and sometimes a cut at a random byte.
/// </summary>
public static class CaseGenerator
{
    private static readonly string[] StatementNames = ["", "s1", "s2", "zp_1", "a_rather_long_statement_name_" + new string('n', 40)];
    private static readonly string[] PortalNames = ["", "p1", "c1", "zp_p"];
    private static readonly uint[] TypeOids = [0, 16, 17, 20, 21, 23, 25, 114, 700, 701, 1043, 1082, 1114, 2950, 3802, 4294967295, 999999];

    public static FuzzCase Make(FuzzCaseId id)
    {
        var random = id.NewRandom();
        var messages = new List<byte[]>();
        var notes = new List<string>();
        void Add(byte[] message, string note)
        {
            messages.Add(message);
            notes.Add(note);
        }

        if (id.Client == FuzzCaseId.CopySweep)
        {
            // A clean start, the one COPY-mode shape of this index, then the end marker: nothing else to blame.
            Add(new Wire().CString("user").CString("postgres").CString("database").CString("postgres").Byte(0).Untyped(Wire.ProtocolVersion3), "StartupMessage");
            AddCopyMode(random, Add, SweepShape(id.Index));
            Add(new Wire().CString($"SELECT '{FuzzCase.EndMarker}'").Typed('Q'), "Query end marker");
            return new FuzzCase { Id = id, Messages = messages, Notes = notes, BytesToSend = messages.Sum(m => m.Length), IsCut = false, CopyMode = true };
        }
        AddStartup(random, Add);
        var count = random.Next(1, 16);
        var copyMode = false;
        for (var i = 0; i < count; i++)
            copyMode |= AddSequence(random, Add);

        // Mutations of whole messages, after building, so a lie in a length or count reaches the wire as it is.
        var mutations = random.Next(4) == 0 ? random.Next(1, 4) : 0;
        for (var m = 0; m < mutations && messages.Count > 1; m++)
        {
            var at = random.Next(1, messages.Count); // the startup packet has its own broken variants
            var (mutated, what) = Mutate(random, messages[at]);
            messages[at] = mutated;
            notes[at] += " MUTATED " + what;
        }

        var isCut = random.Next(7) == 0;
        if (!isCut)
        {
            if (random.Next(3) == 0)
                Add(new Wire().Typed('S'), "Sync");
            Add(new Wire().CString($"SELECT '{FuzzCase.EndMarker}'").Typed('Q'), "Query end marker");
        }
        var total = messages.Sum(m => m.Length);
        var bytesToSend = isCut ? random.Next(1, total) : total;
        var act = random.Next(10) switch
        {
            0 or 1 => HostileAct.CancelWhileRunning,
            2 => HostileAct.DropMidBatch,
            3 => HostileAct.ReadNothingThenCancel,
            _ => HostileAct.None,
        };
        return new FuzzCase
        {
            Id = id, Messages = messages, Notes = notes, BytesToSend = bytesToSend, IsCut = isCut, CopyMode = copyMode,
            Act = act, ActAfterMs = act == HostileAct.DropMidBatch ? random.Next(500, 1500) : random.Next(0, 1200),
        };
    }

    private static void AddStartup(Random random, Action<byte[], string> add)
    {
        var roll = random.Next(100);
        if (roll < 4)
            add(new Wire().Untyped(Wire.SslRequestCode), "SSLRequest");
        else if (roll < 6)
            add(new Wire().Untyped(Wire.GssEncRequestCode), "GSSENCRequest");
        else if (roll < 8)
        {
            add(new Wire().Int32(random.Next()).Int32(random.Next()).Untyped(Wire.CancelRequestCode), "CancelRequest (random key)");
            return;
        }

        var parameters = new List<(string, string)> { ("user", "postgres"), ("database", "postgres") };
        if (random.Next(5) == 0)
            parameters.Add(("application_name", "fz" + random.Next(100)));
        if (random.Next(6) == 0)
            parameters.Add(HostileOptions(random));
        if (random.Next(12) == 0)
            parameters.Add(random.Next(8) switch
            {
                0 => ("statement_timeout", "abc"),
                1 => ("client_encoding", random.Next(2) == 0 ? "BIG5" : "LATIN1"),
                2 => ("options", "-c search_path=nowhere -c work_mem=64kB"),
                3 => ("replication", "database"),
                4 => ("DateStyle", "ISO, DMY"),
                5 => ("nonexistent_setting", "1"),
                6 => ("user", "nobody"),
                _ => ("database", "fz_nodb"),
            });
        var wire = new Wire();
        foreach (var (name, value) in parameters)
            wire.CString(name).CString(value);
        wire.Byte(0);
        var protocol = random.Next(30) == 0 ? random.Next(6) switch
        {
            0 => 0x0002_0000,
            1 => 0x0003_0002,
            2 => 0x0004_0000,
            3 => 1234,
            _ => Wire.ProtocolVersion3 + 1,
        } : Wire.ProtocolVersion3;
        var packet = wire.Untyped(protocol);
        var note = $"StartupMessage {protocol:x} {string.Join(" ", parameters.Select(p => p.Item1 + "=" + p.Item2))}";
        if (random.Next(30) == 0)
        {
            (packet, var what) = Mutate(random, packet, lengthAt: 0);
            note += " MUTATED " + what;
        }
        add(packet, note);
    }

    /// <summary>Startup options an outside fuzzer sent (issue 59): noisy or tiny settings, huge option lists, bad UTF-8.</summary>
    private static (string, string) HostileOptions(Random random) => random.Next(7) switch
    {
        0 => ("options", "-c client_min_messages=debug5"),
        1 => ("options", "-c statement_timeout=1"),
        2 => ("options", "-c work_mem=" + (random.Next(2) == 0 ? "1" : "64")),
        3 => ("options", string.Join(' ', Enumerable.Range(0, random.Next(50, 800)).Select(i => $"-c application_name=a{i}"))),
        4 => ("options", "-c lock_timeout=1 -c idle_in_transaction_session_timeout=1 -c log_min_messages=debug5"),
        5 => ("application_name", "bad\u00ff" + Encoding.Latin1.GetString([0xC3, 0x28, 0xFF, 0xFE])),
        _ => ("options", "-c statement_timeout=" + random.Next(1, 50) + " -c client_min_messages=debug" + random.Next(1, 6)),
    };

    /// <summary>A flood of one message kind, as one write (issue 59): hundreds to thousands of copies.</summary>
    private static void AddFlood(Random random, Action<byte[], string> add)
    {
        var copies = random.Next(100, 3000);
        var sql = random.Next(3) == 0 ? "SELECT count(*) FROM generate_series(1, 20000)" : SqlCorpus.Statement(random);
        var (message, what) = random.Next(7) switch
        {
            0 or 1 => (new Wire().CString(sql).Typed('Q'), $"Query {Quote(sql)}"),
            2 => (new Wire().CString("").CString(sql).Int16(0).Typed('P'), $"Parse {Quote(sql)}"),
            3 => (new Wire().CString("").CString("").Int16(0).Int16(0).Int16(0).Typed('B'), "Bind"),
            4 => (new Wire().CString("").Int32(0).Typed('E'), "Execute"),
            5 => (new Wire().Typed(random.Next(2) == 0 ? 'S' : 'H'), "Sync or Flush"),
            _ => (FunctionCallOf(random), "FunctionCall"),
        };
        for (var i = 0; i < copies; i++)
            add(message, i == 0 ? $"flood of {copies}: {what}" : "(flood)");
    }

    private static byte[] FunctionCallOf(Random random)
    {
        // pg_sleep(float8) as text, int4pl, now(), random OIDs.
        var (oid, args) = random.Next(4) switch
        {
            0 => (2626, new[] { "0.01" }),
            1 => (177, new[] { "1", "2" }),
            2 => (1299, Array.Empty<string>()),
            _ => (random.Next(1, 20000), new[] { "x" }),
        };
        var wire = new Wire().Int32(oid).Int16(0).Int16((short)args.Length);
        foreach (var arg in args)
            wire.Int32(Encoding.UTF8.GetByteCount(arg)).Raw(Encoding.UTF8.GetBytes(arg));
        return wire.Int16(0).Typed('F');
    }

    /// <returns>Whether it was a COPY-mode sequence.</returns>
    private static bool AddSequence(Random random, Action<byte[], string> add)
    {
        if (random.Next(25) == 0)
        {
            AddFlood(random, add);
            return false;
        }
        if (random.Next(8) == 0)
        {
            AddCopyMode(random, add, RandomShape(random));
            return true;
        }
        switch (random.Next(20))
        {
            case < 7:
            {
                var sql = SqlCorpus.Statement(random);
                add(new Wire().CString(sql).Typed('Q'), $"Query {Quote(sql)}");
                if (sql.Contains("FROM STDIN", StringComparison.OrdinalIgnoreCase) && random.Next(4) != 0)
                    AddCopyData(random, add);
                break;
            }
            case < 15:
                AddExtended(random, add);
                break;
            case < 17:
                AddCopyData(random, add);
                break;
            case 17:
                AddFunctionCall(random, add);
                break;
            case 18:
                add(random.Next(3) switch
                {
                    0 => new Wire().Typed('S'),
                    1 => new Wire().Typed('H'),
                    _ => new Wire().CString("secret").Typed('p'),
                }, "Sync, Flush or PasswordMessage");
                break;
            default:
            {
                var body = new byte[random.Next(0, 64)];
                random.NextBytes(body);
                var type = random.Next(3) == 0 ? (byte)random.Next(256) : (byte)"BCdcfDEHFPpQSX"[random.Next(14)];
                add(Wire.Typed(type, body), $"random message type 0x{type:x2}, {body.Length} random bytes");
                break;
            }
        }
        return false;
    }

    private static void AddExtended(Random random, Action<byte[], string> add)
    {
        var statement = StatementNames[random.Next(StatementNames.Length)];
        var portal = PortalNames[random.Next(PortalNames.Length)];
        var sql = SqlCorpus.Statement(random);
        var parameterCount = sql.Contains("$2", StringComparison.Ordinal) ? 2 : sql.Contains("$1", StringComparison.Ordinal) ? 1 : 0;
        if (random.Next(6) != 0)
        {
            var types = Enumerable.Range(0, random.Next(5) == 0 ? random.Next(4) : parameterCount).Select(_ => TypeOids[random.Next(TypeOids.Length)]).ToArray();
            var parse = new Wire().CString(statement).CString(sql).Int16(LieAboutCount(random, types.Length));
            foreach (var type in types)
                parse.Int32(unchecked((int)type));
            add(parse.Typed('P'), $"Parse {Quote(statement)} {Quote(sql)} types [{string.Join(",", types)}]");
        }
        if (random.Next(6) != 0)
        {
            var values = Enumerable.Range(0, random.Next(5) == 0 ? random.Next(4) : parameterCount).Select(_ => ParameterValue(random)).ToArray();
            var formats = random.Next(4) switch { 0 => [1], 1 => values.Select(_ => (short)random.Next(3)).ToArray(), _ => Array.Empty<short>() };
            var bind = new Wire().CString(portal).CString(statement).Int16(LieAboutCount(random, formats.Length));
            foreach (var format in formats)
                bind.Int16(format);
            bind.Int16(LieAboutCount(random, values.Length));
            foreach (var value in values)
            {
                if (value is null)
                    bind.Int32(-1);
                else
                    bind.Int32(random.Next(30) == 0 ? random.Next(-5, int.MaxValue) : value.Length).Raw(value);
            }
            var resultFormats = random.Next(4) == 0 ? new short[] { (short)random.Next(3) } : [];
            bind.Int16(LieAboutCount(random, resultFormats.Length));
            foreach (var format in resultFormats)
                bind.Int16(format);
            add(bind.Typed('B'), $"Bind {Quote(portal)} {Quote(statement)} {values.Length} values, formats [{string.Join(",", formats)}]");
        }
        if (random.Next(2) == 0)
        {
            var kind = random.Next(3) == 0 ? (byte)'S' : random.Next(10) == 0 ? (byte)random.Next(256) : (byte)'P';
            add(new Wire().Byte(kind).CString(kind == 'S' ? statement : portal).Typed('D'), $"Describe {(char)kind}");
        }
        if (random.Next(5) != 0)
        {
            var maxRows = random.Next(3) == 0 ? random.Next(-2, 5) : 0;
            add(new Wire().CString(portal).Int32(maxRows).Typed('E'), $"Execute {Quote(portal)} max {maxRows}");
        }
        if (random.Next(6) == 0)
        {
            var kind = random.Next(2) == 0 ? 'S' : 'P';
            add(new Wire().Byte((byte)kind).CString(kind == 'S' ? statement : portal).Typed('C'), $"Close {kind}");
        }
        if (random.Next(5) != 0)
            add(random.Next(6) == 0 ? new Wire().Typed('H') : new Wire().Typed('S'), "Sync or Flush");
    }

    private static void AddCopyData(Random random, Action<byte[], string> add)
    {
        var rows = random.Next(0, 6);
        for (var i = 0; i < rows; i++)
        {
            var line = random.Next(5) switch
            {
                0 => $"{random.Next()}\tcopied\n",
                1 => $"{random.Next()},\"csv\"\n",
                2 => "PGCOPY\n\xff\r\n\0",
                3 => "\\.\n",
                _ => new string('z', random.Next(200)) + "\n",
            };
            add(Wire.Typed((byte)'d', Encoding.UTF8.GetBytes(line)), $"CopyData {Quote(line)}");
        }
        add(random.Next(4) == 0 ? new Wire().CString("fz fail").Typed('f') : new Wire().Typed('c'), "CopyDone or CopyFail");
    }

    /// <summary>Every frontend message type sent in COPY IN and COPY OUT mode: whole, oversized (past Postgres's 10,000-byte
    /// small-message limit, which CopyDone and CopyFail are read with) or truncated (length word and body cut), then data or an end.</summary>
    private static readonly string CopyModeTypes = "BCdcfDEHFPpQSX";

    private static readonly string[] CopyStatements =
    [
        "COPY fz_t0 FROM STDIN", "COPY fz_t0 FROM STDIN WITH (FORMAT csv)", "COPY fz_t0 FROM STDIN WITH (FORMAT binary)",
        "COPY fz_t0 TO STDOUT", "COPY (SELECT * FROM generate_series(1, 2000)) TO STDOUT",
    ];

    /// <summary>What a COPY-mode case sends: which COPY (<see cref="CopyStatements"/>), in a block or not, the message sent in
    /// COPY mode (its type, its size class: 0-15 bytes, at the 10,000-byte limit, up to 70,000) and whether it is truncated.</summary>
    private readonly record struct CopyModeShape(int Copy, bool InBlock, byte Type, int SizeClass, bool Truncated)
    {
        public bool CopyIn => Copy < 3;
    }

    /// <summary>
    /// The cases of the COPY-mode sweep (<see cref="FuzzCaseId.CopySweep"/>): every type of <see cref="CopyModeTypes"/> x 3 size classes x whole or truncated
    /// x COPY IN or OUT, once each (the three COPY IN formats, the two COPY OUTs and in a block or not by turns).
    /// </summary>
    public static int CopySweepCases => CopyModeTypes.Length * 3 * 2 * 2;

    private static CopyModeShape SweepShape(long index)
    {
        var type = (byte)CopyModeTypes[(int)(index % CopyModeTypes.Length)];
        var rest = index / CopyModeTypes.Length;
        var sizeClass = (int)(rest % 3);
        var truncated = rest / 3 % 2 == 1;
        var copyIn = rest / 6 % 2 == 0;
        return new CopyModeShape(copyIn ? (int)(index % 3) : 3 + (int)(index % 2), InBlock: index / 5 % 2 == 1, type, sizeClass, truncated);
    }

    private static CopyModeShape RandomShape(Random random)
    {
        var copyIn = random.Next(3) != 0;
        var copy = copyIn ? random.Next(3) : 3 + random.Next(2);
        var inBlock = random.Next(4) == 0;
        var type = random.Next(10) == 0 ? (byte)random.Next(256) : (byte)CopyModeTypes[random.Next(CopyModeTypes.Length)];
        return new CopyModeShape(copy, inBlock, type, random.Next(3), random.Next(3) == 0);
    }

    private static void AddCopyMode(Random random, Action<byte[], string> add, CopyModeShape shape)
    {
        var sql = CopyStatements[shape.Copy];
        if (shape.InBlock)
            add(new Wire().CString("BEGIN").Typed('Q'), "Query \"BEGIN\" (COPY inside a block)");
        add(new Wire().CString(sql).Typed('Q'), $"Query {Quote(sql)} (COPY mode case)");
        if (shape.CopyIn && random.Next(2) == 0)
            add(Wire.Typed((byte)'d', Encoding.UTF8.GetBytes($"{random.Next()}\tbefore\n")), "CopyData row");
        var size = shape.SizeClass switch { 0 => random.Next(0, 16), 1 => random.Next(9_990, 10_020), _ => random.Next(10_000, 70_000) };
        var body = new byte[size];
        random.NextBytes(body);
        if (shape.Type == (byte)'f' && size > 0)
            body[^1] = 0; // a CopyFail's reason is a C string
        var message = Wire.Typed(shape.Type, body);
        var truncated = shape.Truncated && message.Length > 6;
        if (truncated) // the length word promises more than the body holds; what follows reads as its tail
            message = message.AsSpan(0, random.Next(5, message.Length)).ToArray();
        add(message, $"in COPY {(shape.CopyIn ? "IN" : "OUT")}: message 0x{shape.Type:x2} ('{(char)shape.Type}') of {size} body bytes, {(truncated ? "truncated" : "whole")}");
        if (random.Next(2) == 0)
            add(random.Next(3) == 0 ? new Wire().CString("fz fail").Typed('f') : new Wire().Typed('c'), "CopyDone or CopyFail");
        if (random.Next(2) == 0)
            add(new Wire().CString("ROLLBACK").Typed('Q'), "Query \"ROLLBACK\"");
    }

    private static void AddFunctionCall(Random random, Action<byte[], string> add)
    {
        var oid = random.Next(3) == 0 ? random.Next() : random.Next(1, 5000);
        var arguments = random.Next(3);
        var call = new Wire().Int32(oid).Int16(0).Int16(LieAboutCount(random, arguments));
        for (var i = 0; i < arguments; i++)
            call.Int32(4).Int32(random.Next());
        call.Int16(0);
        add(call.Typed('F'), $"FunctionCall oid {oid}, {arguments} arguments");
    }

    private static byte[]? ParameterValue(Random random) => random.Next(8) switch
    {
        0 => null,
        1 => [],
        2 => [0xff, 0xfe, 0x00],
        3 => Encoding.UTF8.GetBytes(random.Next().ToString(System.Globalization.CultureInfo.InvariantCulture)),
        4 => Encoding.UTF8.GetBytes(new string('v', random.Next(2000))),
        5 => BitConverter.GetBytes(random.Next()),
        _ => Encoding.UTF8.GetBytes(random.Next(100).ToString(System.Globalization.CultureInfo.InvariantCulture)),
    };

    /// <summary>Mostly the truth; sometimes a count the body does not have (more, fewer, negative, above 32,767).</summary>
    private static int LieAboutCount(Random random, int truth) => random.Next(25) != 0 ? truth : random.Next(5) switch
    {
        0 => truth + 1,
        1 => Math.Max(0, truth - 1),
        2 => -1,
        3 => 40_000,
        _ => random.Next(65536),
    };

    /// <summary>One change to a message's bytes; <paramref name="lengthAt"/> is where its int32 length word starts.</summary>
    private static (byte[], string) Mutate(Random random, byte[] message, int lengthAt = 1)
    {
        var bytes = (byte[])message.Clone();
        switch (random.Next(7))
        {
            case 0 when bytes.Length > lengthAt + 4:
            {
                var lie = random.Next(6) switch
                {
                    0 => 0,
                    1 => 3,
                    2 => -1,
                    3 => int.MaxValue,
                    4 => 10_001,
                    _ => BinaryPrimitives.ReadInt32BigEndian(bytes.AsSpan(lengthAt)) + random.Next(-3, 4),
                };
                BinaryPrimitives.WriteInt32BigEndian(bytes.AsSpan(lengthAt), lie);
                return (bytes, $"length word {lie}");
            }
            case 1 when bytes.Length > lengthAt + 5:
            {
                var at = random.Next(lengthAt + 4, bytes.Length);
                bytes[at] = (byte)random.Next(256);
                return (bytes, $"byte {at} = 0x{bytes[at]:x2}");
            }
            case 2 when bytes.Length > lengthAt + 5:
            {
                // Body cut short, length word adjusted to match: a message that frames but lacks its fields.
                var keep = random.Next(lengthAt + 4, bytes.Length);
                var cut = bytes.AsSpan(0, keep).ToArray();
                BinaryPrimitives.WriteInt32BigEndian(cut.AsSpan(lengthAt), keep - lengthAt);
                return (cut, $"body cut to {keep - lengthAt - 4} bytes");
            }
            case 3:
            {
                // Trailing bytes inside the message's length.
                var extra = new byte[random.Next(1, 9)];
                random.NextBytes(extra);
                var grown = bytes.Concat(extra).ToArray();
                if (grown.Length > lengthAt + 4)
                    BinaryPrimitives.WriteInt32BigEndian(grown.AsSpan(lengthAt), grown.Length - lengthAt);
                return (grown, $"{extra.Length} trailing bytes");
            }
            case 4:
                return (bytes.Concat(bytes).ToArray(), "sent twice");
            case 5 when lengthAt == 1:
            {
                var type = (byte)"BCdcfDEHFPpQSX"[random.Next(14)];
                bytes[0] = type;
                return (bytes, $"type byte '{(char)type}'");
            }
            default:
            {
                var junk = new byte[random.Next(1, 16)];
                random.NextBytes(junk);
                return (bytes.Concat(junk).ToArray(), $"{junk.Length} junk bytes after");
            }
        }
    }

    private static string Quote(string text) => "\"" + (text.Length > 80 ? text[..80] + "..." : text).Replace("\n", "\\n", StringComparison.Ordinal) + "\"";
}
