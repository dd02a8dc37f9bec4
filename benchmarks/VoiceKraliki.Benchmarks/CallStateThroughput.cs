extern alias apphost;
extern alias callstate;

using System.Diagnostics;
using System.Globalization;
using MassTransit;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Npgsql;
using VoiceKraliki.Contracts;
using VoiceKraliki.ServiceDefaults.Messaging;
using VoiceKraliki.Telephony.Events;
using apphost::VoiceKraliki.AppHost;
using apphost::VoiceKraliki.AppHost.Testing;
using CallStateProgram = callstate::Program;
using MigrationRunner = VoiceKraliki.ServiceDefaults.Data.MigrationRunner;

namespace VoiceKraliki.Benchmarks;

/// <summary>
/// How many provider call events one call-state instance applies per second, sustained, on this machine:
/// <c>dotnet run -c Release --project benchmarks/VoiceKraliki.Benchmarks -- call-state-throughput [--calls N]</c>.
/// </summary>
/// <remarks>
/// Not a BenchmarkDotNet benchmark: the figure is a rate over a long backlog, not the time of one operation.
/// On the real Postgres, Redis and RabbitMQ the AppHost starts (InfrastructureOnly): the real call-state service
/// (its Program, in process, Production) starts once so its queue and bindings exist, and stops; N Twilio calls
/// of four status callbacks each (parsed by the real parser, as webhook-ingress publishes them) are published as
/// <c>CallEventReceived</c>, per call in order, calls interleaved; call-state starts again and drains the backlog
/// through its consumer (inbox, state machine, transition, outbox, Redis fast tier, metrics in one commit each),
/// while its outbox relay publishes every <c>CallStateChanged</c>. The rate comes from the commit times Postgres
/// recorded, from the 5th to the last percentile (start-up excluded). The run then checks every call ended
/// Completed with four applied transitions and nothing ignored, and exits non-zero otherwise.
/// </remarks>
internal static class CallStateThroughput
{
    public const string Command = "call-state-throughput";

    private const string ApiKey = "vk_bench_0123456789abcdef0123456789";

