using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;

namespace VoiceKraliki.ServiceDefaults.Messaging.Outbox;

public static class OutboxExtensions
{
    /// <summary>
    /// The transactional outbox: the <see cref="OutboxEventTypes"/> that <paramref name="configure"/> adds
    /// (<c>types =&gt; types.Add&lt;CallStateChanged&gt;()</c>), an <see cref="OutboxWriter"/> that puts events in
    /// the caller's transaction, and the <see cref="OutboxRelay"/> that publishes them, with options from section
    /// <c>Outbox</c> validated at start. Needs <c>AddPostgres</c> (the relay uses its <c>NpgsqlDataSource</c>),
    /// <c>AddEventBus</c> (called before this, so that the relay stops before the bus and a publish under way can
    /// finish), and the <c>outbox_messages</c> table: put <see cref="OutboxSchema.Sql"/> in one of the service's
    /// migrations. Calling it again adds more types to the same outbox.
    /// </summary>
    public static TBuilder AddOutbox<TBuilder>(this TBuilder builder, Action<OutboxEventTypesBuilder> configure)
        where TBuilder : IHostApplicationBuilder
    {
        ArgumentNullException.ThrowIfNull(configure);
        var existing = builder.Services.FirstOrDefault(d => d.ServiceType == typeof(OutboxEventTypesBuilder))?.ImplementationInstance;
        if (existing is OutboxEventTypesBuilder types)
        {
            configure(types);
            return builder;
        }

        types = new OutboxEventTypesBuilder();
        configure(types);
        builder.Services.AddSingleton(types);
        builder.Services.AddSingleton(sp => sp.GetRequiredService<OutboxEventTypesBuilder>().Build());

        builder.AddValidatedOptions<OutboxOptions>(OutboxOptions.SectionName);
        builder.Services.TryAddSingleton(TimeProvider.System);
        builder.Services.AddSingleton<OutboxSignal>();
        builder.Services.AddSingleton<OutboxWriter>();
        builder.Services.AddHostedService<OutboxRelay>();
        return builder;
    }
}
