using System.Text.Json.Nodes;
using VoiceKraliki.Alerting.Notifications;
using VoiceKraliki.Alerting.Notifications.Channels;

namespace VoiceKraliki.Alerting.Tests.Channels;

/// <summary>Email against real SMTP servers on loopback: Python's smtpd, a STARTTLS/AUTH server, a silent one and a closed port.</summary>
public class EmailChannelTests
{
    private static ChannelConfig Email(int port, string to = "oncall@example.test, lead@example.test", string starttls = "opportunistic", string? username = null, string? password = null)
    {
        var settings = new Dictionary<string, string>
        {
            ["host"] = "127.0.0.1",
            ["port"] = port.ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["from"] = "alerts@voicekraliki.example.test",
            ["to"] = to,
            ["starttls"] = starttls,
        };
        if (username is not null)
        {
            settings["username"] = username;
        }

        return Samples.Config(
            ChannelTypes.Email,
            settings,
            password is null ? null : new Dictionary<string, string> { ["password"] = password },
            name: "ops-email");
    }

    private static Notification DottedGroup() => Samples.Group(
        Samples.Alert("telefónica", severity: "critical", annotations: new Dictionary<string, string>
        {
            ["summary"] = "Call drop rate above 10%",
            ["description"] = "Calls are dropping.\n.\n.profile shows the carrier at fault\n..twice dotted",
            ["runbook_url"] = "https://runbooks.example.test/call-drops",
        }),
        Samples.Alert("telefónica", annotations: new Dictionary<string, string>
        {
            ["summary"] = "Call drop rate above 10%",
            ["description"] = "Calls are dropping.\n.\n.profile shows the carrier at fault\n..twice dotted",
        }));

    [Fact]
    public async Task A_firing_group_arrives_with_its_headers_recipients_and_a_dot_stuffed_body()
    {
        await using var sink = await SmtpSink.StartPlainAsync();
        await using var harness = ChannelHarness.Create();

        var report = await harness.Delivery.DeliverAsync(Email(sink.Port), DottedGroup(), CancellationToken.None);

        Assert.Equal(DeliveryOutcome.Delivered, report.Outcome);
        var message = await sink.NextMessageAsync();
        Assert.Equal("127.0.0.1", message["peer"]!.GetValue<string>());
        Assert.Equal("alerts@voicekraliki.example.test", message["mailfrom"]!.GetValue<string>());
        Assert.Equal(["oncall@example.test", "lead@example.test"], message["rcpttos"]!.AsArray().Select(r => r!.GetValue<string>()));
        Assert.Empty(message["defects"]!.AsArray());

        var headers = message["headers"]!.AsObject();
        // The subject has a non-ASCII common label value, so it travels as RFC 2047 encoded words and Python decodes it back.
        Assert.Equal("[FIRING:2] HighCallDropRate (telefónica)", headers["Subject"]!.GetValue<string>());
        Assert.Equal("alerts@voicekraliki.example.test", headers["From"]!.GetValue<string>());
        Assert.Equal("oncall@example.test, lead@example.test", headers["To"]!.GetValue<string>());
        Assert.Equal("1.0", headers["MIME-Version"]!.GetValue<string>());
        Assert.Equal("text/plain; charset=utf-8", message["rawHeaders"]!["Content-Type"]!.GetValue<string>());
        Assert.Equal("text/plain", message["contentType"]!.GetValue<string>());
        Assert.Equal("utf-8", message["charset"]!.GetValue<string>());
        Assert.Equal("quoted-printable", headers["Content-Transfer-Encoding"]!.GetValue<string>());
        Assert.Equal("auto-generated", headers["Auto-Submitted"]!.GetValue<string>());
        Assert.Matches(@"^<[0-9a-f]{32}\.alert@voicekraliki\.example\.test>$", headers["Message-ID"]!.GetValue<string>());
        var date = DateTimeOffset.Parse(headers["Date"]!.GetValue<string>(), System.Globalization.CultureInfo.InvariantCulture);
        Assert.InRange(date, DateTimeOffset.UtcNow.AddMinutes(-1), DateTimeOffset.UtcNow.AddMinutes(1));

        var body = message["body"]!.GetValue<string>();
        Assert.StartsWith("[FIRING:2] HighCallDropRate (telefónica)\n\nReceiver: ops\nStatus: firing (2 firing, 0 resolved)\nSeverity: critical\n", body);
        Assert.Contains("Summary: Call drop rate above 10%\nRunbook: https://runbooks.example.test/call-drops\n", body);
        // Lines that start with '.' (one is nothing but '.') survive SMTP's end-of-data marker: we stuffed, smtpd unstuffed.
        Assert.Contains("\nCalls are dropping.\n.\n.profile shows the carrier at fault\n..twice dotted\n", body);
        Assert.Contains("* HighCallDropRate [critical] value 0.12, since 2026-03-01T11:52:30Z\n  Labels: {alertname=\"HighCallDropRate\", provider=\"telefónica\", severity=\"critical\"}\n", body);
        // smtpd keeps the last line's CRLF as part of the end-of-data marker.
        Assert.EndsWith("\nGroup: {alertname=\"HighCallDropRate\"}\nAlerting: https://alerts.example.test/", body);

        // On the wire: 7-bit only, CRLF line endings, the dotted lines doubled, quoted-printable UTF-8.
        var raw = message["raw"]!.GetValue<string>();
        Assert.All(raw, c => Assert.True(c < 128, $"non-ASCII character U+{(int)c:X4} on the wire"));
        Assert.Contains("telef=C3=B3nica", raw);
        Assert.StartsWith("=?utf-8?B?", message["rawHeaders"]!["Subject"]!.GetValue<string>().Trim());
    }

