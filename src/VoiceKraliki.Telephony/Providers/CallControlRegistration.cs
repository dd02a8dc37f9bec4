using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using VoiceKraliki.Contracts;

namespace VoiceKraliki.Telephony.Providers;

public static class CallControlRegistration
{
    /// <summary>
    /// Registers <see cref="TwilioCallControl"/>, <see cref="TelnyxCallControl"/> (typed HttpClients, so the
    /// ServiceDefaults resilience pipeline wraps them), both as <see cref="ICallControl"/>, and
    /// <see cref="CallControls"/> to pick one by provider. Binding <see cref="TelephonyOptions"/> is the service's job.
    /// </summary>
    public static IServiceCollection AddCallControl(this IServiceCollection services)
    {
        services.TryAddSingleton(TimeProvider.System);
        services.AddHttpClient<TwilioCallControl>();
        services.AddHttpClient<TelnyxCallControl>();
        services.AddTransient<ICallControl>(sp => sp.GetRequiredService<TwilioCallControl>());
        services.AddTransient<ICallControl>(sp => sp.GetRequiredService<TelnyxCallControl>());
        services.TryAddTransient<CallControls>();
        return services;
    }
}

/// <summary>The call-control adapter for each provider.</summary>
public sealed class CallControls(IEnumerable<ICallControl> adapters)
{
    private readonly ICallControl[] _adapters = adapters.ToArray();

    public ICallControl For(TelephonyProvider provider) =>
        Array.Find(_adapters, a => a.Provider == provider)
        ?? throw new InvalidOperationException($"No call control is registered for {provider}.");
}
