using System.Reflection;
using Xunit.Abstractions;
using Xunit.Sdk;

[assembly: TestCollectionOrderer("ZeroPg.Tests.Infrastructure.LongestFirstOrderer", "ZeroPg.Tests")]

namespace ZeroPg.Tests.Infrastructure;

/// <summary>
/// Roughly how many seconds a collection (on its definition class) or a class in a collection of its own runs on the 2-core
/// CI machine under the suite's load, fixtures included. It only orders the start: see <see cref="LongestFirstOrderer"/>.
/// </summary>
[AttributeUsage(AttributeTargets.Class)]
public sealed class TakesAboutAttribute(int seconds) : Attribute
{
    public int Seconds => seconds;
}

/// <summary>
/// Starts the longest collections first. A collection's tests run one after another, and xunit starts collections in this
/// order as slots free up; left to its random order, a run once started the engine host's module tests (~400 s in one
/// collection) 11 minutes in, and its last 2.5 minutes ran at ~60 % CPU with little else left to run beside them.
/// Unmarked collections keep xunit's order, after the marked ones.
/// </summary>
public sealed class LongestFirstOrderer : ITestCollectionOrderer
{
    private const string PerClassPrefix = "Test collection for ";

    public IEnumerable<ITestCollection> OrderTestCollections(IEnumerable<ITestCollection> testCollections) =>
        new DefaultTestCollectionOrderer().OrderTestCollections(testCollections)
            .OrderByDescending(Seconds); // a stable sort: ties keep xunit's order

    private static int Seconds(ITestCollection collection) =>
        DefiningType(collection)?.GetCustomAttribute<TakesAboutAttribute>()?.Seconds ?? 0;

    private static Type? DefiningType(ITestCollection collection) =>
        collection.CollectionDefinition is IReflectionTypeInfo definition ? definition.Type
        : collection.DisplayName.StartsWith(PerClassPrefix, StringComparison.Ordinal)
            ? typeof(LongestFirstOrderer).Assembly.GetType(collection.DisplayName[PerClassPrefix.Length..])
            : null;
}
