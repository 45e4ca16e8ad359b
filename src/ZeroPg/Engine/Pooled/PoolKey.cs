namespace ZeroPg.Engine.Pooled;

/// <summary>What a backend is for: a database and the role it runs as. A client takes only backends of its own key.</summary>
internal readonly record struct PoolKey(string Database, string User)
{
    public override string ToString() => $"{User}@{Database}";
}
