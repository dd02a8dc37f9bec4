using Microsoft.Extensions.DependencyInjection.Extensions;
using VoiceKraliki.Alerting.Model;

namespace VoiceKraliki.Alerting.Signals;

public static class SignalsExtensions
{
    /// <summary>
    /// The live signals (<see cref="SignalStore"/>, also as <see cref="ISignalReader"/>), their options (<c>Signals</c>),
    /// the per-minute history in Postgres and the loading of compliance and provider-health events. Needs the
    /// service's <c>AddPostgres</c> and <c>AddMigrations</c> (migration <c>0002_signals</c>); the consumers
    /// (<see cref="SignalEventsConsumer"/>, <see cref="DurableSignalEventsConsumer"/>) are found by <c>AddConsumers</c>.
    /// </summary>
    public static IHostApplicationBuilder AddSignals(this IHostApplicationBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        builder.AddValidatedOptions<SignalOptions>(SignalOptions.SectionName);
        builder.Services.TryAddSingleton(TimeProvider.System);
        builder.Services.AddSingleton<SignalStore>();
        builder.Services.TryAddSingleton<ISignalReader>(sp => sp.GetRequiredService<SignalStore>());
        builder.Services.AddSingleton<SignalEventLog>();
        builder.Services.AddSingleton<SignalHistory>();
        builder.Services.AddSingleton<SignalHistoryWriter>();
        builder.Services.AddHostedService(sp => sp.GetRequiredService<SignalHistoryWriter>());
        builder.Services.AddSingleton<SignalEventsRefresher>();
        builder.Services.AddHostedService(sp => sp.GetRequiredService<SignalEventsRefresher>());
        return builder;
    }
}
