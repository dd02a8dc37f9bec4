using System.Diagnostics.CodeAnalysis;

namespace VoiceKraliki.ServiceDefaults.Messaging;

/// <summary>The parts of an <c>amqp://user:pass@host:port/vhost</c> connection string.</summary>
public sealed record AmqpAddress(string Host, ushort Port, string VirtualHost, string Username, string Password)
{
    public static bool TryParse(string? connectionString, [NotNullWhen(true)] out AmqpAddress? address)
    {
        address = null;
        if (!Uri.TryCreate(connectionString, UriKind.Absolute, out var uri)
            || uri.Scheme is not ("amqp" or "rabbitmq")
            || string.IsNullOrEmpty(uri.Host))
        {
            return false;
        }

        var userInfo = uri.UserInfo.Split(':', 2);
        var username = userInfo.Length > 0 && userInfo[0].Length > 0 ? Uri.UnescapeDataString(userInfo[0]) : "guest";
        var password = userInfo.Length > 1 ? Uri.UnescapeDataString(userInfo[1]) : "guest";
        var vhost = Uri.UnescapeDataString(uri.AbsolutePath.TrimStart('/'));
        var port = uri.IsDefaultPort || uri.Port <= 0 ? (ushort)5672 : (ushort)uri.Port;
        address = new AmqpAddress(uri.Host, port, vhost.Length == 0 ? "/" : vhost, username, password);
        return true;
    }
}
