using System.Threading.Channels;
using MassTransit;
using VoiceKraliki.Contracts;

namespace VoiceKraliki.WebhookIngress.Webhooks;

/// <summary>
/// Publishes <see cref="WebhookRejected"/> off the request path: a flood of forged webhooks is answered
/// at once, and its events queue (bounded) towards the bus. When the queue is full, events are dropped
/// and counted, never the webhook answers delayed.
/// </summary>
public sealed partial class RejectionPublisher(IBus bus, WebhookMetrics metrics, ILogger<RejectionPublisher> logger) : BackgroundService
{
    private readonly Channel<WebhookRejected> _queue = Channel.CreateBounded<WebhookRejected>(
        new BoundedChannelOptions(10_000) { FullMode = BoundedChannelFullMode.DropWrite, SingleReader = true });

    public void Enqueue(WebhookRejected rejected)
    {
        if (!_queue.Writer.TryWrite(rejected))
        {
            metrics.RejectionDropped();
        }
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        await foreach (var rejected in _queue.Reader.ReadAllAsync(stoppingToken))
        {
            try
            {
                using var timeout = CancellationTokenSource.CreateLinkedTokenSource(stoppingToken);
                timeout.CancelAfter(TimeSpan.FromSeconds(5));
                await bus.Publish(rejected, timeout.Token);
            }
            catch (Exception ex) when (ex is not OperationCanceledException || !stoppingToken.IsCancellationRequested)
            {
                metrics.RejectionDropped();
                LogPublishFailed(logger, rejected.Reason, ex.GetType().Name);
            }
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "A WebhookRejected event ({Reason}) could not be published: {Error}")]
    private static partial void LogPublishFailed(ILogger logger, string reason, string error);
}
