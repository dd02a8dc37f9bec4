using Microsoft.AspNetCore.Http;
using VoiceKraliki.Simulator.Telnyx;
using VoiceKraliki.Simulator.Twilio;

namespace VoiceKraliki.Simulator.Faults;

/// <summary>Answers a provider API request with the fault in force for it, before auth, as an outage would.</summary>
internal static class FaultMiddleware
{
    public static IApplicationBuilder UseFaults(this IApplicationBuilder app, SimulatorContext sim) =>
        app.Use(async (http, next) =>
        {
            var path = http.Request.Path.Value ?? "/";
            var provider = path.StartsWith("/2010-04-01/", StringComparison.Ordinal) ? "twilio"
                : path.StartsWith("/v2/", StringComparison.Ordinal) ? "telnyx"
                : null;
            if (provider is null || sim.Faults.Take(provider, http.Request.Method, path) is not { } fault)
            {
                await next(http);
                return;
            }

            var twilio = provider == "twilio";
            IResult result;
            switch (fault.Kind)
            {
                case FaultKind.TooManyRequests:
                    http.Response.Headers.RetryAfter = fault.RetryAfterSeconds.ToString(System.Globalization.CultureInfo.InvariantCulture);
                    result = twilio
                        ? TwilioApi.Error(429, 20429, "Too Many Requests")
                        : TelnyxApi.Error(429, "10011", "Too many requests", "You have exceeded the rate limit.");
                    break;
                case FaultKind.Timeout:
                    using (var hang = CancellationTokenSource.CreateLinkedTokenSource(http.RequestAborted, sim.Stopping))
                    {
                        try
                        {
                            await Task.Delay(sim.Options.FaultHangTime, sim.Time, hang.Token);
                        }
                        catch (OperationCanceledException)
                        {
                            return;
                        }
                    }

                    result = twilio
                        ? TwilioApi.Error(504, 20504, "Gateway Timeout")
                        : TelnyxApi.Error(504, "10010", "Gateway timeout", "The request timed out.");
                    break;
                default:
                    result = twilio
                        ? TwilioApi.Error(500, 20500, "Internal Server Error")
                        : TelnyxApi.Error(500, "10007", "Unexpected error", "An unexpected error occurred.");
                    break;
            }

            await result.ExecuteAsync(http);
        });
}
