using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;

namespace VoiceKraliki.Simulator.Tests.Support;

internal static class Http
{
    public static HttpClient TwilioClient(ProviderSimulator simulator, string? authToken = null)
    {
        var client = new HttpClient { BaseAddress = new Uri(simulator.BaseUrl), Timeout = TimeSpan.FromSeconds(10) };
        var credentials = $"{simulator.Options.Twilio.AccountSid}:{authToken ?? simulator.Options.Twilio.AuthToken}";
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes(credentials)));
        return client;
    }

    public static HttpClient TelnyxClient(ProviderSimulator simulator, string? apiKey = null)
    {
        var client = new HttpClient { BaseAddress = new Uri(simulator.BaseUrl), Timeout = TimeSpan.FromSeconds(10) };
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", apiKey ?? simulator.Options.Telnyx.ApiKey);
        return client;
    }

    public static string CallsPath(ProviderSimulator simulator, string? callSid = null) =>
        $"/2010-04-01/Accounts/{simulator.Options.Twilio.AccountSid}/Calls" + (callSid is null ? ".json" : $"/{callSid}.json");

    public static FormUrlEncodedContent Form(params (string Key, string Value)[] fields) =>
        new(fields.Select(f => new KeyValuePair<string, string>(f.Key, f.Value)));

    public static async Task<JsonElement> JsonAsync(this HttpResponseMessage response) =>
        (await response.Content.ReadFromJsonAsync<JsonElement>());

    public static StringContent Json(string json) => new(json, Encoding.UTF8, "application/json");
}
