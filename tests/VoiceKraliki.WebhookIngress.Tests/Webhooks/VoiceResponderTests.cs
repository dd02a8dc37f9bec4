using System.Text;
using System.Xml.Linq;
using Microsoft.Extensions.Options;
using VoiceKraliki.Contracts;
using VoiceKraliki.Telephony.Events;
using VoiceKraliki.WebhookIngress.Webhooks;

namespace VoiceKraliki.WebhookIngress.Tests.Webhooks;

public sealed class VoiceResponderTests
{
    private static readonly VoiceResponder Responder = new(
        Options.Create(new WebhookOptions
        {
            Voice = new VoiceResponseOptions
            {
                StreamTokenSigningKey = Convert.ToBase64String(Encoding.UTF8.GetBytes("a test key of at least thirty-two bytes")),
            },
        }),
        TimeProvider.System);

    [Fact]
    public void The_stream_carries_the_call_ids_the_numbers_and_a_token()
    {
        var parameters = StreamParameters(Responder.Connect(Call("+14155550100", "+442071838750"), "wss://voice.example.com/media/twilio"));

        Assert.Equal(["callSid", "direction", "from", "sessionId", "to", "token"], parameters.Keys.Order(StringComparer.Ordinal));
        Assert.Equal("CA0123456789abcdef0123456789abcdef", parameters["callSid"]);
        Assert.Equal("+14155550100", parameters["from"]);
        Assert.Equal("+442071838750", parameters["to"]);
    }

    [Fact]
    public void Unknown_numbers_are_left_out_of_the_stream_parameters()
    {
        var parameters = StreamParameters(Responder.Connect(Call(from: null, to: ""), "wss://voice.example.com/media/twilio"));

        Assert.DoesNotContain("from", parameters.Keys);
        Assert.DoesNotContain("to", parameters.Keys);
    }

    private static Dictionary<string, string> StreamParameters(string twiml) =>
        XDocument.Parse(twiml).Descendants("Stream").Single().Elements("Parameter")
            .ToDictionary(p => (string)p.Attribute("name")!, p => (string)p.Attribute("value")!);

    private static CallEvent Call(string? from, string? to) => new(
        TelephonyProvider.Twilio, "CA0123456789abcdef0123456789abcdef", "session-1", null, "call.initiated", null, "ringing",
        null, default, from, to, default, DateTimeOffset.UtcNow, 1, null, null, null, null, new Dictionary<string, string>());
}