    [Fact]
    public async Task A_resolved_group_says_resolved_in_the_subject()
    {
        await using var sink = await SmtpSink.StartPlainAsync();
        await using var harness = ChannelHarness.Create();

        var report = await harness.Delivery.DeliverAsync(
            Email(sink.Port, to: "oncall@example.test"),
            Samples.Group(Samples.Alert("twilio", Notification.Resolved)),
            CancellationToken.None);

        Assert.Equal(DeliveryOutcome.Delivered, report.Outcome);
        var message = await sink.NextMessageAsync();
        Assert.Equal("[RESOLVED] HighCallDropRate (twilio high)", message["headers"]!["Subject"]!.GetValue<string>());
        Assert.Contains("Resolved (1)\n* HighCallDropRate [high] value 0.12, since 2026-03-01T11:52:30Z, ended 2026-03-01T11:59:30Z\n", message["body"]!.GetValue<string>());
    }

    [Fact]
    public async Task A_recipient_refused_with_550_fails_without_retrying_and_nobody_gets_the_mail()
    {
        await using var sink = await SmtpSink.StartPlainAsync();
        await using var harness = ChannelHarness.Create();

        var report = await harness.Delivery.DeliverAsync(Email(sink.Port, to: "oncall@example.test, reject-me@example.test"), DottedGroup(), CancellationToken.None);

        Assert.Equal(DeliveryOutcome.Failed, report.Outcome);
        var attempt = Assert.Single(report.Attempts);
        Assert.Equal(550, attempt.StatusCode);
        Assert.Contains("550", attempt.Error);
        Assert.Contains("RCPT TO <reject-me@example.test>", attempt.Error);
        Assert.True(await sink.NothingArrivesAsync(TimeSpan.FromMilliseconds(300)));
    }

