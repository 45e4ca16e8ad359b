using System.Globalization;
using ZeroPg.Protocol;
using ZeroPg.Sql;

namespace ZeroPg.Sessions;

/// <summary>
/// pg_terminate_backend(pid) / pg_cancel_backend(pid) act on the ZeroPg client with that pid: the rewritten call
/// (<see cref="SqlEditKind.SignalOpen"/>) answers true or false in the engine and notifies ZeroPg on
/// <see cref="SqlEdit.SignalChannel"/>; the caller's reply carries the notification, and this acts on it: terminate ends the
/// target's connection with FATAL 57P01, cancel cancels its running query (57014), as a CancelRequest does; a pid that is no
/// client gets Postgres's WARNING. Who may signal whom follows Postgres (<see cref="ClientsView"/>); a refused signal answers
/// false with Postgres's permission error as a WARNING (the call's value is already computed in the engine). Runs on the engine reader thread during the caller's call; what it calls on the target is thread-safe.
/// </summary>
internal sealed class BackendSignals(SessionRegistry registry, Func<int> processId)
{
    /// <summary>Acts on a notification on the signal channel; the WARNING for the caller, when there is one.</summary>
    public PgError? Handle(string payload)
    {
        var parts = payload.Split(' ');
        if (parts.Length != 3 || !int.TryParse(parts[1], CultureInfo.InvariantCulture, out var caller) || caller != processId()
            || !int.TryParse(parts[2], CultureInfo.InvariantCulture, out var target))
            return null; // not this client's call
        var session = registry.Find(target);
        switch (parts[0])
        {
            case "terminate" when session is not null:
                session.RequestTerminate(byItself: target == caller);
                return null;
            case "cancel" when session is not null:
                if (target != caller)
                    session.RequestCancel();
                return null;
            case "denied-terminate" or "denied-cancel":
                var verb = parts[0] == "denied-terminate" ? "terminate" : "cancel";
                return new PgError("WARNING", SqlState.InsufficientPrivilege, $"permission denied to {verb} process",
                    Detail: session is { Identity.IsSuperuser: true }
                        ? $"Only roles with the SUPERUSER attribute may {verb} processes of roles with the SUPERUSER attribute."
                        : $"Only roles with privileges of the role whose process is being {(verb == "terminate" ? "terminated" : "canceled")} or with privileges of the \"pg_signal_backend\" role may {verb} this backend.");
            default:
                return PgError.Warning("01000", $"PID {target} is not a PostgreSQL backend process");
        }
    }
}
