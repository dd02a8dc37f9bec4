using System.ComponentModel.DataAnnotations;
using MassTransit;
using Microsoft.Extensions.Options;
using VoiceKraliki.Contracts;
using ValidationResult = System.ComponentModel.DataAnnotations.ValidationResult;

namespace VoiceKraliki.WebhookIngress.Webhooks;

/// <summary>How this replica reports its webhook traffic to alerting, bound from <c>WebhookTraffic</c>.</summary>
public sealed class WebhookTrafficOptions : IValidatableObject
{
    public const string SectionName = "WebhookTraffic";

    /// <summary>How often a <see cref="WebhookTrafficReported"/> is published per provider (only for intervals with traffic).</summary>
    public TimeSpan Interval { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>Names this replica in the reports; default: host name and process id.</summary>
    public string? Instance { get; set; }

    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
    {
        if (Interval < TimeSpan.FromMilliseconds(100) || Interval > TimeSpan.FromMinutes(1))
        {
            yield return new ValidationResult("WebhookTraffic:Interval must be between 00:00:00.1 and 00:01:00.", [nameof(Interval)]);
        }
    }
}

/// <summary>
/// Counts the webhooks this replica answers (2xx accepted, 4xx rejected, 5xx server errors) with a histogram of their
/// response times, per provider, and publishes them every <see cref="WebhookTrafficOptions.Interval"/> as
/// <see cref="WebhookTrafficReported"/>. The request path only does interlocked increments on preallocated arrays; a
/// report that cannot be published (broker down) is dropped, since it is telemetry, and never delays or fails a webhook.
/// </summary>
public sealed partial class WebhookTrafficReporter : BackgroundService
{
    private const int AcceptedField = 0;
    private const int RejectedField = 1;
    private const int ServerErrorsField = 2;
    private const int FirstBucketField = 3;
    private const int UnknownProviderSlot = 2;
    private const int ClientClosedRequest = 499;

    // Per provider slot (twilio, telnyx, unknown): accepted, rejected, server errors, then the latency buckets.
    private static readonly int FieldsPerSlot = FirstBucketField + WebhookTrafficReported.LatencyBucketCount;
    private static readonly TelephonyProvider?[] SlotProviders = [TelephonyProvider.Twilio, TelephonyProvider.Telnyx, null];
    private static readonly long[] BucketBoundsTicks =
        [.. WebhookTrafficReported.LatencyBucketBoundsMs.Select(ms => (long)(ms * TimeSpan.TicksPerMillisecond))];

    private readonly long[] _counts = new long[SlotProviders.Length * FieldsPerSlot];
    private readonly IPublishEndpoint _publish;
    private readonly TimeProvider _time;
    private readonly WebhookTrafficOptions _options;
    private readonly ILogger<WebhookTrafficReporter> _logger;
    private DateTimeOffset _intervalStart;
    private bool _failing;

    public WebhookTrafficReporter(IBus bus, TimeProvider time, IOptions<WebhookTrafficOptions> options, ILogger<WebhookTrafficReporter> logger)
    {
        _publish = bus;
        _time = time;
        _options = options.Value;
        _logger = logger;
        _intervalStart = time.GetUtcNow();
        Instance = string.IsNullOrWhiteSpace(_options.Instance) ? $"{Environment.MachineName}/{Environment.ProcessId}" : _options.Instance;
    }

    public string Instance { get; }

    /// <summary>
    /// Counts one answered webhook. A request the provider abandoned (499) was not answered and is not counted; a voice
    /// webhook answered 200 with an apology because the bus was down counts as a server error, which is what it is.
    /// </summary>
    public void Record(TelephonyProvider? provider, int statusCode, WebhookOutcomeKind outcome, TimeSpan elapsed)
    {
        if (statusCode == ClientClosedRequest)
        {
            return;
        }

        var field = outcome == WebhookOutcomeKind.BusUnavailable || statusCode is >= 500 and <= 599 ? ServerErrorsField
            : statusCode is >= 200 and <= 299 ? AcceptedField
            : statusCode is >= 400 and <= 499 ? RejectedField
            : -1;
        if (field < 0)
        {
            return;
        }

        var slot = provider switch
        {
            TelephonyProvider.Twilio => 0,
            TelephonyProvider.Telnyx => 1,
            _ => UnknownProviderSlot,
        };
        var offset = slot * FieldsPerSlot;
        Interlocked.Increment(ref _counts[offset + field]);
        Interlocked.Increment(ref _counts[offset + FirstBucketField + BucketOf(elapsed.Ticks)]);
    }

