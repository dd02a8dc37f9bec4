using System.Globalization;
using System.Text;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace VoiceKraliki.Alerting.Notifications.Channels;

/// <summary>
/// Email over SMTP, with our own small RFC 5321 client (the framework's SmtpClient is obsolete and hides the replies).
/// Settings: <c>host</c>, <c>port</c> (25), <c>from</c>, <c>to</c> (comma-separated), <c>starttls</c>
/// (<c>none</c> | <c>opportunistic</c>, the default: when the server offers it | <c>required</c>), <c>username</c> with the
/// secret <c>password</c> (AUTH PLAIN, else LOGIN, and only over TLS). A 4xx reply, a timeout or a refused connection may
/// pass; a 5xx reply or a failed certificate check will not. Any rejected recipient stops the whole message, as in
/// Alertmanager, so a retry never mails the others twice.
/// </summary>
public sealed class EmailChannel(TimeProvider time, IOptions<ChannelDeliveryOptions> options, ILogger<EmailChannel> logger) : INotificationChannel
{
    public const string HostSetting = "host";
    public const string PortSetting = "port";
    public const string FromSetting = "from";
    public const string ToSetting = "to";
    public const string StartTlsSetting = "starttls";
    public const string UsernameSetting = "username";
    public const string PasswordSecret = "password";
    public const int DefaultPort = 25;
    public const int MaxRecipients = 50;

    public static readonly IReadOnlyList<string> StartTlsModes = ["none", "opportunistic", "required"];

    private static readonly string[] Settings = [HostSetting, PortSetting, FromSetting, ToSetting, StartTlsSetting, UsernameSetting];

    public string Type => ChannelTypes.Email;

    public IReadOnlyDictionary<string, string> Validate(ChannelConfig config)
    {
        var check = new ChannelConfigCheck(config, Type, Settings, [PasswordSecret]);
        Parse(config, check);
        return check.Errors;
    }

    public async Task<DeliveryResult> SendAsync(ChannelConfig config, Notification notification, CancellationToken cancellationToken)
    {
        var check = new ChannelConfigCheck(config, Type, Settings, [PasswordSecret]);
        var settings = Parse(config, check);
        if (settings is null || check.Errors.Count > 0)
        {
            return new DeliveryResult(DeliveryOutcome.Failed, Error: "The email settings cannot be used: " + string.Join("; ", check.Errors.Select(e => $"{e.Key} {e.Value}")));
        }

        var where = $"{settings.Host}:{settings.Port}";
        try
        {
            var (tls, authenticated) = await ExchangeAsync(config, settings, notification, cancellationToken).ConfigureAwait(false);
            ChannelLog.SmtpSent(logger, config.Name, config.Id, where, settings.To.Count, tls, authenticated);
            return DeliveryResult.Delivered(250);
        }
        catch (SmtpException e)
        {
            var error = AlertDigest.Truncate(AlertDigest.OneLine(SecretScrubber.Scrub(e.Message, config)), 500);
            ChannelLog.SmtpFailed(logger, config.Name, config.Id, where, error);
            return new DeliveryResult(e.Outcome, e.Code, null, error);
        }
        catch (Exception e) when (e is IOException or ObjectDisposedException && !cancellationToken.IsCancellationRequested)
        {
            var error = $"The connection to {where} failed: {HttpNotificationChannel.Describe(e, config)}";
            ChannelLog.SmtpFailed(logger, config.Name, config.Id, where, error);
            return new DeliveryResult(DeliveryOutcome.Retry, Error: error);
        }
    }

