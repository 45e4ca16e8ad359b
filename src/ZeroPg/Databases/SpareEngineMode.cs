namespace ZeroPg.Databases;

/// <summary>When the server keeps a spare engine started ahead for the next CREATE DATABASE (<see cref="DatabaseSpares"/>).</summary>
public enum SpareEngineMode
{
    /// <summary>Once the server has created a database, keep one spare of the kind last asked for (empty, or a copy of the template last used).</summary>
    Auto,

    /// <summary>As <see cref="Auto"/>, and an empty one from the start: even the first CREATE DATABASE is fast.</summary>
    Always,

    /// <summary>Never: each CREATE DATABASE starts its engine then (about one engine start, 1-2 s).</summary>
    Off,
}
