using System.Collections.Concurrent;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using VoiceKraliki.Alerting.Model;
using VoiceKraliki.Alerting.Notifications;
using VoiceKraliki.Alerting.Notifications.Channels;
using VoiceKraliki.ServiceDefaults.Http;

namespace VoiceKraliki.Alerting.Tests.Channels;

/// <summary>
/// The channels as the service composes them: ServiceDefaults' resilient HttpClients, <c>AddNotificationChannels</c>,
/// a clock of the test's choosing and every log line (Trace and up) captured.
/// </summary>
public sealed class ChannelHarness : IAsyncDisposable
{
    private readonly ServiceProvider _services;

    private ChannelHarness(ServiceProvider services, CapturedLogs logs)
    {
        _services = services;
        Logs = logs;
    }

    public CapturedLogs Logs { get; }

    public ChannelDelivery Delivery => _services.GetRequiredService<ChannelDelivery>();

    public static ChannelHarness Create(
        TimeProvider? time = null,
        IDictionary<string, string?>? settings = null,
        Action<ChannelDeliveryOptions>? configure = null)
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(settings ?? new Dictionary<string, string?>()).Build();
        var logs = new CapturedLogs();
        var services = new ServiceCollection();
        services.AddSingleton<IConfiguration>(configuration);
        services.AddLogging(logging => logging.SetMinimumLevel(LogLevel.Trace).AddProvider(logs));
        if (time is not null)
        {
            services.AddSingleton(time);
        }

        services.AddServiceDiscoveryAndResilience();
        services.AddNotificationChannels(configuration);
        if (configure is not null)
        {
            services.Configure(configure);
        }

        var provider = services.BuildServiceProvider(new ServiceProviderOptions { ValidateOnBuild = true, ValidateScopes = true });
        _ = provider.GetRequiredService<IOptions<ChannelDeliveryOptions>>().Value;
        return new ChannelHarness(provider, logs);
    }

    public T Get<T>() where T : notnull => _services.GetRequiredService<T>();

    public ValueTask DisposeAsync() => _services.DisposeAsync();
}

/// <summary>Every log entry, as text: category, level, the formatted message, each structured value and any exception.</summary>
public sealed class CapturedLogs : ILoggerProvider
{
    private readonly ConcurrentQueue<string> _entries = new();

    public IReadOnlyList<string> Entries => [.. _entries];

    public string All => string.Join("\n", _entries);

    public ILogger CreateLogger(string categoryName) => new Logger(categoryName, this);

    public void Dispose()
    {
    }

    private sealed class Logger(string category, CapturedLogs owner) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            var values = state is IEnumerable<KeyValuePair<string, object?>> pairs ? string.Join(" ", pairs.Select(p => $"{p.Key}={p.Value}")) : "";
            owner._entries.Enqueue($"{category} {logLevel} {formatter(state, exception)} | {values} | {exception}");
        }
    }
}

/// <summary>Alerts, groups and channel configurations the tests share.</summary>
public static class Samples
{
    public static readonly DateTimeOffset Start = new(2026, 3, 1, 11, 52, 30, TimeSpan.Zero);

    public const string GroupKey = "{}:{alertname=\"HighCallDropRate\"}";

    public static NotifiedAlert Alert(
        string provider,
        string status = Notification.Firing,
        string severity = "high",
        double value = 0.12,
        IDictionary<string, string>? annotations = null,
        Acknowledgement? acknowledgement = null,
        string alertName = "HighCallDropRate")
    {
        var labels = LabelSet.Of(("alertname", alertName), ("provider", provider), ("severity", severity));
        return new NotifiedAlert(
            labels.Fingerprint,
            status,
            alertName,
            labels,
            annotations is null
                ? new Dictionary<string, string>
                {
                    ["summary"] = $"Call drop rate on {provider} above 10%",
                    ["runbook_url"] = "https://runbooks.example.test/call-drops",
                }
                : new Dictionary<string, string>(annotations),
            Start,
            status == Notification.Firing ? null : Start.AddMinutes(7),
            value,
            acknowledgement);
    }

    public static Notification Group(params NotifiedAlert[] alerts) => new(
        "ops",
        GroupKey,
        LabelSet.Of(("alertname", "HighCallDropRate")),
        alerts.Any(a => a.Status == Notification.Firing) ? Notification.Firing : Notification.Resolved,
        alerts,
        new Uri("https://alerts.example.test/"));

    public static ChannelConfig Config(string type, IDictionary<string, string>? settings = null, IDictionary<string, string>? secrets = null, int ratePerMinute = 6000, bool sendResolved = true, string name = "ops-channel") =>
        new(Guid.NewGuid(), name, type, new Dictionary<string, string>(settings ?? new Dictionary<string, string>()), new Dictionary<string, string>(secrets ?? new Dictionary<string, string>()), ratePerMinute, sendResolved);

    /// <summary>A Slack-shaped webhook URL on the receiver: the token is in the path, as in Slack's.</summary>
    public static ChannelConfig Slack(HttpReceiver receiver, string token = "xoxSECRETslackTOKEN0001", int ratePerMinute = 6000) =>
        Config(ChannelTypes.Slack, secrets: new Dictionary<string, string> { ["url"] = receiver.Url($"/services/T0001/B0001/{token}").AbsoluteUri }, ratePerMinute: ratePerMinute, name: "ops-slack");

    public static ChannelConfig PagerDuty(HttpReceiver receiver, string routingKey = "R0UT1NGKEYsecret0123456789abcdef", IDictionary<string, string>? settings = null) =>
        Config(
            ChannelTypes.PagerDuty,
            settings: new Dictionary<string, string>(settings ?? new Dictionary<string, string>()) { ["url"] = receiver.Url("/v2/enqueue").AbsoluteUri },
            secrets: new Dictionary<string, string> { ["routing_key"] = routingKey },
            name: "ops-pagerduty");

    public static ChannelConfig Webhook(HttpReceiver receiver, string token = "hookSECRETtoken42", IDictionary<string, string>? settings = null) =>
        Config(ChannelTypes.Webhook, settings, new Dictionary<string, string> { ["url"] = receiver.Url($"/alerts?token={token}").AbsoluteUri }, name: "ops-webhook");
}