    private async Task<(bool Tls, bool Authenticated)> ExchangeAsync(ChannelConfig config, EmailSettings settings, Notification notification, CancellationToken cancellationToken)
    {
        var o = options.Value;
        var commandTimeout = o.SmtpCommandTimeout;
        await using var smtp = await SmtpSession.ConnectAsync(settings.Host, settings.Port, o.SmtpConnectTimeout, time, cancellationToken).ConfigureAwait(false);

        async Task<SmtpReply> Expect(Task<SmtpReply> pending, string step, params int[] codes)
        {
            var reply = await pending.ConfigureAwait(false);
            ChannelLog.SmtpReplied(logger, config.Name, config.Id, smtp.Host, reply.Code, step);
            if (Array.IndexOf(codes, reply.Code) < 0)
            {
                var outcome = reply.Code is >= 400 and < 500 ? DeliveryOutcome.Retry : DeliveryOutcome.Failed;
                throw new SmtpException(outcome, reply.Code, $"{smtp.Host} answered {reply.Code} to {step}: {AlertDigest.Truncate(reply.Text, 300)}");
            }

            return reply;
        }

        await Expect(smtp.ReadReplyAsync("the greeting", commandTimeout, cancellationToken), "the greeting", 220).ConfigureAwait(false);
        var extensions = await HelloAsync(smtp, commandTimeout, Expect, cancellationToken).ConfigureAwait(false);

        var offersTls = extensions.ContainsKey("STARTTLS");
        if (settings.StartTls == "required" && !offersTls)
        {
            throw new SmtpException(DeliveryOutcome.Failed, null, $"{smtp.Host} does not offer STARTTLS, and settings.starttls is 'required'.");
        }

        if (settings.StartTls != "none" && offersTls)
        {
            await Expect(smtp.CommandAsync("STARTTLS", "STARTTLS", commandTimeout, cancellationToken), "STARTTLS", 220).ConfigureAwait(false);
            await smtp.StartTlsAsync(settings.Host, o.SmtpCertificateValidation, o.SmtpConnectTimeout, cancellationToken).ConfigureAwait(false);
            // RFC 3207 §4.2: forget what was learnt before TLS and ask again.
            extensions = await HelloAsync(smtp, commandTimeout, Expect, cancellationToken).ConfigureAwait(false);
        }

        var authenticated = false;
        if (settings.Password is { } password)
        {
            if (!smtp.IsTls)
            {
                throw new SmtpException(DeliveryOutcome.Failed, null,
                    $"{smtp.Host} did not offer STARTTLS, and credentials are never sent in the clear.");
            }

            var mechanisms = extensions.TryGetValue("AUTH", out var offered)
                ? offered.Split(' ', StringSplitOptions.RemoveEmptyEntries).Select(m => m.ToUpperInvariant()).ToHashSet(StringComparer.Ordinal)
                : [];
            if (mechanisms.Contains("PLAIN"))
            {
                var token = Convert.ToBase64String(Encoding.UTF8.GetBytes($"\0{settings.Username}\0{password}"));
                await Expect(smtp.CommandAsync($"AUTH PLAIN {token}", "AUTH PLAIN", commandTimeout, cancellationToken), "AUTH PLAIN", 235).ConfigureAwait(false);
            }
            else if (mechanisms.Contains("LOGIN"))
            {
                await Expect(smtp.CommandAsync("AUTH LOGIN", "AUTH LOGIN", commandTimeout, cancellationToken), "AUTH LOGIN", 334).ConfigureAwait(false);
                var user = Convert.ToBase64String(Encoding.UTF8.GetBytes(settings.Username!));
                await Expect(smtp.CommandAsync(user, "AUTH LOGIN (username)", commandTimeout, cancellationToken), "AUTH LOGIN (username)", 334).ConfigureAwait(false);
                var secret = Convert.ToBase64String(Encoding.UTF8.GetBytes(password));
                await Expect(smtp.CommandAsync(secret, "AUTH LOGIN (password)", commandTimeout, cancellationToken), "AUTH LOGIN (password)", 235).ConfigureAwait(false);
            }
            else
            {
                throw new SmtpException(DeliveryOutcome.Failed, null, $"{smtp.Host} offers no AUTH mechanism we speak (PLAIN, LOGIN).");
            }

            authenticated = true;
        }

        await Expect(smtp.CommandAsync($"MAIL FROM:<{settings.From}>", "MAIL FROM", commandTimeout, cancellationToken), "MAIL FROM", 250).ConfigureAwait(false);
        foreach (var recipient in settings.To)
        {
            await Expect(smtp.CommandAsync($"RCPT TO:<{recipient}>", $"RCPT TO <{recipient}>", commandTimeout, cancellationToken), $"RCPT TO <{recipient}>", 250, 251).ConfigureAwait(false);
        }

        await Expect(smtp.CommandAsync("DATA", "DATA", commandTimeout, cancellationToken), "DATA", 354).ConfigureAwait(false);
        var message = EmailMessage.Build(notification, settings.From, settings.To, time.GetUtcNow(), EmailMessage.NewMessageId(settings.From));
        await Expect(smtp.SendDataAsync(message, o.SmtpDataTimeout, cancellationToken), "the message", 250).ConfigureAwait(false);

        try
        {
            await smtp.CommandAsync("QUIT", "QUIT", commandTimeout, cancellationToken).ConfigureAwait(false);
        }
        catch (SmtpException)
        {
            // The message is accepted; a server that hangs up without a goodbye changes nothing.
        }

        return (smtp.IsTls, authenticated);
    }

