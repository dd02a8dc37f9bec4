using VoiceKraliki.ServiceDefaults.Messaging;

namespace VoiceKraliki.ServiceDefaults.Tests.Messaging;

public class AmqpAddressTests
{
    [Theory]
    [InlineData("amqp://vk:secret@127.0.0.1:5673", "127.0.0.1", 5673, "/", "vk", "secret")]
    [InlineData("amqp://vk:secret@rabbit.internal:5672/voice", "rabbit.internal", 5672, "voice", "vk", "secret")]
    [InlineData("amqp://127.0.0.1", "127.0.0.1", 5672, "/", "guest", "guest")]
    [InlineData("amqp://vk@127.0.0.1:5673", "127.0.0.1", 5673, "/", "vk", "guest")]
    [InlineData("amqp://vk:p%40ss%3Aw%2Frd@127.0.0.1:5673", "127.0.0.1", 5673, "/", "vk", "p@ss:w/rd")]
    [InlineData("amqp://vk:pa:ss@127.0.0.1:5673", "127.0.0.1", 5673, "/", "vk", "pa:ss")]
    [InlineData("amqp://vk:secret@127.0.0.1:5673/%2F", "127.0.0.1", 5673, "/", "vk", "secret")]
    [InlineData("amqp://vk:secret@127.0.0.1:5673/tenant%2Fa", "127.0.0.1", 5673, "tenant/a", "vk", "secret")]
    [InlineData("rabbitmq://vk:secret@127.0.0.1:5674", "127.0.0.1", 5674, "/", "vk", "secret")]
    public void An_amqp_uri_is_split_into_its_parts(string uri, string host, int port, string vhost, string user, string password)
    {
        Assert.True(AmqpAddress.TryParse(uri, out var address));
        Assert.Equal(new AmqpAddress(host, (ushort)port, vhost, user, password), address);
    }

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData("   ")]
    [InlineData("127.0.0.1:5672")]
    [InlineData("http://vk:secret@127.0.0.1:5672")]
    [InlineData("Host=127.0.0.1;Port=5432")]
    [InlineData("amqp:///vhost")]
    [InlineData("/relative/path")]
    public void Anything_but_an_absolute_amqp_uri_with_a_host_is_rejected(string? value)
    {
        Assert.False(AmqpAddress.TryParse(value, out var address));
        Assert.Null(address);
    }
}
