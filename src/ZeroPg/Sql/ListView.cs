using System.Collections;

namespace ZeroPg.Sql;

/// <summary>
/// A read-only view of a list an analysis owns (its tokens, its statements' ranges). A struct with the list's own indexer and
/// enumerator rather than an <see cref="IReadOnlyList{T}"/>: a statement's tokens are walked several times for every statement
/// a client sends, and an interface call per token and an enumerator allocated per loop showed in the server's profile.
/// </summary>
internal readonly struct ListView<T>(List<T> list) : IReadOnlyList<T>
{
    public int Count => list.Count;

    public T this[int index] => list[index];

    public List<T>.Enumerator GetEnumerator() => list.GetEnumerator();

    IEnumerator<T> IEnumerable<T>.GetEnumerator() => list.GetEnumerator();

    IEnumerator IEnumerable.GetEnumerator() => list.GetEnumerator();
}