    /// <summary>EHLO (falling back to HELO for a server that knows no extensions): the extensions offered, keyword → parameters.</summary>
    private static async Task<Dictionary<string, string>> HelloAsync(
        SmtpSession smtp,
        TimeSpan timeout,
        Func<Task<SmtpReply>, string, int[], Task<SmtpReply>> expect,
        CancellationToken cancellationToken)
    {
        var reply = await smtp.CommandAsync($"EHLO {smtp.LocalAddressLiteral}", "EHLO", timeout, cancellationToken).ConfigureAwait(false);
        if (reply.Code is 500 or 502 or 504)
        {
            await expect(smtp.CommandAsync($"HELO {smtp.LocalAddressLiteral}", "HELO", timeout, cancellationToken), "HELO", [250]).ConfigureAwait(false);
            return new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        }

        await expect(Task.FromResult(reply), "EHLO", [250]).ConfigureAwait(false);
        var extensions = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        foreach (var line in reply.Lines.Skip(1))
        {
            var space = line.IndexOf(' ', StringComparison.Ordinal);
            var keyword = space < 0 ? line : line[..space];
            extensions.TryAdd(keyword.Trim(), space < 0 ? "" : line[(space + 1)..].Trim());
        }

        return extensions;
    }

    private static EmailSettings? Parse(ChannelConfig config, ChannelConfigCheck check)
    {
        var host = check.Setting(HostSetting)?.Trim();
        if (string.IsNullOrEmpty(host))
        {
            check.Add($"settings.{HostSetting}", "is required: the SMTP server's host name or IP address.");
        }
        else if (Uri.CheckHostName(host) == UriHostNameType.Unknown)
        {
            check.Add($"settings.{HostSetting}", "must be a host name or an IP address (the port goes in settings.port).");
        }

        var port = DefaultPort;
        if (check.Setting(PortSetting) is { } portText
            && (!int.TryParse(portText, NumberStyles.None, CultureInfo.InvariantCulture, out port) || port is < 1 or > 65535))
        {
            check.Add($"settings.{PortSetting}", "must be a port number from 1 to 65535.");
        }

        var from = check.Setting(FromSetting)?.Trim();
        if (!EmailMessage.IsAddress(from))
        {
            check.Add($"settings.{FromSetting}", "must be an email address (local@domain, ASCII, no display name).");
        }

        var to = (check.Setting(ToSetting) ?? "").Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .Distinct(StringComparer.OrdinalIgnoreCase).ToArray();
        if (to.Length == 0)
        {
            check.Add($"settings.{ToSetting}", "is required: one or more email addresses, comma-separated.");
        }
        else if (to.FirstOrDefault(a => !EmailMessage.IsAddress(a)) is { } bad)
        {
            check.Add($"settings.{ToSetting}", $"must be email addresses (local@domain, ASCII), comma-separated; '{AlertDigest.Truncate(AlertDigest.OneLine(bad), 80)}' is not one.");
        }
        else if (to.Length > MaxRecipients)
        {
            check.Add($"settings.{ToSetting}", $"may list at most {MaxRecipients} addresses.");
        }

        var startTls = check.Setting(StartTlsSetting)?.Trim().ToLowerInvariant() ?? "opportunistic";
        if (!StartTlsModes.Contains(startTls))
        {
            check.Add($"settings.{StartTlsSetting}", $"must be one of: {string.Join(", ", StartTlsModes)}.");
        }

        var username = check.Setting(UsernameSetting);
        var password = check.Secret(PasswordSecret);
        if (password is not null && string.IsNullOrEmpty(username))
        {
            check.Add($"settings.{UsernameSetting}", "is required with secrets.password.");
        }
        else if (username is not null && (username.Length == 0 || username.Length > 256 || username.Any(char.IsControl)))
        {
            check.Add($"settings.{UsernameSetting}", "must be 1 to 256 characters without control characters.");
        }

        if (username is not null && string.IsNullOrEmpty(password))
        {
            check.Add($"secrets.{PasswordSecret}", "is required with settings.username.");
        }
        else if (password is not null && (password.Length > 1024 || password.Contains('\0', StringComparison.Ordinal)))
        {
            check.Add($"secrets.{PasswordSecret}", "must be at most 1024 characters without NUL.");
        }

        if (password is not null && startTls == "none")
        {
            check.Add($"settings.{StartTlsSetting}", "must be 'opportunistic' or 'required' with a password: credentials are only sent over TLS.");
        }

        return check.Errors.Count > 0 ? null : new EmailSettings(host!, port, from!, to, startTls, username, password);
    }

    private sealed record EmailSettings(string Host, int Port, string From, IReadOnlyList<string> To, string StartTls, string? Username, string? Password);
}
