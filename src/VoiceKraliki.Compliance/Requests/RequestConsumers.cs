using System.Text.Json;
using MassTransit;
using VoiceKraliki.Compliance.Consent;
using VoiceKraliki.Compliance.Regions;
using VoiceKraliki.Contracts;

namespace VoiceKraliki.Compliance.Requests;

/// <summary>A service's erasure answer completes its part of the request.</summary>
public sealed class DataErasureCompletedConsumer(RequestStore requests) : IConsumer<DataErasureCompleted>
{
    public Task Consume(ConsumeContext<DataErasureCompleted> context) =>
        requests.CompletePartAsync(context.Message.RequestId, context.Message.Service, context.Message.ItemsErased, null, context.CancellationToken);
}

/// <summary>A service's export answer completes its part of the request; content that is not JSON is kept as a string.</summary>
public sealed class DataExportCompletedConsumer(RequestStore requests) : IConsumer<DataExportCompleted>
{
    public Task Consume(ConsumeContext<DataExportCompleted> context)
    {
        var content = context.Message.ContentJson;
        try
        {
            using var _ = JsonDocument.Parse(content);
        }
        catch (JsonException)
        {
            content = JsonSerializer.Serialize(content);
        }

        return requests.CompletePartAsync(context.Message.RequestId, context.Message.Service, null, content, context.CancellationToken);
    }
}

/// <summary>Compliance's own part of an erasure: the subject's consents withdrawn, then the subject and its events deleted.</summary>
public sealed partial class ComplianceErasureConsumer(ConsentStore consents, TimeProvider time, ILogger<ComplianceErasureConsumer> logger)
    : IConsumer<DataErasureRequested>
{
    public const string ServiceName = "compliance";

    public async Task Consume(ConsumeContext<DataErasureRequested> context)
    {
        var e = context.Message;
        var erased = PhoneNumber.TryParse(e.PhoneNumber, out var number, out _) ? await consents.EraseAsync(number, context.CancellationToken) : 0;
        LogErased(logger, e.RequestId, erased);
        await context.Publish(new DataErasureCompleted(
            AnswerId(e.RequestId, "erasure"), time.GetUtcNow(), e.CorrelationId, e.RequestId, ServiceName, erased, ["consent"]), context.CancellationToken);
    }

    /// <summary>The same answer id for the same request, so a redelivered request produces the same event.</summary>
    internal static Guid AnswerId(Guid requestId, string kind) => NameBasedGuid.Create($"{ServiceName}/{kind}-completed/{requestId:D}");

    [LoggerMessage(Level = LogLevel.Information, Message = "Erasure request {RequestId}: {Erased} consent event(s) deleted")]
    private static partial void LogErased(ILogger logger, Guid requestId, int erased);
}

/// <summary>Compliance's own part of an export: the consent state and every consent event of the number.</summary>
public sealed class ComplianceExportConsumer(ConsentStore consents, TimeProvider time) : IConsumer<DataExportRequested>
{
    public async Task Consume(ConsumeContext<DataExportRequested> context)
    {
        var e = context.Message;
        var state = PhoneNumber.TryParse(e.PhoneNumber, out var number, out _) ? await consents.StateAsync(number, context.CancellationToken) : null;
        var content = JsonSerializer.Serialize(new { service = ComplianceErasureConsumer.ServiceName, phoneNumber = e.PhoneNumber, consents = state }, JsonSerializerOptions.Web);
        await context.Publish(new DataExportCompleted(
            ComplianceErasureConsumer.AnswerId(e.RequestId, "export"), time.GetUtcNow(), e.CorrelationId, e.RequestId,
            ComplianceErasureConsumer.ServiceName, content), context.CancellationToken);
    }
}

/// <summary>Checks open requests against their deadlines and reports those at risk.</summary>
public sealed partial class RequestDeadlineMonitor(
    RequestStore requests,
    Microsoft.Extensions.Options.IOptions<RequestOptions> options,
    VoiceKraliki.ServiceDefaults.Data.MigrationRunner migrations,
    TimeProvider time,
    ILogger<RequestDeadlineMonitor> logger) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        try
        {
            await migrations.Completion.WaitAsync(stoppingToken);
            while (true)
            {
                try
                {
                    await requests.ReportAtRiskAsync(stoppingToken);
                }
                catch (Exception ex) when (ex is not OperationCanceledException)
                {
                    LogCheckFailed(logger, ex.Message);
                }

                await Task.Delay(options.Value.CheckInterval, time, stoppingToken);
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            // Stopping.
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Deadline check of data-subject requests failed ({Error}); retrying")]
    private static partial void LogCheckFailed(ILogger logger, string error);
}