    public static async Task<int> RunAsync(string[] args)
    {
        var calls = 5_000;
        for (var i = 0; i < args.Length; i++)
        {
            if (args[i] == "--calls" && i + 1 < args.Length && int.TryParse(args[i + 1], CultureInfo.InvariantCulture, out var n) && n > 0)
            {
                calls = n;
                i++;
            }
            else
            {
                await Console.Error.WriteLineAsync($"Unknown argument '{args[i]}'. Usage: {Command} [--calls N] (N > 0, default 5000)");
                return 2;
            }
        }

        // WebApplicationFactory finds the service's content root through MvcTestingAppManifest.json, which it
        // reads from the working directory: the build output's, whatever directory `dotnet run` started in.
        Directory.SetCurrentDirectory(AppContext.BaseDirectory);
        await using var infrastructure = await DistributedApplicationTestingBuilder.StartInfrastructureAsync();

        var settings = new Dictionary<string, string?>
        {
            ["ConnectionStrings:postgres-call-state"] = infrastructure.GetConnectionString("postgres-call-state"),
            ["ConnectionStrings:messaging"] = infrastructure.GetConnectionString("messaging"),
            ["ConnectionStrings:redis"] = infrastructure.GetConnectionString("redis"),
            ["Auth:ApiKeys:0:Key"] = ApiKey,
            ["Auth:ApiKeys:0:Roles"] = "admin",
            ["Logging:LogLevel:Default"] = "Warning",
        };

        // Once, so that call-state's queue and its binding to CallEventReceived exist while the backlog is published.
        await using (var first = Start(settings))
        {
            await first.Services.GetRequiredService<MigrationRunner>().Completion.WaitAsync(TimeSpan.FromMinutes(1));
            await WaitForBusAsync(first.Services);
        }

        var run = Convert.ToHexStringLower(Guid.NewGuid().ToByteArray()[..4]);
        var events = Generate(run, calls);
        var publishing = Stopwatch.StartNew();
        await PublishAsync(settings, events);
        Console.WriteLine($"published {events.Count:N0} CallEventReceived ({calls:N0} calls) in {publishing.Elapsed.TotalSeconds:F1} s");

        await using var dataSource = NpgsqlDataSource.Create(settings["ConnectionStrings:postgres-call-state"]!);
        var pattern = $"CA{run}%";
        var draining = Stopwatch.StartNew();
        TimeSpan outboxDrained;
        await using (Start(settings))
        {
            long done = 0;
            var lastReport = TimeSpan.Zero;
            while ((done = await ScalarAsync(dataSource, "SELECT count(*) FROM call_transitions WHERE call_id LIKE $1", pattern)) < events.Count)
            {
                if (draining.Elapsed > TimeSpan.FromMinutes(30))
                {
                    await Console.Error.WriteLineAsync($"FAILED: only {done:N0} of {events.Count:N0} events applied after 30 minutes");
                    return 1;
                }

                if (draining.Elapsed - lastReport > TimeSpan.FromSeconds(10))
                {
                    lastReport = draining.Elapsed;
                    Console.WriteLine($"  {draining.Elapsed.TotalSeconds,5:F0} s: {done:N0} of {events.Count:N0} applied");
                }

                await Task.Delay(200);
            }

            Console.WriteLine($"all {events.Count:N0} events committed {draining.Elapsed.TotalSeconds:F1} s after call-state started");
            while (await ScalarAsync(dataSource, "SELECT count(*) FROM outbox_messages WHERE published_at IS NULL AND payload->>'providerCallId' LIKE $1", pattern) > 0)
            {
                await Task.Delay(100);
            }

            outboxDrained = draining.Elapsed;
        }

        var committed = new List<DateTimeOffset>(events.Count);
        await using (var command = dataSource.CreateCommand("SELECT committed_at FROM call_transitions WHERE call_id LIKE $1 ORDER BY committed_at"))
        {
            command.Parameters.AddWithValue(pattern);
            await using var reader = await command.ExecuteReaderAsync();
            while (await reader.ReadAsync())
            {
                committed.Add(reader.GetFieldValue<DateTimeOffset>(0));
            }
        }

        var from = committed.Count / 20;
        var rate = (committed.Count - 1 - from) / (committed[^1] - committed[from]).TotalSeconds;
        Console.WriteLine($"every CallStateChanged published {outboxDrained.TotalSeconds:F1} s after call-state started");
        Console.WriteLine($"sustained: {rate:F0} events/s applied by one call-state instance " +
                          $"(commits {from + 1:N0}..{committed.Count:N0} over {(committed[^1] - committed[from]).TotalSeconds:F1} s; " +
                          $"{Environment.ProcessorCount} cores, Postgres, Redis and RabbitMQ on the same machine)");

        var applied = await ScalarAsync(dataSource, "SELECT count(*) FROM call_transitions WHERE call_id LIKE $1 AND outcome = 'applied'", pattern);
        var completed = await ScalarAsync(dataSource, "SELECT count(*) FROM calls WHERE provider_call_id LIKE $1 AND status = 'completed' AND applied_transitions = 4", pattern);
        var published = await ScalarAsync(dataSource, "SELECT count(*) FROM outbox_messages WHERE payload->>'providerCallId' LIKE $1", pattern);
        Console.WriteLine($"VERIFY applied {applied:N0} of {events.Count:N0}; calls completed with 4 transitions {completed:N0} of {calls:N0}; CallStateChanged published {published:N0}");
        if (applied != events.Count || completed != calls || published != events.Count)
        {
            await Console.Error.WriteLineAsync("FAILED: the backlog was not applied exactly once");
            return 1;
        }

        return 0;
    }

    private static async Task<long> ScalarAsync(NpgsqlDataSource dataSource, string sql, string pattern)
    {
        await using var command = dataSource.CreateCommand(sql);
        command.Parameters.AddWithValue(pattern);
        return Convert.ToInt64(await command.ExecuteScalarAsync(), CultureInfo.InvariantCulture);
    }

