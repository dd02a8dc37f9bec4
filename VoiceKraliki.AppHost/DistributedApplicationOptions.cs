using System.Globalization;

namespace VoiceKraliki.AppHost;

/// <summary>How the application is built and run: the AppHost's command line, or a test's choices.</summary>
public sealed class DistributedApplicationOptions
{
    public const int DefaultGatewayPort = 8080;

    /// <summary>Arguments that are not AppHost options; they become command-line configuration (<c>--Replicas:webhook-ingress 3</c>).</summary>
    public IReadOnlyList<string> ConfigurationArgs { get; set; } = [];

    /// <summary>Default: <c>&lt;repository root&gt;/.voicekraliki</c>.</summary>
    public string? StateDirectory { get; set; }

    /// <summary>Wipe the state folder (data, logs, generated credentials) before starting.</summary>
    public bool Fresh { get; set; }

    /// <summary>The gateway's public port; 0 picks a free one.</summary>
    public int GatewayPort { get; set; } = DefaultGatewayPort;

    /// <summary>Start only Postgres, Redis and RabbitMQ.</summary>
    public bool InfrastructureOnly { get; set; }

    /// <summary>Read appsettings.json, user secrets and environment variables (tests leave this off to stay hermetic).</summary>
    public bool UseHostConfiguration { get; set; } = true;

    /// <summary>Configuration with the highest precedence, e.g. from a test.</summary>
    public IDictionary<string, string?> Configuration { get; set; } = new Dictionary<string, string?>();

    /// <summary>Default: the repository this AppHost was built from.</summary>
    public string? RepositoryRoot { get; set; }

    /// <summary>Default: the configuration this AppHost was built with (Debug or Release); the services' build output is looked for there.</summary>
    public string? BuildConfiguration { get; set; }

    public TimeProvider TimeProvider { get; set; } = TimeProvider.System;

    /// <summary>Delete the state folder when the application is disposed (tests' temporary folders).</summary>
    public bool DeleteStateDirectoryOnDispose { get; set; }

    /// <summary>Receives each process's log lines that look like errors, with the process's label.</summary>
    public Action<string, string>? ErrorLineSink { get; set; }

    /// <summary><c>--help</c> was given.</summary>
    public bool ShowHelp { get; set; }

    public const string Usage =
        """
        Usage: dotnet run --project VoiceKraliki.AppHost [-- [run] [options] [--Key value ...]]

        Options:
          --gateway-port N       the gateway's public port (default 8080; 0 = any free port)
          --state-dir DIR        where data, logs and generated credentials live (default <repo>/.voicekraliki)
          --fresh                wipe the state folder first
          --infrastructure-only  start only PostgreSQL, Redis and RabbitMQ
          --Key value            any AppHost configuration, e.g. --Replicas:webhook-ingress 3
        """;

    /// <summary>Parses the AppHost's command line; anything not an AppHost option is left for configuration.</summary>
    public static DistributedApplicationOptions FromArgs(IReadOnlyList<string> args)
    {
        var options = new DistributedApplicationOptions();
        var rest = new List<string>();
        for (var i = 0; i < args.Count; i++)
        {
            var (name, inlineValue) = Split(args[i]);
            string Value() => inlineValue ?? (i + 1 < args.Count
                ? args[++i]
                : throw new DistributedApplicationException($"{name} needs a value.\n\n{Usage}"));

            switch (name)
            {
                case "run" when i == 0:
                    break;
                case "--gateway-port":
                    var port = Value();
                    options.GatewayPort = int.TryParse(port, NumberStyles.None, CultureInfo.InvariantCulture, out var p) && p <= 65535
                        ? p
                        : throw new DistributedApplicationException($"--gateway-port: '{port}' is not a port number (0-65535).");
                    break;
                case "--state-dir":
                    options.StateDirectory = Path.GetFullPath(Value());
                    break;
                case "--fresh":
                    options.Fresh = true;
                    break;
                case "--infrastructure-only":
                    options.InfrastructureOnly = true;
                    break;
                case "--help" or "-h" or "-?":
                    options.ShowHelp = true;
                    break;
                default:
                    rest.Add(args[i]);
                    break;
            }
        }

        options.ConfigurationArgs = rest;
        return options;
    }

    private static (string Name, string? Value) Split(string argument)
    {
        if (!argument.StartsWith("--", StringComparison.Ordinal))
        {
            return (argument, null);
        }

        var equals = argument.IndexOf('=', StringComparison.Ordinal);
        return equals < 0 ? (argument, null) : (argument[..equals], argument[(equals + 1)..]);
    }
}
