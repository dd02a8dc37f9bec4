using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace VoiceKraliki.ServiceDefaults.Http;

public static class HttpClientDefaults
{
    /// <summary>Every HttpClient from the factory resolves service names and goes through the resilience pipeline.</summary>
    public static IServiceCollection AddServiceDiscoveryAndResilience(this IServiceCollection services)
    {
        services.AddOptions<HttpResilienceOptions>().BindConfiguration("HttpResilience")
            .Validate(o => o.TotalRequestTimeout > TimeSpan.Zero && o.AttemptTimeout > TimeSpan.Zero,
                "HttpResilience:TotalRequestTimeout and HttpResilience:AttemptTimeout must be positive.")
            .Validate(o => o.MaxRetryAttempts is >= 0 and <= 10, "HttpResilience:MaxRetryAttempts must be between 0 and 10.")
            .Validate(o => o.CircuitBreakerMinimumThroughput >= 2, "HttpResilience:CircuitBreakerMinimumThroughput must be at least 2.")
            .ValidateOnStart();
        services.AddSingleton<ServiceEndpointResolver>();
        services.AddTransient<ServiceDiscoveryHandler>();
        services.AddTransient(sp => new ResilienceHandler(sp.GetRequiredService<IOptions<HttpResilienceOptions>>().Value));
        services.ConfigureHttpClientDefaults(http =>
        {
            // Outermost first: resilience wraps discovery so each attempt may pick another replica.
            http.AddHttpMessageHandler<ResilienceHandler>();
            http.AddHttpMessageHandler<ServiceDiscoveryHandler>();
        });
        return services;
    }
}
