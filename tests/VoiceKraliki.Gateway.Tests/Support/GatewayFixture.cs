namespace VoiceKraliki.Gateway.Tests.Support;

/// <summary>One echo backend and one gateway in front of it, shared by a test class.</summary>
public sealed class GatewayFixture : IAsyncLifetime
{
    public EchoBackend Backend { get; private set; } = null!;

    public GatewayFactory Gateway { get; private set; } = null!;

    public HttpClient Client { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        Backend = await EchoBackend.StartAsync();
        Gateway = new GatewayFactory(Backend.Address);
        Client = Gateway.CreateSocketClient();
    }

    public async Task DisposeAsync()
    {
        Client.Dispose();
        await Gateway.DisposeAsync();
        await Backend.DisposeAsync();
    }
}
