using Microsoft.Extensions.Configuration;

namespace VoiceKraliki.AppHost.Model;

/// <summary>Declares the application's resources, like Aspire's builder of the same name.</summary>
public interface IDistributedApplicationBuilder
{
    /// <summary>The AppHost's own configuration (appsettings, user secrets, environment, command line).</summary>
    IConfiguration Configuration { get; }

    DistributedApplicationOptions Options { get; }

    /// <summary>The state folder (data, logs, credentials): the configured one or <c>&lt;repository root&gt;/.voicekraliki</c>.</summary>
    string StatePath { get; }

    IReadOnlyList<IResource> Resources { get; }

    IResourceBuilder<T> AddResource<T>(T resource) where T : IResource;

    DistributedApplication Build();
}

public interface IResourceBuilder<out T> where T : IResource
{
    T Resource { get; }

    IDistributedApplicationBuilder ApplicationBuilder { get; }
}

internal sealed class ResourceBuilder<T>(T resource, IDistributedApplicationBuilder applicationBuilder) : IResourceBuilder<T>
    where T : IResource
{
    public T Resource { get; } = resource;

    public IDistributedApplicationBuilder ApplicationBuilder { get; } = applicationBuilder;
}
