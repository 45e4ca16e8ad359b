// A DbContext and the migration `dotnet ef migrations add Accounts` generates for it (written out), for `dotnet ef database update`.
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Design;
using Microsoft.EntityFrameworkCore.Infrastructure;
using Microsoft.EntityFrameworkCore.Migrations;

System.Console.WriteLine("EF Core migrations fixture for ZeroPg; run `dotnet ef database update`.");

public sealed class Account
{
    public int Id { get; set; }
    public string Email { get; set; } = "";
}

public sealed class AccountsContext(DbContextOptions<AccountsContext> options) : DbContext(options)
{
    public DbSet<Account> Accounts => Set<Account>();

    protected override void OnModelCreating(ModelBuilder modelBuilder)
    {
        modelBuilder.HasPostgresExtension("citext");
        modelBuilder.Entity<Account>().Property(a => a.Email).HasColumnType("citext");
    }
}

public sealed class DesignTimeFactory : IDesignTimeDbContextFactory<AccountsContext>
{
    public AccountsContext CreateDbContext(string[] args)
        => new(new DbContextOptionsBuilder<AccountsContext>().UseNpgsql(System.Environment.GetEnvironmentVariable("ZEROPG_CONNECTION_STRING")).Options);
}

[DbContext(typeof(AccountsContext))]
[Migration("20240101000000_Accounts")]
public sealed class AccountsMigration : Migration
{
    protected override void Up(MigrationBuilder migrationBuilder)
    {
        migrationBuilder.AlterDatabase().Annotation("Npgsql:PostgresExtension:citext", ",,");
        migrationBuilder.CreateTable(
            name: "Accounts",
            columns: table => new
            {
                Id = table.Column<int>(type: "integer", nullable: false)
                    .Annotation("Npgsql:ValueGenerationStrategy", Npgsql.EntityFrameworkCore.PostgreSQL.Metadata.NpgsqlValueGenerationStrategy.IdentityByDefaultColumn),
                Email = table.Column<string>(type: "citext", nullable: false),
            },
            constraints: table => table.PrimaryKey("PK_Accounts", x => x.Id));
    }

    protected override void Down(MigrationBuilder migrationBuilder)
    {
        migrationBuilder.DropTable(name: "Accounts");
        migrationBuilder.AlterDatabase().OldAnnotation("Npgsql:PostgresExtension:citext", ",,");
    }
}
