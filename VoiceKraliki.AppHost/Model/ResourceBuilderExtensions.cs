using Microsoft.Extensions.Configuration;
using VoiceKraliki.AppHost.Contract;

namespace VoiceKraliki.AppHost.Model;

/// <summary>The Aspire-style verbs that declare resources and how they relate.</summary>
public static class ResourceBuilderExtensions
{
    public static IResourceBuilder<PostgresServerResource> AddPostgres(this IDistributedApplicationBuilder builder, string name) =>
        builder.AddResource(new PostgresServerResource(name));

    public static IResourceBuilder<PostgresDatabaseResource> AddDatabase(
        this IResourceBuilder<PostgresServerResource> server, string name, string? databaseName = null)
    {
        var database = new PostgresDatabaseResource(name, databaseName ?? name, server.Resource);
        server.Resource.AddDatabase(database);
        return server.ApplicationBuilder.AddResource(database);
    }

    public static IResourceBuilder<RedisResource> AddRedis(this IDistributedApplicationBuilder builder, string name) =>
        builder.AddResource(new RedisResource(name));

    public static IResourceBuilder<RabbitMQServerResource> AddRabbitMQ(this IDistributedApplicationBuilder builder, string name) =>
        builder.AddResource(new RabbitMQServerResource(name));

    /// <param name="projectName">The project folder under <c>src/</c>, which is also its assembly name.</param>
    public static IResourceBuilder<ProjectResource> AddProject(this IDistributedApplicationBuilder builder, string name, string projectName) =>
        builder.AddResource(new ProjectResource(name, projectName));

    /// <summary>Gives <paramref name="builder"/> the connection string or service address of <paramref name="source"/>.</summary>
    public static IResourceBuilder<T> WithReference<T>(this IResourceBuilder<T> builder, IResourceBuilder<IResource> source)
        where T : Resource
    {
        builder.Resource.AddReference(source.Resource);
        return builder;
    }

    /// <summary>Starts <paramref name="builder"/> only once <paramref name="dependency"/> is healthy.</summary>
    public static IResourceBuilder<T> WaitFor<T>(this IResourceBuilder<T> builder, IResourceBuilder<IResource> dependency)
        where T : Resource
    {
        builder.Resource.AddWaitFor(dependency.Resource);
        return builder;
    }

    /// <summary>References and waits for each of <paramref name="sources"/>, the usual pair.</summary>
    public static IResourceBuilder<T> WithReferenceAndWait<T>(this IResourceBuilder<T> builder, params IResourceBuilder<IResource>[] sources)
        where T : Resource
    {
        foreach (var source in sources)
        {
            builder.WithReference(source).WaitFor(source);
        }

        return builder;
    }

