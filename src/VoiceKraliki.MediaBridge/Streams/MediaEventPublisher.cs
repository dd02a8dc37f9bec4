using System.Collections.Concurrent;
using System.Threading.Channels;
using MassTransit;
using Microsoft.Extensions.Options;
using VoiceKraliki.Contracts;
using VoiceKraliki.MediaBridge.Quality;

namespace VoiceKraliki.MediaBridge.Streams;

/// <summary>
/// Publishes the media events (<see cref="MediaStreamStarted"/>, <see cref="MediaQualityReported"/>,
/// <see cref="MediaStreamEnded"/>) off the media path: each stream gets an ordered queue with its own publishing task,
/// so its events reach the bus in order, streams never wait for each other, and a stream's socket never waits for the
/// broker. Each publish waits for the broker's confirm up to <c>MediaStreams:PublishTimeout</c>; one that fails is
/// logged and counted, not retried: these events are telemetry, and a late quality report is worth little.
/// On shutdown the queues get a few seconds to drain before the bus stops.
/// </summary>
internal sealed partial class MediaEventPublisher(
    IBus bus,
    IOptions<MediaStreamOptions> options,
    MediaStreamMetrics metrics,
    ILogger<MediaEventPublisher> logger) : IHostedService
{
    private readonly ConcurrentDictionary<StreamEvents, bool> _open = new();

    public StreamEvents Open(string streamId)
    {
        var events = new StreamEvents(this, streamId);
        _open.TryAdd(events, true);
        return events;
    }

    public Task StartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public async Task StopAsync(CancellationToken cancellationToken)
    {
        try
        {
            await Task.WhenAll(_open.Keys.Select(e => e.Completion)).WaitAsync(TimeSpan.FromSeconds(5), cancellationToken);
        }
        catch (Exception ex) when (ex is TimeoutException or OperationCanceledException)
        {
            LogShutdownDropped(logger, _open.Count);
        }
    }

    private async Task PublishAsync(IIntegrationEvent message)
    {
        using var timeout = new CancellationTokenSource(options.Value.PublishTimeout);
        try
        {
            var sent = message switch
            {
                MediaQualityReported report => bus.Publish(report, timeout.Token),
                MediaStreamStarted started => bus.Publish(started, timeout.Token),
                MediaStreamEnded ended => bus.Publish(ended, timeout.Token),
                _ => bus.Publish((object)message, timeout.Token),
            };
            await sent;
        }
        catch (Exception ex)
        {
            var name = message.GetType().Name;
            metrics.PublishFailed(name);
            LogPublishFailed(logger, name, message.CorrelationId, ex.GetType().Name);
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "{Event} of call {CallId} could not be published: {Error}")]
    private static partial void LogPublishFailed(ILogger logger, string @event, string callId, string error);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Media events of {Streams} streams were still unpublished at shutdown")]
    private static partial void LogShutdownDropped(ILogger logger, int streams);

    /// <summary>One stream's events, published in the order they are added.</summary>
    internal sealed class StreamEvents
    {
        private readonly MediaEventPublisher _owner;
        private readonly Channel<IIntegrationEvent> _queue =
            Channel.CreateUnbounded<IIntegrationEvent>(new UnboundedChannelOptions { SingleReader = true });

        public StreamEvents(MediaEventPublisher owner, string streamId)
        {
            _owner = owner;
            StreamId = streamId;
            Completion = Task.Run(PublishAllAsync);
        }

        public string StreamId { get; }

        public Task Completion { get; }

        public void Publish(IIntegrationEvent message) => _queue.Writer.TryWrite(message);

        /// <summary>No more events: the queue drains in the background.</summary>
        public void Complete() => _queue.Writer.TryComplete();

        private async Task PublishAllAsync()
        {
            try
            {
                await foreach (var message in _queue.Reader.ReadAllAsync())
                {
                    await _owner.PublishAsync(message);
                }
            }
            finally
            {
                _owner._open.TryRemove(this, out _);
            }
        }
    }
}
