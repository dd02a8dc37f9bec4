using System.Diagnostics;
using System.Net;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Options;
using Polly.CircuitBreaker;
using Polly.Timeout;
using VoiceKraliki.ServiceDefaults.Tests.Support;

namespace VoiceKraliki.ServiceDefaults.Tests.Http;

/// <summary>The resilience pipeline every IHttpClientFactory client gets, against a real local backend.</summary>
public class ResilienceHandlerTests
{
    private static CancellationToken Timeout(int seconds = 30) => new CancellationTokenSource(TimeSpan.FromSeconds(seconds)).Token;

    /// <summary>Fails the first <paramref name="failures"/> requests with <paramref name="status"/>, then answers 200.</summary>
    private static Func<HttpContext, int, Task> FailFirst(int failures, int status) =>
        (context, attempt) => LocalServer.Respond(context, attempt <= failures ? status : StatusCodes.Status200OK, attempt);

    [Theory]
    [InlineData(503)]
    [InlineData(500)]
    [InlineData(502)]
    [InlineData(408)]
    [InlineData(429)]
    public async Task A_get_is_retried_after_transient_statuses_and_then_succeeds(int status)
    {
        await using var backend = await LocalServer.StartAsync(FailFirst(2, status));
        using var host = new ClientHost(ClientHost.FastSettings());
        using var client = host.CreateClient();

        using var response = await client.GetAsync(new Uri(backend.Address, "/thing"), Timeout());

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("attempt 3", await response.Content.ReadAsStringAsync());
        Assert.Equal(3, backend.Hits);
    }

    [Fact]
    public async Task A_get_that_keeps_failing_is_tried_once_plus_MaxRetryAttempts_and_the_last_answer_returned()
    {
        await using var backend = await LocalServer.StartAsync(FailFirst(int.MaxValue, 503));
        using var host = new ClientHost(ClientHost.FastSettings(("HttpResilience:MaxRetryAttempts", "2")));
        using var client = host.CreateClient();

        using var response = await client.GetAsync(new Uri(backend.Address, "/thing"), Timeout());

        Assert.Equal(HttpStatusCode.ServiceUnavailable, response.StatusCode);
        Assert.Equal("attempt 3", await response.Content.ReadAsStringAsync());
        Assert.Equal(3, backend.Hits);
    }

    [Fact]
    public async Task A_post_is_never_retried()
    {
        await using var backend = await LocalServer.StartAsync(FailFirst(int.MaxValue, 503));
        using var host = new ClientHost(ClientHost.FastSettings());
        using var client = host.CreateClient();

        using var response = await client.PostAsync(new Uri(backend.Address, "/thing"), new StringContent("{}"), Timeout());

        Assert.Equal(HttpStatusCode.ServiceUnavailable, response.StatusCode);
        Assert.Equal(1, backend.Hits);
    }

    [Fact]
    public async Task A_patch_is_never_retried()
    {
        await using var backend = await LocalServer.StartAsync(FailFirst(int.MaxValue, 429));
        using var host = new ClientHost(ClientHost.FastSettings());
        using var client = host.CreateClient();

        using var response = await client.PatchAsync(new Uri(backend.Address, "/thing"), new StringContent("{}"), Timeout());

        Assert.Equal(HttpStatusCode.TooManyRequests, response.StatusCode);
        Assert.Equal(1, backend.Hits);
    }

    [Theory]
    [InlineData(400)]
    [InlineData(401)]
    [InlineData(404)]
    [InlineData(409)]
    public async Task A_get_answered_with_a_non_transient_client_error_is_not_retried(int status)
    {
        await using var backend = await LocalServer.StartAsync(FailFirst(int.MaxValue, status));
        using var host = new ClientHost(ClientHost.FastSettings());
        using var client = host.CreateClient();

        using var response = await client.GetAsync(new Uri(backend.Address, "/thing"), Timeout());

        Assert.Equal((HttpStatusCode)status, response.StatusCode);
        Assert.Equal(1, backend.Hits);
    }

    [Fact]
    public async Task A_put_is_retried_and_every_attempt_carries_the_whole_body()
    {
        var bodies = new List<string>();
        await using var backend = await LocalServer.StartAsync(async (context, attempt) =>
        {
            using var reader = new StreamReader(context.Request.Body);
            var body = await reader.ReadToEndAsync(context.RequestAborted);
            lock (bodies)
            {
                bodies.Add(body);
            }

            await LocalServer.Respond(context, attempt < 3 ? 503 : 200, attempt);
        });
        using var host = new ClientHost(ClientHost.FastSettings());
        using var client = host.CreateClient();
        var payload = string.Concat(Enumerable.Repeat("consent-record;", 2000));

        using var response = await client.PutAsync(new Uri(backend.Address, "/thing"), new StringContent(payload), Timeout());

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal([payload, payload, payload], bodies);
    }

