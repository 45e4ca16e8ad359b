using ZeroPg.Sql;

namespace ZeroPg.Sessions;

/// <summary>What one engine call's client messages do to this client's own session state: their SQL's <see cref="SqlEffects"/> together, and what ZeroPg answered itself.</summary>
internal sealed class UnitEffects
{
    public bool SettingsChanged { get; private set; }
    /// <summary>Each settings change was a plain SET or RESET of a named setting (<see cref="SqlEffects.SettingsOnlyByName"/>); false once one was not.</summary>
    public bool SettingsOnlyByName { get; private set; } = true;
    /// <summary>The settings those SETs and RESETs named.</summary>
    public List<string> SetNames { get; } = [];
    public bool TempObjectsChanged { get; private set; }
    public bool UsesAdvisoryLocks { get; private set; }
    /// <summary>A simple Query ran DISCARD ALL / DEALLOCATE ALL in the engine (the extended protocol is tracked at Execute).</summary>
    public bool DeallocatesAll { get; set; }
    /// <summary>DISCARD ALL / TEMP ran in the engine (not answered by ZeroPg): every client's temp objects are gone.</summary>
    public bool DropsAllTemp { get; private set; }
    /// <summary>DISCARD ALL ran in the engine: it also unlistened every channel.</summary>
    public bool UnlistensEngine { get; private set; }
    /// <summary>A Query that was exactly DISCARD ALL / DEALLOCATE ALL, answered by ZeroPg for this client only.</summary>
    public bool DiscardAllAnswered { get; set; }
    public bool DeallocateAllAnswered { get; set; }
    public List<string> Listen { get; } = [];
    public List<string> Unlisten { get; } = [];
    public bool UnlistenAll { get; private set; }
    /// <summary>Custom (dotted) setting names the SQL sets: Postgres does not list them in pg_settings.</summary>
    public List<string> CustomSettings { get; } = [];
    /// <summary>Extensions the SQL creates or updates: their files are loaded into the engine before the unit runs.</summary>
    public List<string> Extensions { get; } = [];

    /// <summary>The messages touch no per-client state at all.</summary>
    public bool IsEmpty => !(SettingsChanged || TempObjectsChanged || UsesAdvisoryLocks || DeallocatesAll || UnlistenAll || DiscardAllAnswered
        || DeallocateAllAnswered || DropsAllTemp || UnlistensEngine) && Listen.Count == 0 && Unlisten.Count == 0 && CustomSettings.Count == 0 && Extensions.Count == 0;

    public void Add(SqlEffects effects)
    {
        if (effects.IsNone)
            return;
        SettingsChanged |= effects.SettingsChanged;
        if (effects.SettingsChanged)
        {
            SettingsOnlyByName &= effects.SettingsOnlyByName;
            SetNames.AddRange(effects.SetNames);
        }
        TempObjectsChanged |= effects.TempObjectsChanged;
        UsesAdvisoryLocks |= effects.UsesAdvisoryLocks;
        DropsAllTemp |= effects.DropsAllTemp;
        UnlistensEngine |= effects.UnlistensEngine;
        UnlistenAll |= effects.UnlistenAll;
        Listen.AddRange(effects.Listen);
        Unlisten.AddRange(effects.Unlisten);
        CustomSettings.AddRange(effects.CustomSettings);
        foreach (var extension in effects.Extensions)
        {
            if (!Extensions.Contains(extension))
                Extensions.Add(extension);
        }
    }

    /// <summary>
    /// The settings part of a statement's effects only: a Bind runs a statement parsed in an earlier unit, whose Parse was
    /// analysed then (its other effects were taken at its Parse; a set_config it runs happens now, at each Execute).
    /// </summary>
    public void AddSettings(SqlEffects effects)
    {
        if (!effects.SettingsChanged)
            return;
        SettingsChanged = true;
        SettingsOnlyByName &= effects.SettingsOnlyByName;
        SetNames.AddRange(effects.SetNames);
        CustomSettings.AddRange(effects.CustomSettings);
    }

    /// <summary>
    /// The messages run code whose settings changes no analysis sees (a FunctionCall names its function by object id: it may
    /// be set_config): the engine session's settings are read back whole after the unit.
    /// </summary>
    public void SettingsMayChange()
    {
        SettingsChanged = true;
        SettingsOnlyByName = false;
    }

    public void Clear()
    {
        SettingsChanged = TempObjectsChanged = UsesAdvisoryLocks = DeallocatesAll = UnlistenAll = DiscardAllAnswered = DeallocateAllAnswered = DropsAllTemp = UnlistensEngine = false;
        SettingsOnlyByName = true;
        SetNames.Clear();
        Listen.Clear();
        Unlisten.Clear();
        CustomSettings.Clear();
        Extensions.Clear();
    }
}
