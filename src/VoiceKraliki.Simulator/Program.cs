using System.Globalization;
using System.Net;
using System.Runtime.InteropServices;

namespace VoiceKraliki.Simulator;

/// <summary>
/// <c>serve [--port N] [--host ADDRESS]</c>: runs the simulator until Ctrl+C. Everything else comes from
/// configuration (appsettings.json, environment <c>Simulator__…</c>), see <see cref="SimulatorOptions"/>.
/// </summary>
public static class Program
{
    public const string Usage = "usage: VoiceKraliki.Simulator serve [--port N] [--host ADDRESS]";

    public static async Task<int> Main(string[] args)
    {
        if (!ServeCommand.TryParse(args, out var command, out var error))
        {
            await Console.Error.WriteLineAsync($"error: {error}\n{Usage}");
            return 2;
        }

        if (command.Help)
        {
            Console.WriteLine(Usage);
            return 0;
        }

        var configuration = new ConfigurationBuilder()
            .AddJsonFile("appsettings.json", optional: true)
            .AddEnvironmentVariables()
            .Build();
        ProviderSimulator simulator;
        try
        {
            var options = configuration.GetSection(SimulatorOptions.SectionName).Get<SimulatorOptions>() ?? new SimulatorOptions();
            simulator = new ProviderSimulator(options);
        }
        catch (Exception ex) when (ex is ArgumentException or InvalidOperationException)
        {
            await Console.Error.WriteLineAsync($"error: {ex.Message}");
            return 2;
        }

        await using (simulator)
        {
            using var stop = new CancellationTokenSource();
            void Stop(PosixSignalContext context)
            {
                context.Cancel = true;
                stop.Cancel();
            }

            using var interrupt = PosixSignalRegistration.Create(PosixSignal.SIGINT, Stop);
            using var terminate = PosixSignalRegistration.Create(PosixSignal.SIGTERM, Stop);

            try
            {
                await simulator.StartAsync(command.Port, command.Host, stop.Token);
            }
            catch (IOException ex)
            {
                await Console.Error.WriteLineAsync($"error: cannot listen on {command.Host}:{command.Port}: {ex.Message}");
                return 1;
            }

            Console.WriteLine($"Provider simulator listening on {simulator.BaseUrl}");
            Console.WriteLine($"  Twilio account {simulator.Options.Twilio.AccountSid}; Telnyx public key {simulator.TelnyxPublicKeyBase64}");
            try
            {
                await Task.Delay(Timeout.Infinite, stop.Token);
            }
            catch (OperationCanceledException)
            {
                // SIGINT (Ctrl+C) or SIGTERM: stop gracefully.
            }
        }

        return 0;
    }
}

/// <summary>The parsed command line.</summary>
public sealed record ServeCommand(int Port, IPAddress Host, bool Help)
{
    public const int DefaultPort = 5099;

    public static bool TryParse(IReadOnlyList<string> args, out ServeCommand command, out string error)
    {
        command = new ServeCommand(DefaultPort, IPAddress.Loopback, false);
        error = string.Empty;
        if (args.Count == 1 && args[0] is "--help" or "-h" or "help")
        {
            command = command with { Help = true };
            return true;
        }

        if (args.Count == 0 || args[0] != "serve")
        {
            error = args.Count == 0 ? "a command is required" : $"unknown command '{args[0]}'";
            return false;
        }

        for (var i = 1; i < args.Count; i++)
        {
            var name = args[i];
            if (name is "--help" or "-h")
            {
                command = command with { Help = true };
                continue;
            }

            if (name is not ("--port" or "--host"))
            {
                error = $"unknown option '{name}'";
                return false;
            }

            if (i + 1 >= args.Count)
            {
                error = $"{name} needs a value";
                return false;
            }

            var value = args[++i];
            if (name == "--port")
            {
                if (!int.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out var port) || port > IPEndPoint.MaxPort)
                {
                    error = $"--port must be a number from 0 to {IPEndPoint.MaxPort}, not '{value}'";
                    return false;
                }

                command = command with { Port = port };
            }
            else if (IPAddress.TryParse(value, out var host))
            {
                command = command with { Host = host };
            }
            else
            {
                error = $"--host must be an IP address, not '{value}'";
                return false;
            }
        }

        return true;
    }
}
