using System.Collections.Concurrent;
using System.Diagnostics;
using MassTransit;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using VoiceKraliki.CallState.Tests.Persistence;
using VoiceKraliki.Contracts;
using VoiceKraliki.ServiceDefaults.Messaging;

namespace VoiceKraliki.CallState.Tests.DataSubjects;

/// <summary>
/// A consumer on the real broker, as the compliance service would be: records every answer to a data-subject request
/// and to a retention event.
/// </summary>
internal sealed class DataSubjectListener : IAsyncDisposable
{
    private readonly IHost _host;

    private DataSubjectListener(IHost host) => _host = host;

    public DataSubjectAnswers Answers => _host.Services.GetRequiredService<DataSubjectAnswers>();

    public static async Task<DataSubjectListener> StartAsync(CallStateInfrastructure infrastructure)
    {
        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true, EnvironmentName = Environments.Development });
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["ConnectionStrings:messaging"] = infrastructure.Messaging,
            ["Auth:ApiKeys:0:Key"] = CallStateInfrastructure.TestApiKey,
            ["Auth:ApiKeys:0:Roles"] = "admin",
        });
        builder.Logging.SetMinimumLevel(LogLevel.Warning);
        builder.AddServiceDefaults();
        builder.Services.AddSingleton<DataSubjectAnswers>();
        builder.AddEventBus(bus =>
        {
            bus.AddConsumer<ErasureAnswers>().Endpoint(e => e.Name = "call-state-tests-erasure-completed");
            bus.AddConsumer<ExportAnswers>().Endpoint(e => e.Name = "call-state-tests-export-completed");
            bus.AddConsumer<RetentionAnswers>().Endpoint(e => e.Name = "call-state-tests-retention-enforced");
        });
        var host = builder.Build();
        await host.StartAsync();
        var listener = new DataSubjectListener(host);
        try
        {
            await CallStateInfrastructure.WaitUntilHealthyAsync(host.Services, TimeSpan.FromSeconds(60));
        }
        catch
        {
            await listener.DisposeAsync();
            throw;
        }

        return listener;
    }

    public async ValueTask DisposeAsync()
    {
        await _host.StopAsync();
        _host.Dispose();
    }

    private sealed class ErasureAnswers(DataSubjectAnswers answers) : IConsumer<DataErasureCompleted>
    {
        public Task Consume(ConsumeContext<DataErasureCompleted> context)
        {
            answers.Erasures.Enqueue(context.Message);
            return Task.CompletedTask;
        }
    }

    private sealed class ExportAnswers(DataSubjectAnswers answers) : IConsumer<DataExportCompleted>
    {
        public Task Consume(ConsumeContext<DataExportCompleted> context)
        {
            answers.Exports.Enqueue(context.Message);
            return Task.CompletedTask;
        }
    }

    private sealed class RetentionAnswers(DataSubjectAnswers answers) : IConsumer<RetentionEnforced>
    {
        public Task Consume(ConsumeContext<RetentionEnforced> context)
        {
            answers.Retentions.Enqueue(context.Message);
            return Task.CompletedTask;
        }
    }
}

/// <summary>Every answer the broker delivered (from any run: filter by request or retention event id).</summary>
internal sealed class DataSubjectAnswers
{
    public ConcurrentQueue<DataErasureCompleted> Erasures { get; } = new();

    public ConcurrentQueue<DataExportCompleted> Exports { get; } = new();

    public ConcurrentQueue<RetentionEnforced> Retentions { get; } = new();

    public Task<IReadOnlyList<DataErasureCompleted>> ErasuresAsync(Guid requestId, int count) =>
        WaitAsync(Erasures, m => m.RequestId == requestId, count);

    public Task<IReadOnlyList<DataExportCompleted>> ExportsAsync(Guid requestId, int count) =>
        WaitAsync(Exports, m => m.RequestId == requestId, count);

    public Task<IReadOnlyList<RetentionEnforced>> RetentionsAsync(Guid retentionEventId, int count) =>
        WaitAsync(Retentions, m => m.RetentionEventId == retentionEventId, count);

    /// <summary>The answers to these retention events that arrived so far.</summary>
    public IReadOnlyList<RetentionEnforced> RetentionsTo(params Guid[] retentionEventIds) =>
        [.. Retentions.Where(m => retentionEventIds.Contains(m.RetentionEventId))];

    private static async Task<IReadOnlyList<T>> WaitAsync<T>(ConcurrentQueue<T> queue, Func<T, bool> match, int count)
    {
        var within = TimeSpan.FromSeconds(30);
        var watch = Stopwatch.StartNew();
        while (true)
        {
            var received = queue.Where(match).ToList();
            if (received.Count >= count)
            {
                return received;
            }

            if (watch.Elapsed > within)
            {
                throw new Xunit.Sdk.XunitException($"{received.Count} of {count} {typeof(T).Name} arrived within {within.TotalSeconds} s.");
            }

            await Task.Delay(50);
        }
    }
}
