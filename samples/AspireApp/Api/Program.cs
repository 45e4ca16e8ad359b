using Npgsql;

var builder = WebApplication.CreateBuilder(args);
builder.AddNpgsqlDataSource("app"); // Aspire.Npgsql, unchanged: ConnectionStrings:app comes from WithReference(app)
var api = builder.Build();

api.MapGet("/", async (NpgsqlDataSource db) =>
{
    await using var command = db.CreateCommand("select current_database() || ' on ' || version()");
    return (string?)await command.ExecuteScalarAsync();
});

api.MapPost("/notes", async (NpgsqlDataSource db, Note note) =>
{
    await using var create = db.CreateCommand("create table if not exists notes (id serial primary key, text text not null)");
    await create.ExecuteNonQueryAsync();
    await using var insert = db.CreateCommand("insert into notes (text) values ($1) returning id");
    insert.Parameters.AddWithValue(note.Text);
    return Results.Created($"/notes/{await insert.ExecuteScalarAsync()}", note);
});

api.MapGet("/notes", async (NpgsqlDataSource db) =>
{
    await using var command = db.CreateCommand("select coalesce(string_agg(text, ',' order by id), '') from notes");
    return (string?)await command.ExecuteScalarAsync();
});

api.Run();

internal sealed record Note(string Text);