    [Fact]
    public async Task A_recipient_deferred_with_451_is_retried()
    {
        await using var sink = await SmtpSink.StartPlainAsync();
        await using var harness = ChannelHarness.Create(configure: o =>
        {
            o.DeliveryDeadline = TimeSpan.FromSeconds(1);
            o.InitialBackoff = TimeSpan.FromMilliseconds(200);
        });

        var report = await harness.Delivery.DeliverAsync(Email(sink.Port, to: "busy@example.test"), DottedGroup(), CancellationToken.None);

        Assert.Equal(DeliveryOutcome.Retry, report.Outcome);
        Assert.True(report.Attempts.Count >= 2, $"{report.Attempts.Count} attempt(s)");
        Assert.All(report.Attempts, a => Assert.Equal(451, a.StatusCode));
    }

    [Fact]
    public async Task A_message_refused_with_554_at_the_end_of_data_fails()
    {
        await using var sink = await SmtpSink.StartPlainAsync();
        await using var harness = ChannelHarness.Create();

        var report = await harness.Delivery.DeliverAsync(Email(sink.Port, to: "spam@example.test"), DottedGroup(), CancellationToken.None);

        Assert.Equal(DeliveryOutcome.Failed, report.Outcome);
        Assert.Equal(554, Assert.Single(report.Attempts).StatusCode);
        Assert.Contains("the message", report.Error);
    }

    [Fact]
    public async Task A_refused_connection_may_pass()
    {
        await using var harness = ChannelHarness.Create();
        var channel = harness.Get<EmailChannel>();

        var result = await channel.SendAsync(Email(ClosedPort.Find()), DottedGroup(), CancellationToken.None);

        Assert.Equal(DeliveryOutcome.Retry, result.Outcome);
        Assert.Contains("ConnectionRefused", result.Error);
    }

    [Fact]
    public async Task A_server_that_never_greets_times_out_and_may_pass()
    {
        using var silent = new SilentServer();
        await using var harness = ChannelHarness.Create(configure: o => o.SmtpCommandTimeout = TimeSpan.FromMilliseconds(500));
        var channel = harness.Get<EmailChannel>();

        var result = await channel.SendAsync(Email(silent.Port), DottedGroup(), CancellationToken.None);

        Assert.Equal(DeliveryOutcome.Retry, result.Outcome);
        Assert.Contains("did not answer the greeting", result.Error);
    }

    [Fact]
    public async Task Required_starttls_against_a_server_without_it_fails_and_sends_nothing()
    {
        await using var sink = await SmtpSink.StartPlainAsync();
        await using var harness = ChannelHarness.Create();

        var report = await harness.Delivery.DeliverAsync(Email(sink.Port, starttls: "required"), DottedGroup(), CancellationToken.None);

        Assert.Equal(DeliveryOutcome.Failed, report.Outcome);
        Assert.Contains("does not offer STARTTLS", report.Error);
        Assert.True(await sink.NothingArrivesAsync(TimeSpan.FromMilliseconds(300)));
    }

    [Fact]
    public async Task A_password_is_never_sent_to_a_server_without_tls()
    {
        await using var sink = await SmtpSink.StartPlainAsync();
        await using var harness = ChannelHarness.Create();

        var report = await harness.Delivery.DeliverAsync(Email(sink.Port, username: "alerts", password: "hunter2-SECRET"), DottedGroup(), CancellationToken.None);

        Assert.Equal(DeliveryOutcome.Failed, report.Outcome);
        Assert.Contains("never sent in the clear", report.Error);
        Assert.True(await sink.NothingArrivesAsync(TimeSpan.FromMilliseconds(300)));
    }

