namespace ZeroPg.Sessions;

internal sealed partial class ClientSession
{
    private Task RestoreSettingsAsync() => Task.CompletedTask;
}
