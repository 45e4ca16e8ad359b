namespace ZeroPg.Tests.Infrastructure;

/// <summary>
/// Tests that pack or publish the repository's own projects (Release builds into the same obj folders, npm ci into
/// engine-host): one at a time, or two builds of one project would write the same files.
/// </summary>
[CollectionDefinition(Name)]
[TakesAbout(500)]
public sealed class PublishingCollection
{
    public const string Name = "Publishing the repository's projects";
}
