using Microsoft.Extensions.DependencyInjection.Extensions;

namespace VoiceKraliki.Compliance.Audit;

public static class AuditExtensions
{
    /// <summary>
    /// The <see cref="AuditLog"/> singleton over the service's <c>NpgsqlDataSource</c> (from <c>AddPostgres</c>); its
    /// tables come with the service's migrations (<c>0002_audit</c>).
    /// </summary>
    public static IHostApplicationBuilder AddAuditLog(this IHostApplicationBuilder builder)
    {
        builder.Services.TryAddSingleton(TimeProvider.System);
        builder.Services.TryAddSingleton<AuditLog>();
        return builder;
    }
}