    /// <summary>
    /// Takes the counts since the last call (resetting them) as one report per provider that had traffic. Each counter
    /// is swapped to zero on its own, so a request counted while this runs lands whole in this report or the next, or
    /// (rarely) its status in one and its latency in the other; no count is lost or counted twice.
    /// </summary>
    internal IReadOnlyList<WebhookTrafficReported> Collect(DateTimeOffset now)
    {
        var interval = now - _intervalStart;
        _intervalStart = now;
        List<WebhookTrafficReported>? reports = null;
        for (var slot = 0; slot < SlotProviders.Length; slot++)
        {
            var offset = slot * FieldsPerSlot;
            var fields = new long[FieldsPerSlot];
            var any = false;
            for (var i = 0; i < FieldsPerSlot; i++)
            {
                fields[i] = Interlocked.Exchange(ref _counts[offset + i], 0);
                any |= fields[i] != 0;
            }

            if (!any)
            {
                continue;
            }

            reports ??= [];
            reports.Add(new WebhookTrafficReported(
                Guid.CreateVersion7(now),
                now,
                $"webhook-traffic/{Instance}",
                SlotProviders[slot],
                interval > TimeSpan.Zero ? interval : TimeSpan.Zero,
                fields[AcceptedField],
                fields[RejectedField],
                fields[ServerErrorsField],
                fields[FirstBucketField..],
                Instance));
        }

        return reports ?? (IReadOnlyList<WebhookTrafficReported>)[];
    }

    /// <summary>Publishes what was counted since the last report; an interval without traffic publishes nothing.</summary>
    internal async Task ReportAsync(CancellationToken cancellationToken)
    {
        foreach (var report in Collect(_time.GetUtcNow()))
        {
            try
            {
                using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
                timeout.CancelAfter(PublishTimeout);
                await _publish.Publish(report, timeout.Token);
                if (_failing)
                {
                    _failing = false;
                    LogPublishRecovered(_logger);
                }
            }
            catch (Exception ex) when (ex is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
            {
                // Telemetry: the counts of this interval are lost, the next interval starts afresh. Logged once per outage.
                if (!_failing)
                {
                    _failing = true;
                    LogPublishFailed(_logger, ex.GetType().Name, ex.Message);
                }
            }
        }
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(_options.Interval, _time);
        try
        {
            while (await timer.WaitForNextTickAsync(stoppingToken))
            {
                await ReportAsync(stoppingToken);
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            // Stopping: report the last partial interval, briefly (the bus stops after us).
            using var last = new CancellationTokenSource(TimeSpan.FromSeconds(2));
            try
            {
                await ReportAsync(last.Token);
            }
            catch (OperationCanceledException)
            {
                // The bus did not confirm in time: that interval is lost, as any during an outage.
            }
        }
    }

    private TimeSpan PublishTimeout => _options.Interval < TimeSpan.FromSeconds(5) ? TimeSpan.FromSeconds(5) : _options.Interval;

    private static int BucketOf(long elapsedTicks)
    {
        var bounds = BucketBoundsTicks;
        for (var i = 0; i < bounds.Length; i++)
        {
            if (elapsedTicks <= bounds[i])
            {
                return i;
            }
        }

        return bounds.Length;
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Webhook traffic reports cannot be published ({Error}: {Message}); they are dropped until the bus is back")]
    private static partial void LogPublishFailed(ILogger logger, string error, string message);

    [LoggerMessage(Level = LogLevel.Information, Message = "Webhook traffic reports are published again")]
    private static partial void LogPublishRecovered(ILogger logger);
}
