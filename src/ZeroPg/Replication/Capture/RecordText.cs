using System.Text;

namespace ZeroPg.Replication.Capture;

/// <summary>Splits record_out text — <c>(1,"a b",,"x""y")</c> — into its columns' output-function texts.
/// An empty unquoted field is NULL; a quoted empty string is ''; backslash and doubled quotes escape.</summary>
internal static class RecordText
{
    public static List<string?> Split(string record)
    {
        if (record.Length < 2 || record[0] != '(' || record[^1] != ')')
            throw new FormatException($"not a record literal: {record}");
        var columns = new List<string?>();
        var i = 1;
        var end = record.Length - 1;
        while (true)
        {
            var sb = new StringBuilder();
            var quoted = false;
            while (i < end && record[i] != ',')
            {
                var c = record[i];
                if (c == '"')
                {
                    quoted = true;
                    i++;
                    while (i < end)
                    {
                        if (record[i] == '\\' && i + 1 < end) { sb.Append(record[i + 1]); i += 2; }
                        else if (record[i] == '"')
                        {
                            if (i + 1 < end && record[i + 1] == '"') { sb.Append('"'); i += 2; }
                            else { i++; break; }
                        }
                        else sb.Append(record[i++]);
                    }
                }
                else if (c == '\\' && i + 1 < end) { sb.Append(record[i + 1]); i += 2; }
                else sb.Append(record[i++]);
            }
            columns.Add(sb.Length == 0 && !quoted ? null : sb.ToString());
            if (i >= end) return columns;
            i++; // the comma
        }
    }
}