    public static IResourceBuilder<ProjectResource> WithReplicas(this IResourceBuilder<ProjectResource> builder, int replicas)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(replicas, 1);
        builder.Resource.Replicas = replicas;
        return builder;
    }

    public static IResourceBuilder<ProjectResource> WithEnvironment(this IResourceBuilder<ProjectResource> builder, string name, string value)
    {
        builder.Resource.AddEnvironment(context => context.Variables[name] = value);
        return builder;
    }

    public static IResourceBuilder<ProjectResource> WithEnvironment(this IResourceBuilder<ProjectResource> builder, Action<EnvironmentContext> callback)
    {
        builder.Resource.AddEnvironment(callback);
        return builder;
    }

    /// <summary>Hands a section of the AppHost's configuration to the service, flattened to <c>Section__Key</c> variables.</summary>
    public static IResourceBuilder<ProjectResource> WithConfigurationSection(this IResourceBuilder<ProjectResource> builder, string sectionName)
    {
        var section = builder.ApplicationBuilder.Configuration.GetSection(sectionName);
        builder.Resource.AddEnvironment(context =>
        {
            foreach (var (key, value) in ConfigurationFlattener.Flatten(section))
            {
                context.Variables[key] = value;
            }
        });
        return builder;
    }

    /// <summary>
    /// Sets <paramref name="variable"/> to <paramref name="folder"/> inside the state folder unless configured: data a
    /// service keeps across restarts of a local run (e.g. recordings), gone with <c>--fresh</c>.
    /// </summary>
    public static IResourceBuilder<ProjectResource> WithStateFolderDefault(
        this IResourceBuilder<ProjectResource> builder, string variable, string folder)
    {
        var path = Path.Combine(builder.ApplicationBuilder.StatePath, folder);
        builder.Resource.AddEnvironment(context => context.Variables.TryAdd(variable, path));
        return builder;
    }

    /// <summary>Sets <c>Telephony__PublicBaseUrl</c> to the gateway's address unless configured.</summary>
    public static IResourceBuilder<ProjectResource> WithPublicBaseUrlDefault(
        this IResourceBuilder<ProjectResource> builder, IResourceBuilder<ProjectResource> gateway)
    {
        builder.Resource.AddEnvironment(context =>
            context.Variables.TryAdd("Telephony__PublicBaseUrl", gateway.Resource.GetEndpoint().ToString().TrimEnd('/')));
        return builder;
    }

    /// <summary>The address ranges a local run adds to every provider's webhook allowlist (the simulator, curl).</summary>
    public static readonly string[] LocalWebhookRanges = ["127.0.0.0/8", "::1/128"];

    /// <summary>
    /// For a local run: the gateway (on loopback) is the trusted proxy whose <c>X-Forwarded-For</c> names
    /// the client, and loopback is added to every provider's non-empty allowlist so that the simulator and
    /// local tools reach webhook-ingress. Deployed configurations keep their own lists.
    /// </summary>
    public static IResourceBuilder<ProjectResource> WithLocalWebhookAccess(this IResourceBuilder<ProjectResource> builder)
    {
        var security = builder.ApplicationBuilder.Configuration.GetSection("WebhookSecurity");
        var configuredProxies = security.GetSection("TrustedProxies").GetChildren().Count();
        var configuredRanges = security.GetSection("Allowlist").GetSection("AdditionalRanges").GetChildren().Count();
        builder.Resource.AddEnvironment(context =>
        {
            context.Variables[$"WebhookSecurity__TrustedProxies__{configuredProxies}"] = "127.0.0.1";
            context.Variables[$"WebhookSecurity__TrustedProxies__{configuredProxies + 1}"] = "::1";
            for (var i = 0; i < LocalWebhookRanges.Length; i++)
            {
                context.Variables[$"WebhookSecurity__Allowlist__AdditionalRanges__{configuredRanges + i}"] = LocalWebhookRanges[i];
            }
        });
        return builder;
    }

    /// <summary>Routes requests matching <paramref name="path"/> (YARP syntax) to <paramref name="target"/>'s replicas.</summary>
    public static IResourceBuilder<ProjectResource> WithProxyRoute(
        this IResourceBuilder<ProjectResource> builder, string routeId, IResourceBuilder<ProjectResource> target, string path)
    {
        builder.Resource.AddRoute(new ProxyRoute(routeId, target.Resource, path));
        return builder;
    }

    /// <summary>Sets a YARP cluster setting, as a configuration path below the cluster (<c>HttpRequest:ActivityTimeout</c>).</summary>
    public static IResourceBuilder<ProjectResource> WithProxyClusterSetting(
        this IResourceBuilder<ProjectResource> builder, IResourceBuilder<ProjectResource> target, string key, string value)
    {
        builder.Resource.AddClusterSetting(new ProxyClusterSetting(target.Resource, key, value));
        return builder;
    }

    /// <summary>A public port for replica 0; 0 means any free port.</summary>
    public static IResourceBuilder<ProjectResource> WithFixedPort(this IResourceBuilder<ProjectResource> builder, int port)
    {
        builder.Resource.FixedPort = port;
        return builder;
    }
}