    [Fact]
    public async Task Over_starttls_the_client_authenticates_with_plain_and_delivers()
    {
        await using var sink = await SmtpSink.StartTlsAsync("alerts", "s3cret-PASSWORD");
        var thumbprint = sink.Certificate!.GetCertHashString();
        await using var harness = ChannelHarness.Create(configure: o =>
            o.SmtpCertificateValidation = (_, certificate, _, _) => certificate?.GetCertHashString() == thumbprint);

        var report = await harness.Delivery.DeliverAsync(
            Email(sink.Port, to: "oncall@example.test", starttls: "required", username: "alerts", password: "s3cret-PASSWORD"),
            DottedGroup(),
            CancellationToken.None);

        Assert.Equal(DeliveryOutcome.Delivered, report.Outcome);
        var message = await sink.NextMessageAsync();
        Assert.True(message["tls"]!.GetValue<bool>());
        Assert.Equal("alerts", message["user"]!.GetValue<string>());
        Assert.Equal(["oncall@example.test"], message["rcpttos"]!.AsArray().Select(r => r!.GetValue<string>()));
        var commands = message["commands"]!.AsArray().Select(c => $"{c!["command"]!.GetValue<string>()}{(c["tls"]!.GetValue<bool>() ? " (tls)" : "")}");
        Assert.Equal(["EHLO", "STARTTLS", "EHLO (tls)", "AUTH PLAIN (tls)", "MAIL (tls)", "RCPT (tls)", "DATA (tls)"], commands);
        Assert.Contains("\r\nCalls are dropping.\r\n.\r\n.profile shows the carrier at fault\r\n..twice dotted\r\n", message["raw"]!.GetValue<string>());
        Assert.DoesNotContain("s3cret-PASSWORD", harness.Logs.All);
    }

    [Fact]
    public async Task An_untrusted_server_certificate_fails_before_any_credentials_are_sent()
    {
        await using var sink = await SmtpSink.StartTlsAsync("alerts", "s3cret-PASSWORD");
        await using var harness = ChannelHarness.Create();

        var report = await harness.Delivery.DeliverAsync(
            Email(sink.Port, to: "oncall@example.test", starttls: "required", username: "alerts", password: "s3cret-PASSWORD"),
            DottedGroup(),
            CancellationToken.None);

        Assert.Equal(DeliveryOutcome.Failed, report.Outcome);
        Assert.Contains("TLS handshake", report.Error);
        Assert.DoesNotContain("s3cret-PASSWORD", report.Error);
    }

    [Fact]
    public async Task A_wrong_password_fails_with_535_and_is_not_retried()
    {
        await using var sink = await SmtpSink.StartTlsAsync("alerts", "s3cret-PASSWORD");
        var thumbprint = sink.Certificate!.GetCertHashString();
        await using var harness = ChannelHarness.Create(configure: o =>
            o.SmtpCertificateValidation = (_, certificate, _, _) => certificate?.GetCertHashString() == thumbprint);

        var report = await harness.Delivery.DeliverAsync(
            Email(sink.Port, to: "oncall@example.test", username: "alerts", password: "wrong-PASSWORD-123"),
            DottedGroup(),
            CancellationToken.None);

        Assert.Equal(DeliveryOutcome.Failed, report.Outcome);
        Assert.Equal(535, Assert.Single(report.Attempts).StatusCode);
        Assert.DoesNotContain("wrong-PASSWORD-123", report.Error);
        Assert.DoesNotContain("wrong-PASSWORD-123", harness.Logs.All);
    }

    [Fact]
    public void Quoted_printable_keeps_lines_short_and_encodes_what_it_must()
    {
        var encoded = EmailMessage.QuotedPrintable(new string('a', 100) + " = é \n" + "trailing space \nend");

        Assert.All(encoded.Split("\r\n"), line => Assert.True(line.Length <= 76, line));
        Assert.Equal(new string('a', 75) + "=\r\n" + new string('a', 25) + " =3D =C3=A9=20\r\ntrailing space=20\r\nend\r\n", encoded);
    }

    [Fact]
    public void Encoded_words_never_split_a_character_and_stay_within_75_characters()
    {
        var words = EmailMessage.EncodedWords(new string('ž', 60));

        Assert.All(words, w => Assert.True(w.Length <= 75, w));
        var decoded = string.Concat(words.Select(w => System.Text.Encoding.UTF8.GetString(Convert.FromBase64String(w["=?utf-8?B?".Length..^2]))));
        Assert.Equal(new string('ž', 60), decoded);
    }
}