    private static WebApplicationFactory<CallStateProgram> Start(IReadOnlyDictionary<string, string?> settings)
    {
        var factory = new WebApplicationFactory<CallStateProgram>().WithWebHostBuilder(web =>
        {
            web.UseEnvironment("Production");
            foreach (var (key, value) in settings)
            {
                web.UseSetting(key, value);
            }

            web.ConfigureLogging(logging => logging.SetMinimumLevel(LogLevel.Warning));
        });
        _ = factory.Services;
        return factory;
    }

    private static async Task WaitForBusAsync(IServiceProvider services)
    {
        var bus = services.GetRequiredService<IBusControl>();
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(1));
        await bus.WaitForHealthStatus(BusHealthStatus.Healthy, timeout.Token);
    }

    private static List<CallEventReceived> Generate(string run, int calls)
    {
        var random = new Random(20261123);
        var start = DateTimeOffset.FromUnixTimeSeconds(DateTimeOffset.UtcNow.ToUnixTimeSeconds());
        var perCall = new List<List<CallEventReceived>>(calls);
        for (var c = 0; c < calls; c++)
        {
            var sid = $"CA{run}{c:x24}";
            var customer = "+1" + random.Next(201, 990).ToString(CultureInfo.InvariantCulture) + random.Next(2_000_000, 9_999_999).ToString(CultureInfo.InvariantCulture);
            var at = start.AddSeconds(c % 600);
            var events = new List<CallEventReceived>(4);
            string[] statuses = ["initiated", "ringing", "in-progress", "completed"];
            for (var s = 0; s < statuses.Length; s++)
            {
                List<KeyValuePair<string, string>> form =
                [
                    new("AccountSid", "AC0123456789abcdef0123456789abcdef"),
                    new("ApiVersion", "2010-04-01"),
                    new("CallSid", sid),
                    new("From", "+15005550006"),
                    new("To", customer),
                    new("Direction", "outbound-api"),
                    new("CallStatus", statuses[s]),
                    new("SequenceNumber", s.ToString(CultureInfo.InvariantCulture)),
                    new("Timestamp", at.ToString("r", CultureInfo.InvariantCulture)),
                    new("CallbackSource", "call-progress-events"),
                ];
                if (statuses[s] == "completed")
                {
                    form.Add(new("CallDuration", random.Next(5, 600).ToString(CultureInfo.InvariantCulture)));
                }

                var receivedAt = at.AddMilliseconds(random.Next(40, 900));
                if (!TwilioWebhookParser.TryParse(form, "status", receivedAt, out var parsed, out var error))
                {
                    throw new InvalidOperationException($"The generated callback does not parse: {error}");
                }

                events.Add(new CallEventReceived(
                    Guid.NewGuid(), parsed.OccurredAt, parsed.ProviderCallId, parsed.Provider, parsed.ProviderCallId, parsed.SessionId,
                    parsed.EventType, parsed.ProviderStatus, parsed.Status, parsed.EndReason, parsed.From, parsed.To, parsed.Direction,
                    parsed.Sequence, parsed.AnsweredBy, parsed.HangupCause, receivedAt, parsed.RawFields, parsed.LegId,
                    parsed.ProviderEventId, null, parsed.ClientState));
                at = at.AddSeconds(random.Next(1, 9));
            }

            perCall.Add(events);
        }

        // Calls interleaved, each call's events in order: first every call's initiated, then every ringing, ...
        return [.. Enumerable.Range(0, 4).SelectMany(step => perCall.Select(events => events[step]))];
    }

    private static async Task PublishAsync(IReadOnlyDictionary<string, string?> settings, IReadOnlyList<CallEventReceived> events)
    {
        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true });
        builder.Configuration.AddInMemoryCollection(settings);
        builder.AddServiceDefaults();
        builder.AddEventBus();
        using var publisher = builder.Build();
        await publisher.StartAsync();
        try
        {
            await WaitForBusAsync(publisher.Services);
            var bus = publisher.Services.GetRequiredService<IBus>();
            var next = -1;
            // Each publish awaits the broker's confirm; 32 in flight keep the broker busy.
            await Task.WhenAll(Enumerable.Range(0, 32).Select(async _ =>
            {
                int i;
                while ((i = Interlocked.Increment(ref next)) < events.Count)
                {
                    await bus.Publish(events[i]);
                }
            }));
        }
        finally
        {
            await publisher.StopAsync();
        }
    }
}
