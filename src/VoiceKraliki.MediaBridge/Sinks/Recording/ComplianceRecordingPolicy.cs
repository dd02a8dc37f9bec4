using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.Extensions.Options;
using VoiceKraliki.ServiceDefaults.Auth;

namespace VoiceKraliki.MediaBridge.Sinks.Recording;

/// <summary>
/// <c>Recording:Policy = Compliance</c>: asks the compliance service
/// (<c>GET /api/compliance/decisions/recording?from=&amp;to=</c>) whether the stream's two parties may be recorded, and
/// records only on its yes. It fails closed: a stream that does not name both parties as E.164 numbers is not recorded
/// (<c>no-parties</c>), and neither is one compliance does not answer in time, answers with an error, or answers with
/// something unreadable (<c>compliance-unavailable</c>, logged as a warning with the numbers masked).
/// </summary>
public sealed partial class ComplianceRecordingPolicy(
    IHttpClientFactory clients,
    IOptionsMonitor<RecordingOptions> options,
    ILogger<ComplianceRecordingPolicy> logger) : IRecordingPolicy
{
    /// <summary>The named <see cref="HttpClient"/>; its base address is the service name, resolved by service discovery.</summary>
    public const string HttpClientName = "compliance";

    public static readonly Uri BaseAddress = new("http://compliance");

    public const string DecisionPath = "/api/compliance/decisions/recording";

    public const string AllowedBasis = "compliance";
    public const string DeniedBasis = "compliance-denied";
    public const string NoPartiesBasis = "no-parties";
    public const string UnavailableBasis = "compliance-unavailable";

    private static readonly JsonSerializerOptions JsonOptions = new(JsonSerializerDefaults.Web);

    public async ValueTask<RecordingDecision> DecideAsync(MediaStreamInfo stream, CancellationToken cancellationToken)
    {
        var from = Party(stream, RecorderSinkFactory.FromParameter);
        var to = Party(stream, RecorderSinkFactory.ToParameter);
        if (from is null || to is null)
        {
            var missing = from is null && to is null ? "from and to" : from is null ? "from" : "to";
            LogNoParties(logger, stream.Provider, stream.CallId, stream.StreamId, missing);
            return RecordingDecision.Deny(NoPartiesBasis, $"the stream's {missing} parameter is missing or not an E.164 number");
        }

        var current = options.CurrentValue;
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(current.ComplianceTimeout);
        string problem;
        try
        {
            using var request = new HttpRequestMessage(
                HttpMethod.Get, $"{DecisionPath}?from={Uri.EscapeDataString(from)}&to={Uri.EscapeDataString(to)}");
            request.Headers.Add(ApiKeyAuthenticationHandler.HeaderName, current.ComplianceApiKey);
            using var response = await clients.CreateClient(HttpClientName)
                .SendAsync(request, HttpCompletionOption.ResponseHeadersRead, timeout.Token);
            if (response.StatusCode == HttpStatusCode.BadRequest)
            {
                // Compliance is the judge of a number (assigned country codes and all); what it refuses names nobody.
                LogNoParties(logger, stream.Provider, stream.CallId, stream.StreamId, "from or to (refused by compliance)");
                return RecordingDecision.Deny(NoPartiesBasis, "compliance refused the stream's numbers as not E.164");
            }

            if (!response.IsSuccessStatusCode)
            {
                problem = $"compliance answered {(int)response.StatusCode}";
            }
            else
            {
                var answer = await response.Content.ReadFromJsonAsync<DecisionAnswer>(JsonOptions, timeout.Token);
                if (answer?.Allowed is { } allowed)
                {
                    var basis = string.IsNullOrWhiteSpace(answer.Basis) ? "compliance gave no basis" : answer.Basis;
                    return allowed ? RecordingDecision.Allow(AllowedBasis, basis) : RecordingDecision.Deny(DeniedBasis, basis);
                }

                problem = "compliance's answer has no allowed field";
            }
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            problem = $"compliance did not answer within {current.ComplianceTimeout.TotalSeconds:0.###} s";
        }
        catch (JsonException)
        {
            problem = "compliance's answer is not readable JSON";
        }
        catch (Exception ex) when (!cancellationToken.IsCancellationRequested)
        {
            // Unreachable, refused, circuit open: whatever it is, no answer is no consent.
            problem = ex is HttpRequestException http
                ? $"compliance could not be reached ({http.HttpRequestError}: {http.Message})"
                : $"compliance could not be asked ({ex.GetType().Name})";
        }

        LogUnavailable(logger, stream.Provider, stream.CallId, stream.StreamId, Mask(from), Mask(to), problem);
        return RecordingDecision.Deny(UnavailableBasis, problem + "; not recorded without a decision");
    }

    /// <summary>The number with every digit but the last four hidden: <c>+*******0123</c>, as compliance shows it.</summary>
    internal static string Mask(string number) => VoiceKraliki.Telephony.Numbers.PhoneMask.Mask(number);

    /// <summary>An E.164 number (<c>+</c>, 8 to 15 digits, the first not 0), or null; compliance checks the rest.</summary>
    private static string? Party(MediaStreamInfo stream, string name)
    {
        if (!stream.Parameters.TryGetValue(name, out var value))
        {
            return null;
        }

        var number = value.Trim();
        return number.Length is >= 9 and <= 16 && number[0] == '+' && number[1] != '0' && number.AsSpan(1).IndexOfAnyExceptInRange('0', '9') < 0
            ? number
            : null;
    }

    private sealed record DecisionAnswer(bool? Allowed, string? Basis);

    [LoggerMessage(Level = LogLevel.Warning, Message = "{Provider} call {CallId} stream {StreamId} cannot be put to compliance: its {Missing} parameter is missing or not an E.164 number; it is not recorded")]
    private static partial void LogNoParties(ILogger logger, Contracts.TelephonyProvider provider, string callId, string streamId, string missing);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Compliance did not decide whether {Provider} call {CallId} stream {StreamId} ({From} to {To}) may be recorded: {Problem}; it is not recorded")]
    private static partial void LogUnavailable(ILogger logger, Contracts.TelephonyProvider provider, string callId, string streamId, string from, string to, string problem);
}
