using System.Net;
using System.Net.Sockets;
using Microsoft.Extensions.DependencyInjection;
using VoiceKraliki.Contracts;
using VoiceKraliki.Telephony.Providers;

namespace VoiceKraliki.Telephony.Tests.Providers;

/// <summary>Builds the adapters the way a service does: <c>AddCallControl()</c> over configured options.</summary>
internal static class CallControlHost
{
    public const string AccountSid = "AC00000000000000000000000000000001";
    public const string AuthToken = "twilio-secret-token";
    public const string ApiKey = "KEY0123_telnyx_secret";
    public const string ConnectionId = "1494404757140276705";

    public static ServiceProvider Build(string twilioBaseUrl, string telnyxBaseUrl, Action<IServiceCollection>? configure = null)
    {
        var services = new ServiceCollection();
        services.AddLogging();
        services.AddOptions<TelephonyOptions>().Configure(o =>
        {
            o.Twilio.AccountSid = AccountSid;
            o.Twilio.AuthToken = AuthToken;
            o.Twilio.ApiBaseUrl = twilioBaseUrl;
            o.Telnyx.ApiKey = ApiKey;
            o.Telnyx.ConnectionId = ConnectionId;
            o.Telnyx.ApiBaseUrl = telnyxBaseUrl;
        });
        configure?.Invoke(services);
        services.AddCallControl();
        return services.BuildServiceProvider();
    }

    public static ICallControl Twilio(ServiceProvider provider) => provider.GetRequiredService<CallControls>().For(TelephonyProvider.Twilio);

    public static ICallControl Telnyx(ServiceProvider provider) => provider.GetRequiredService<CallControls>().For(TelephonyProvider.Telnyx);

    /// <summary>A loopback URL nothing listens on: connecting to it is refused.</summary>
    public static string RefusingBaseUrl()
    {
        var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var port = ((IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop();
        return $"http://127.0.0.1:{port}";
    }
}
