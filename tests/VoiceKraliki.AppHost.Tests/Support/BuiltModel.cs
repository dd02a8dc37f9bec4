using VoiceKraliki.AppHost.Contract;
using VoiceKraliki.AppHost.Model;
using VoiceKraliki.AppHost.Testing;

namespace VoiceKraliki.AppHost.Tests.Support;

/// <summary>The app model built (ports and credentials chosen, nothing started), to inspect what each service would get.</summary>
internal sealed class BuiltModel : IAsyncDisposable
{
    private readonly IDistributedApplicationBuilder _builder;

    private BuiltModel(IDistributedApplicationBuilder builder, DistributedApplication app)
    {
        _builder = builder;
        App = app;
    }

    public DistributedApplication App { get; }

    public static BuiltModel Create(TestingOptions? options = null)
    {
        var builder = DistributedApplicationTestingBuilder.CreateBuilder(options);
        return new BuiltModel(builder, builder.Build());
    }

    public ProjectResource Project(string name) => _builder.Resources.OfType<ProjectResource>().Single(p => p.Name == name);

    public Dictionary<string, string> Environment(string name, int replica = 0) =>
        ServiceEnvironment.Build(Project(name), replica, _builder.Configuration, "test");

    public ValueTask DisposeAsync() => App.DisposeAsync();
}
