using System.Globalization;
using VoiceKraliki.AppHost.Model;

namespace VoiceKraliki.AppHost.Testing;

/// <summary>
/// The application for tests, in process, like Aspire.Hosting.Testing: the same app model and orchestrator
/// as <c>dotnet run</c>, hermetic configuration, a temporary state folder and free ports.
/// </summary>
public static class DistributedApplicationTestingBuilder
{
    /// <summary>A builder with the VoiceKraliki app model declared; a test may add to it before <c>Build()</c>.</summary>
    public static IDistributedApplicationBuilder CreateBuilder(TestingOptions? options = null)
    {
        var builder = DistributedApplication.CreateBuilder(ToApplicationOptions(options ?? new TestingOptions()));
        AppModel.Configure(builder);
        return builder;
    }

    /// <summary>Builds the application (nothing runs yet: call <c>StartAsync</c>); dispose it to stop everything.</summary>
    public static Task<DistributedApplication> CreateAsync(TestingOptions? options = null, CancellationToken cancellationToken = default)
    {
        var builder = (DistributedApplicationBuilder)CreateBuilder(options);
        return builder.BuildAsync(cancellationToken);
    }

    /// <summary>
    /// Postgres, Redis and RabbitMQ alone (no services), started and healthy within two minutes; on failure
    /// everything is stopped and the exception names each server's state.
    /// </summary>
    public static async Task<DistributedApplication> StartInfrastructureAsync(CancellationToken cancellationToken = default)
    {
        var app = await CreateAsync(new TestingOptions { InfrastructureOnly = true }, cancellationToken);
        try
        {
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            timeout.CancelAfter(TimeSpan.FromMinutes(2));
            await app.StartAsync(timeout.Token);
            return app;
        }
        catch (Exception e)
        {
            var states = string.Join("; ", app.GetResources().Select(r => $"{r.Name}: {r.State} {r.Message}"));
            await app.DisposeAsync();
            throw new InvalidOperationException($"The infrastructure did not start ({states}).", e);
        }
    }

    private static DistributedApplicationOptions ToApplicationOptions(TestingOptions options)
    {
        var configuration = new Dictionary<string, string?>(options.Configuration);
        foreach (var (name, replicas) in options.Replicas)
        {
            configuration[$"Replicas:{name}"] = replicas.ToString(CultureInfo.InvariantCulture);
        }

        var temporary = options.StateDirectory is null;
        return new DistributedApplicationOptions
        {
            StateDirectory = options.StateDirectory ?? Directory.CreateTempSubdirectory("voicekraliki-test-").FullName,
            DeleteStateDirectoryOnDispose = temporary,
            Fresh = options.Fresh,
            GatewayPort = options.GatewayPort,
            InfrastructureOnly = options.InfrastructureOnly,
            UseHostConfiguration = false,
            Configuration = configuration,
            RepositoryRoot = options.RepositoryRoot,
            ErrorLineSink = options.ErrorLineSink,
            TimeProvider = options.TimeProvider,
        };
    }
}
