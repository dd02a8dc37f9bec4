using VoiceKraliki.AppHost.Tests.Support;

namespace VoiceKraliki.AppHost.Tests.Contract;

public sealed class ServiceEnvironmentTests
{
    [Fact]
    public async Task Call_state_gets_exactly_its_connection_strings_in_the_Aspire_forms()
    {
        await using var model = BuiltModel.Create();
        var environment = model.Environment("call-state");

        Assert.Equal(
            ["ConnectionStrings__messaging", "ConnectionStrings__postgres-call-state", "ConnectionStrings__redis"],
            environment.Keys.Where(k => k.StartsWith("ConnectionStrings__", StringComparison.Ordinal)).Order(StringComparer.Ordinal));
        Assert.Matches(@"^Host=127\.0\.0\.1;Port=\d+;Database=callstate;Username=postgres;Password=.+$", environment["ConnectionStrings__postgres-call-state"]);
        Assert.Matches(@"^127\.0\.0\.1:\d+$", environment["ConnectionStrings__redis"]);
        Assert.Matches(@"^amqp://[^:]+:[^@]+@127\.0\.0\.1:\d+$", environment["ConnectionStrings__messaging"]);
        Assert.DoesNotContain(environment.Keys, k => k.StartsWith("services__", StringComparison.Ordinal));
        Assert.DoesNotContain(environment.Keys, k => k.StartsWith("ReverseProxy__", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Every_service_gets_its_address_environment_and_telemetry_identity()
    {
        await using var model = BuiltModel.Create();
        var environment = model.Environment("webhook-ingress", replica: 1);

        Assert.Equal($"http://127.0.0.1:{model.Project("webhook-ingress").Ports[1]}", environment["ASPNETCORE_URLS"]);
        Assert.Equal("Development", environment["ASPNETCORE_ENVIRONMENT"]);
        Assert.Equal("Development", environment["DOTNET_ENVIRONMENT"]);
        Assert.Equal("webhook-ingress", environment["OTEL_SERVICE_NAME"]);
        Assert.Equal("service.instance.id=webhook-ingress-1-test", environment["OTEL_RESOURCE_ATTRIBUTES"]);
        Assert.False(environment.ContainsKey("OTEL_EXPORTER_OTLP_ENDPOINT"));
        Assert.False(environment.ContainsKey("OTEL_EXPORTER_OTLP_PROTOCOL"));
    }

    [Fact]
    public async Task The_otlp_exporter_is_passed_on_only_when_configured()
    {
        await using var model = BuiltModel.Create(new()
        {
            Configuration = { ["OTEL_EXPORTER_OTLP_ENDPOINT"] = "http://127.0.0.1:4317", ["OTEL_EXPORTER_OTLP_PROTOCOL"] = "grpc" },
        });

        foreach (var service in AllServices)
        {
            var environment = model.Environment(service);
            Assert.Equal("http://127.0.0.1:4317", environment["OTEL_EXPORTER_OTLP_ENDPOINT"]);
            Assert.Equal("grpc", environment["OTEL_EXPORTER_OTLP_PROTOCOL"]);
        }
    }

    [Fact]
    public async Task Replicas_are_each_a_service_address_and_ports_are_all_different()
    {
        await using var model = BuiltModel.Create();
        var gateway = model.Environment("gateway");
        var ingress = model.Project("webhook-ingress");

        Assert.Equal(2, ingress.Replicas);
        Assert.Equal($"http://127.0.0.1:{ingress.Ports[0]}", gateway["services__webhook-ingress__http__0"]);
        Assert.Equal($"http://127.0.0.1:{ingress.Ports[1]}", gateway["services__webhook-ingress__http__1"]);
        Assert.False(gateway.ContainsKey("services__webhook-ingress__http__2"));
        foreach (var service in new[] { "media-bridge", "call-state", "compliance", "alerting" })
        {
            Assert.Equal($"http://127.0.0.1:{model.Project(service).Ports[0]}", gateway[$"services__{service}__http__0"]);
        }

        var ports = AllServices.SelectMany(s => model.Project(s).Ports).ToArray();
        Assert.Equal(ports.Length, ports.Distinct().Count());
    }

    [Fact]
    public async Task Replica_counts_come_from_configuration()
    {
        await using var model = BuiltModel.Create(new() { Replicas = { ["webhook-ingress"] = 3, ["call-state"] = 2 } });
        var gateway = model.Environment("gateway");

        Assert.True(gateway.ContainsKey("services__webhook-ingress__http__2"));
        Assert.True(gateway.ContainsKey("ReverseProxy__Clusters__webhook-ingress__Destinations__webhook-ingress-2__Address"));
        Assert.True(gateway.ContainsKey("ReverseProxy__Clusters__call-state__Destinations__call-state-1__Address"));
    }

    [Fact]
    public async Task The_gateway_gets_its_routes_and_one_destination_per_replica()
    {
        await using var model = BuiltModel.Create();
        var gateway = model.Environment("gateway");
        var routes = new Dictionary<string, (string Cluster, string Path)>
        {
            ["webhooks"] = ("webhook-ingress", "/webhooks/{**catch-all}"),
            ["media"] = ("media-bridge", "/media/{**catch-all}"),
            ["calls"] = ("call-state", "/api/calls/{**catch-all}"),
            ["campaigns"] = ("call-state", "/api/campaigns/{**catch-all}"),
            ["flows"] = ("call-state", "/api/flows/{**catch-all}"),
            ["compliance"] = ("compliance", "/api/compliance/{**catch-all}"),
            ["alerts"] = ("alerting", "/api/alerts/{**catch-all}"),
        };

        foreach (var (route, (cluster, path)) in routes)
        {
            Assert.Equal(cluster, gateway[$"ReverseProxy__Routes__{route}__ClusterId"]);
            Assert.Equal(path, gateway[$"ReverseProxy__Routes__{route}__Match__Path"]);
        }

        Assert.Equal(routes.Count, gateway.Keys.Count(k => k.StartsWith("ReverseProxy__Routes__", StringComparison.Ordinal) && k.EndsWith("__ClusterId", StringComparison.Ordinal)));

        var ingress = model.Project("webhook-ingress");
        Assert.Equal($"http://127.0.0.1:{ingress.Ports[0]}/", gateway["ReverseProxy__Clusters__webhook-ingress__Destinations__webhook-ingress-0__Address"]);
        Assert.Equal($"http://127.0.0.1:{ingress.Ports[1]}/", gateway["ReverseProxy__Clusters__webhook-ingress__Destinations__webhook-ingress-1__Address"]);
        foreach (var cluster in routes.Values.Select(r => r.Cluster).Distinct())
        {
            var prefix = $"ReverseProxy__Clusters__{cluster}__";
            Assert.Equal("PowerOfTwoChoices", gateway[prefix + "LoadBalancingPolicy"]);
            Assert.Equal("true", gateway[prefix + "HealthCheck__Active__Enabled"]);
            Assert.Equal("00:00:05", gateway[prefix + "HealthCheck__Active__Interval"]);
            Assert.Equal("/health", gateway[prefix + "HealthCheck__Active__Path"]);
            Assert.Equal($"http://127.0.0.1:{model.Project(cluster).Ports[0]}/", gateway[$"{prefix}Destinations__{cluster}-0__Address"]);
        }

        Assert.Equal("00:30:00", gateway["ReverseProxy__Clusters__media-bridge__HttpRequest__ActivityTimeout"]);
        Assert.DoesNotContain(gateway.Keys, k => k.StartsWith("ConnectionStrings__", StringComparison.Ordinal));
    }

    [Fact]
    public async Task The_gateway_listens_on_the_port_asked_for()
    {
        var port = new AppHost.Infrastructure.PortAllocator().Allocate();
        await using var model = BuiltModel.Create(new() { GatewayPort = port });

        Assert.Equal($"http://127.0.0.1:{port}", model.Environment("gateway")["ASPNETCORE_URLS"]);
        Assert.Equal(new Uri($"http://127.0.0.1:{port}"), model.App.GetEndpoint("gateway"));
    }

    [Fact]
    public async Task A_gateway_port_in_use_is_refused_with_a_clear_message()
    {
        using var listener = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0);
        listener.Start();
        var port = ((System.Net.IPEndPoint)listener.LocalEndpoint).Port;

        var error = Assert.Throws<DistributedApplicationException>(() => BuiltModel.Create(new() { GatewayPort = port }));
        Assert.Contains($"Port {port}", error.Message);
        Assert.Contains("--gateway-port", error.Message);
        await Task.CompletedTask;
    }

    [Fact]
    public async Task An_external_postgres_is_used_per_database_and_other_servers_keep_their_strings()
    {
        await using var model = BuiltModel.Create(new()
        {
            Configuration =
            {
                ["ConnectionStrings:postgres"] = "Host=127.0.0.1;Port=6543;Database=postgres;Username=app;Password=secret",
                ["ConnectionStrings:redis"] = "127.0.0.1:6390,password=x",
                ["ConnectionStrings:messaging"] = "amqp://u:p@127.0.0.1:5679",
            },
        });

        var callState = model.Environment("call-state");
        var postgres = new Npgsql.NpgsqlConnectionStringBuilder(callState["ConnectionStrings__postgres-call-state"]);
        Assert.Equal(("127.0.0.1", 6543, "callstate", "app", "secret"), (postgres.Host, postgres.Port, postgres.Database, postgres.Username, postgres.Password));
        Assert.Equal("alerting", new Npgsql.NpgsqlConnectionStringBuilder(model.Environment("alerting")["ConnectionStrings__postgres-alerting"]).Database);
        Assert.Equal("127.0.0.1:6390,password=x", callState["ConnectionStrings__redis"]);
        Assert.Equal("amqp://u:p@127.0.0.1:5679", callState["ConnectionStrings__messaging"]);
        Assert.Contains("external", model.App.GetResource("postgres").Kind);
    }

    internal static readonly string[] AllServices = ["gateway", "webhook-ingress", "media-bridge", "call-state", "compliance", "alerting"];
}
