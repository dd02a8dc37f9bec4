using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using RabbitMQ.Client;
using RabbitMQ.Client.Exceptions;

namespace VoiceKraliki.ServiceDefaults.Messaging;

/// <summary>
/// Holds one small connection to the broker and reports whether it is open. MassTransit's own bus
/// health stays "Ready" while its connection is down and being retried, so readiness needs this.
/// </summary>
public sealed partial class BrokerConnectionMonitor(
    IOptions<EventBusOptions> options,
    ILogger<BrokerConnectionMonitor> logger,
    TimeProvider timeProvider) : BackgroundService, IHealthCheck
{
    private volatile IConnection? _connection;
    private volatile string _lastError = "not connected yet";

    public bool IsConnected => _connection is { IsOpen: true };

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        AmqpAddress.TryParse(options.Value.ConnectionString, out var address);
        var factory = new ConnectionFactory
        {
            HostName = address!.Host,
            Port = address.Port,
            VirtualHost = address.VirtualHost,
            UserName = address.Username,
            Password = address.Password,
            ClientProvidedName = "health-monitor",
            RequestedHeartbeat = TimeSpan.FromSeconds(5),
            RequestedConnectionTimeout = TimeSpan.FromSeconds(3),
            // We reconnect ourselves below, so a broker restart is seen as closed, then open again.
            AutomaticRecoveryEnabled = false,
        };

        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                if (_connection is not { IsOpen: true })
                {
                    if (_connection is { } stale)
                    {
                        _connection = null;
                        await stale.DisposeAsync();
                    }

                    _connection = await factory.CreateConnectionAsync(stoppingToken);
                    LogConnected(logger);
                }
            }
            catch (Exception ex) when (ex is BrokerUnreachableException or OperationInterruptedException or IOException or TimeoutException or System.Net.Sockets.SocketException)
            {
                _lastError = ex.Message;
            }

            await Task.Delay(TimeSpan.FromMilliseconds(500), timeProvider, stoppingToken).ContinueWith(_ => { }, TaskScheduler.Default);
        }
    }

    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default) =>
        Task.FromResult(IsConnected
            ? HealthCheckResult.Healthy("Connected to the broker.")
            : HealthCheckResult.Unhealthy($"No connection to the broker: {_lastError}"));

    public override async Task StopAsync(CancellationToken cancellationToken)
    {
        await base.StopAsync(cancellationToken);
        if (_connection is { } connection)
        {
            await connection.DisposeAsync();
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Broker health connection open")]
    private static partial void LogConnected(ILogger logger);
}
