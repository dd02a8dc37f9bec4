using System.Security.Cryptography;
using VoiceKraliki.AppHost.Contract;
using VoiceKraliki.AppHost.Infrastructure;
using VoiceKraliki.AppHost.Model;

namespace VoiceKraliki.AppHost.Orchestration;

/// <summary>A service started from its build output (<c>dotnet exec</c>), one process per replica, ready when <c>GET /health</c> says 200.</summary>
internal sealed class ProjectDriver(ProjectResource project, OrchestrationContext context) : ResourceDriver(project, context)
{
    /// <summary>AppHost configuration key that overrides the readiness path (e.g. while a service has no /health yet).</summary>
    public const string HealthPathKey = "Orchestration:HealthPath";

    public override string Kind => "project";

    public override int ReplicaCount => project.Replicas;

    public string AssemblyPath =>
        Path.Combine(Context.RepositoryRoot, "src", project.ProjectName, "bin", Context.BuildConfiguration, "net10.0", project.ProjectName + ".dll");

    private string HealthPath => Context.Configuration[HealthPathKey] is { Length: > 0 } path ? path : "/health";

    public override string? GetUrl(int replica) => ServiceEnvironment.BaseUrl(project, replica);

    public override ProcessSpec CreateProcessSpec(int replica)
    {
        var assembly = AssemblyPath;
        if (!File.Exists(assembly))
        {
            throw new DistributedApplicationException(
                $"{assembly} does not exist. Build first: dotnet build VoiceKraliki.AppHost -c {Context.BuildConfiguration}.");
        }

        var instance = Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(4));
        return new ProcessSpec
        {
            FileName = DotnetHost(),
            Arguments = ["exec", assembly],
            WorkingDirectory = Path.GetDirectoryName(assembly)!,
            Environment = ServiceEnvironment.Build(project, replica, Context.Configuration, instance),
            LogPath = LogPath(replica),
            Label = Label(replica),
            Marker = assembly,
        };
    }

    public override async Task<bool> ProbeAsync(int replica, bool wasReady, CancellationToken cancellationToken)
    {
        try
        {
            var uri = new Uri(project.GetEndpoint(replica), HealthPath);
            using var response = await Context.HealthClient.GetAsync(uri, HttpCompletionOption.ResponseHeadersRead, cancellationToken);
            return response.StatusCode == System.Net.HttpStatusCode.OK;
        }
        catch (Exception e) when (e is HttpRequestException or TaskCanceledException && !cancellationToken.IsCancellationRequested)
        {
            return false;
        }
    }

    /// <summary>The dotnet host that runs us (dotnet run and dotnet test say where), else the one on PATH.</summary>
    private static string DotnetHost()
    {
        if (Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { Length: > 0 } hostPath && File.Exists(hostPath))
        {
            return hostPath;
        }

        var processPath = Environment.ProcessPath;
        return processPath is not null && Path.GetFileNameWithoutExtension(processPath) == "dotnet" ? processPath : "dotnet";
    }
}
