namespace VoiceKraliki.Contracts.Tests;

public sealed class NameBasedGuidTests
{
    [Fact]
    public void The_id_is_the_version_8_uuid_of_the_names_sha_256_so_ids_already_issued_stay_the_same()
    {
        // Computed independently (Python's hashlib and uuid) for media-bridge's answer to request ...0001.
        var id = NameBasedGuid.Create("media-bridge/data-erasure-completed/00000000-0000-0000-0000-000000000001");

        Assert.Equal(Guid.Parse("e3e9c4d4-37c5-8106-9a92-de0af1b7a2bd"), id);
        Assert.Equal(8, id.Version);
        Assert.Equal(id, NameBasedGuid.Create("media-bridge/data-erasure-completed/00000000-0000-0000-0000-000000000001"));
        Assert.NotEqual(id, NameBasedGuid.Create("media-bridge/data-erasure-completed/00000000-0000-0000-0000-000000000002"));
    }
}
