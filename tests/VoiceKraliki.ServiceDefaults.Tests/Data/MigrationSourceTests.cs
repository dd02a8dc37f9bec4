using VoiceKraliki.ServiceDefaults.Data;
using VoiceKraliki.ServiceDefaults.Messaging.Outbox;

namespace VoiceKraliki.ServiceDefaults.Tests.Data;

public sealed class MigrationSourceTests
{
    [Fact]
    public void Migrations_given_in_code_are_applied_in_id_order_with_a_checksum_of_their_sql()
    {
        var source = new MigrationSource(typeof(MigrationSourceTests).Assembly,
            [Migration.Of("0002_b", "SELECT 2;"), OutboxSchema.Migration("0001_outbox")]);

        var migrations = source.Load();

        Assert.Equal(["0001_outbox", "0002_b"], migrations.Select(m => m.Id));
        Assert.Equal(OutboxSchema.Sql, migrations[0].Sql);
        Assert.Matches("^[0-9a-f]{64}$", migrations[0].Checksum);
        Assert.NotEqual(migrations[0].Checksum, migrations[1].Checksum);
    }

    [Fact]
    public void Two_migrations_with_one_id_are_refused()
    {
        var source = new MigrationSource(typeof(MigrationSourceTests).Assembly, [Migration.Of("0001_a", "SELECT 1;"), Migration.Of("0001_a", "SELECT 2;")]);

        Assert.Contains("0001_a", Assert.Throws<InvalidOperationException>(() => source.Load()).Message);
    }
}