    [Fact]
    public async Task A_get_is_retried_when_the_connection_drops_without_an_answer()
    {
        await using var backend = await LocalServer.StartAsync((context, attempt) =>
        {
            if (attempt == 1)
            {
                context.Abort();
                return Task.CompletedTask;
            }

            return LocalServer.Respond(context, 200, attempt);
        });
        using var host = new ClientHost(ClientHost.FastSettings());
        using var client = host.CreateClient();

        using var response = await client.GetAsync(new Uri(backend.Address, "/thing"), Timeout());

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(2, backend.Hits);
    }

    [Fact]
    public async Task A_slow_attempt_is_abandoned_after_AttemptTimeout_and_retried()
    {
        await using var backend = await LocalServer.StartAsync(async (context, attempt) =>
        {
            if (attempt == 1)
            {
                await Task.Delay(TimeSpan.FromSeconds(20), context.RequestAborted);
            }

            await LocalServer.Respond(context, 200, attempt);
        });
        using var host = new ClientHost(ClientHost.FastSettings(("HttpResilience:AttemptTimeout", "00:00:00.300")));
        using var client = host.CreateClient();

        var clock = Stopwatch.StartNew();
        using var response = await client.GetAsync(new Uri(backend.Address, "/thing"), Timeout());

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("attempt 2", await response.Content.ReadAsStringAsync());
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(10), $"took {clock.Elapsed}");
    }

    [Fact]
    public async Task A_backend_that_never_answers_fails_the_call_after_TotalRequestTimeout()
    {
        await using var backend = await LocalServer.StartAsync(async (context, _) =>
            await Task.Delay(TimeSpan.FromSeconds(60), context.RequestAborted));
        using var host = new ClientHost(ClientHost.FastSettings(
            ("HttpResilience:TotalRequestTimeout", "00:00:01"),
            ("HttpResilience:AttemptTimeout", "00:00:10")));
        using var client = host.CreateClient();

        var clock = Stopwatch.StartNew();
        await Assert.ThrowsAsync<TimeoutRejectedException>(() => client.GetAsync(new Uri(backend.Address, "/thing"), Timeout()));

        Assert.InRange(clock.Elapsed, TimeSpan.FromMilliseconds(900), TimeSpan.FromSeconds(10));
    }

    [Fact]
    public async Task The_caller_cancelling_stops_retrying()
    {
        var reached = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        await using var backend = await LocalServer.StartAsync(async (context, attempt) =>
        {
            reached.TrySetResult();
            await Task.Delay(TimeSpan.FromSeconds(30), context.RequestAborted);
            await LocalServer.Respond(context, 200, attempt);
        });
        using var host = new ClientHost(ClientHost.FastSettings());
        using var client = host.CreateClient();
        using var cancel = new CancellationTokenSource();

        // Cancel once the first attempt is in flight (a fixed delay raced the connection on a loaded machine).
        var call = client.GetAsync(new Uri(backend.Address, "/thing"), cancel.Token);
        await reached.Task.WaitAsync(Timeout());
        await cancel.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => call);
        await Task.Delay(TimeSpan.FromMilliseconds(300), Timeout());
        Assert.Equal(1, backend.Hits);
    }

    [Fact]
    public async Task The_circuit_opens_after_repeated_failures_fails_fast_then_closes_after_the_break()
    {
        var healthy = false;
        await using var backend = await LocalServer.StartAsync((context, attempt) =>
            LocalServer.Respond(context, Volatile.Read(ref healthy) ? 200 : 503, attempt));
        using var host = new ClientHost(ClientHost.FastSettings(
            ("HttpResilience:CircuitBreakerMinimumThroughput", "4"),
            ("HttpResilience:CircuitBreakerBreakDuration", "00:00:01")));
        using var client = host.CreateClient("breaker");
        var uri = new Uri(backend.Address, "/thing");

        // POSTs are not retried, so each one is exactly one sample for the breaker.
        for (var i = 0; i < 4; i++)
        {
            using var failed = await client.PostAsync(uri, new StringContent("x"), Timeout());
            Assert.Equal(HttpStatusCode.ServiceUnavailable, failed.StatusCode);
        }

        Assert.Equal(4, backend.Hits);
        Volatile.Write(ref healthy, true);

        // Open: calls fail at once without reaching the backend, even though it would now succeed.
        await Assert.ThrowsAsync<BrokenCircuitException>(() => client.GetAsync(uri, Timeout()));
        await Assert.ThrowsAsync<BrokenCircuitException>(() => client.PostAsync(uri, new StringContent("x"), Timeout()));
        Assert.Equal(4, backend.Hits);

        // After the break a trial call goes through, succeeds and closes the circuit.
        var deadline = Stopwatch.StartNew();
        HttpResponseMessage? recovered = null;
        while (recovered is null && deadline.Elapsed < TimeSpan.FromSeconds(10))
        {
            await Task.Delay(TimeSpan.FromMilliseconds(200), Timeout());
            try
            {
                recovered = await client.GetAsync(uri, Timeout());
            }
            catch (BrokenCircuitException)
            {
            }
        }

        Assert.NotNull(recovered);
        using (recovered)
        {
            Assert.Equal(HttpStatusCode.OK, recovered.StatusCode);
        }

        using var after = await client.GetAsync(uri, Timeout());
        Assert.Equal(HttpStatusCode.OK, after.StatusCode);
        Assert.Equal(6, backend.Hits);
    }

    [Fact]
    public async Task Retries_of_a_failing_get_count_towards_opening_the_circuit()
    {
        await using var backend = await LocalServer.StartAsync(FailFirst(int.MaxValue, 503));
        using var host = new ClientHost(ClientHost.FastSettings(
            ("HttpResilience:MaxRetryAttempts", "6"),
            ("HttpResilience:CircuitBreakerMinimumThroughput", "4"),
            ("HttpResilience:CircuitBreakerBreakDuration", "00:00:30")));
        using var client = host.CreateClient("breaker");
        var uri = new Uri(backend.Address, "/thing");

        // Every attempt is a sample: after the 4th failed attempt the breaker opens and the
        // remaining retries fail fast instead of reaching the backend.
        await Assert.ThrowsAsync<BrokenCircuitException>(() => client.GetAsync(uri, Timeout()));
        Assert.Equal(4, backend.Hits);

        await Assert.ThrowsAsync<BrokenCircuitException>(() => client.GetAsync(uri, Timeout()));
        Assert.Equal(4, backend.Hits);
    }

    [Fact]
    public async Task A_mostly_healthy_backend_does_not_open_the_circuit()
    {
        // One failure in four is under the 50 % failure ratio.
        await using var backend = await LocalServer.StartAsync((context, attempt) =>
            LocalServer.Respond(context, attempt % 4 == 0 ? 503 : 200, attempt));
        using var host = new ClientHost(ClientHost.FastSettings(("HttpResilience:CircuitBreakerMinimumThroughput", "4")));
        using var client = host.CreateClient("breaker");

        for (var i = 0; i < 20; i++)
        {
            using var response = await client.PostAsync(new Uri(backend.Address, "/thing"), new StringContent("x"), Timeout());
        }

        Assert.Equal(20, backend.Hits);
    }

    [Fact]
    public async Task MaxRetryAttempts_zero_starts_and_disables_retries()
    {
        await using var backend = await LocalServer.StartAsync(FailFirst(int.MaxValue, 503));
        using var host = new ClientHost(ClientHost.FastSettings(("HttpResilience:MaxRetryAttempts", "0")));
        await host.StartAsync(Timeout());
        using var client = host.CreateClient();

        using var response = await client.GetAsync(new Uri(backend.Address, "/thing"), Timeout());

        Assert.Equal(HttpStatusCode.ServiceUnavailable, response.StatusCode);
        Assert.Equal(1, backend.Hits);
    }

    [Theory]
    [InlineData("HttpResilience:MaxRetryAttempts", "11", "HttpResilience:MaxRetryAttempts")]
    [InlineData("HttpResilience:MaxRetryAttempts", "-1", "HttpResilience:MaxRetryAttempts")]
    [InlineData("HttpResilience:AttemptTimeout", "00:00:00", "HttpResilience:TotalRequestTimeout and HttpResilience:AttemptTimeout")]
    [InlineData("HttpResilience:TotalRequestTimeout", "-00:00:01", "HttpResilience:TotalRequestTimeout and HttpResilience:AttemptTimeout")]
    [InlineData("HttpResilience:CircuitBreakerMinimumThroughput", "1", "HttpResilience:CircuitBreakerMinimumThroughput")]
    public async Task Bad_resilience_settings_stop_the_host_naming_the_key(string key, string value, string named)
    {
        using var host = new ClientHost(ClientHost.FastSettings((key, value)));
        var exception = await Assert.ThrowsAsync<OptionsValidationException>(() => host.StartAsync(Timeout()));
        Assert.Contains(named, exception.Message);
    }
}
