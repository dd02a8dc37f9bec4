using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using System.Security.Authentication;
using System.Text;

namespace VoiceKraliki.Alerting.Notifications.Channels;

/// <summary>An SMTP reply: its code and the text of each line (RFC 5321 §4.2).</summary>
internal sealed record SmtpReply(int Code, IReadOnlyList<string> Lines)
{
    public string Text => string.Join(" ", Lines);
}

/// <summary>Why an SMTP exchange stopped, and whether trying again could help: 4xx, timeouts and lost connections may pass; 5xx will not.</summary>
internal sealed class SmtpException(DeliveryOutcome outcome, int? code, string message) : Exception(message)
{
    public DeliveryOutcome Outcome { get; } = outcome;

    public int? Code { get; } = code;
}

/// <summary>
/// One client connection to an SMTP server (RFC 5321), over TCP and, after STARTTLS (RFC 3207), TLS. Reads replies
/// line by line (multi-line replies joined), writes commands with CRLF, and puts a timeout on every step; a step that
/// times out or a connection that drops is an <see cref="SmtpException"/> that may pass.
/// </summary>
internal sealed class SmtpSession : IAsyncDisposable
{
    private const int MaxLineLength = 4096;
    private const int MaxReplyLines = 100;

    private readonly TcpClient _tcp;
    private readonly TimeProvider _time;
    private readonly byte[] _buffer = new byte[8192];
    private Stream _stream;
    private int _start;
    private int _end;

    private SmtpSession(TcpClient tcp, string host, TimeProvider time)
    {
        _tcp = tcp;
        _time = time;
        _stream = tcp.GetStream();
        Host = host;
    }

    /// <summary>The server as we may name it: host and port, no credentials.</summary>
    public string Host { get; }

    public bool IsTls => _stream is SslStream;

    /// <summary>Our side of the connection as an RFC 5321 address literal, for EHLO: <c>[192.0.2.1]</c> or <c>[IPv6:…]</c>.</summary>
    public string LocalAddressLiteral
    {
        get
        {
            if (_tcp.Client.LocalEndPoint is not IPEndPoint { Address: var address })
            {
                return "[127.0.0.1]";
            }

            if (address.IsIPv4MappedToIPv6)
            {
                address = address.MapToIPv4();
            }

            return address.AddressFamily == AddressFamily.InterNetworkV6 ? $"[IPv6:{address}]" : $"[{address}]";
        }
    }

    public static async Task<SmtpSession> ConnectAsync(string host, int port, TimeSpan timeout, TimeProvider time, CancellationToken cancellationToken)
    {
        var where = $"{host}:{port}";
        var tcp = new TcpClient { NoDelay = true };
        try
        {
            using var limit = new StepTimeout(timeout, time, cancellationToken);
            try
            {
                await tcp.ConnectAsync(host, port, limit.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (limit.TimedOut && !cancellationToken.IsCancellationRequested)
            {
                throw new SmtpException(DeliveryOutcome.Retry, null, $"Connecting to {where} timed out after {timeout.TotalSeconds:F0} s.");
            }
            catch (SocketException e)
            {
                throw new SmtpException(DeliveryOutcome.Retry, null, $"Could not connect to {where}: {e.SocketErrorCode}.");
            }

            return new SmtpSession(tcp, where, time);
        }
        catch
        {
            tcp.Dispose();
            throw;
        }
    }

    /// <summary>Reads one reply (all its lines) within <paramref name="timeout"/>.</summary>
    public async Task<SmtpReply> ReadReplyAsync(string step, TimeSpan timeout, CancellationToken cancellationToken)
    {
        using var limit = new StepTimeout(timeout, _time, cancellationToken);
        try
        {
            var lines = new List<string>();
            while (true)
            {
                var line = await ReadLineAsync(step, limit.Token).ConfigureAwait(false);
                if (line.Length < 3 || !char.IsAsciiDigit(line[0]) || !char.IsAsciiDigit(line[1]) || !char.IsAsciiDigit(line[2])
                    || (line.Length > 3 && line[3] != ' ' && line[3] != '-'))
                {
                    throw new SmtpException(DeliveryOutcome.Retry, null, $"{Host} sent a malformed reply to {step}.");
                }

                lines.Add(line.Length > 4 ? line[4..] : "");
                if (line.Length == 3 || line[3] == ' ')
                {
                    return new SmtpReply(((line[0] - '0') * 100) + ((line[1] - '0') * 10) + (line[2] - '0'), lines);
                }

                if (lines.Count > MaxReplyLines)
                {
                    throw new SmtpException(DeliveryOutcome.Retry, null, $"{Host} sent a reply of over {MaxReplyLines} lines to {step}.");
                }
            }
        }
        catch (OperationCanceledException) when (limit.TimedOut && !cancellationToken.IsCancellationRequested)
        {
            throw new SmtpException(DeliveryOutcome.Retry, null, $"{Host} did not answer {step} within {timeout.TotalSeconds:F0} s.");
        }
    }

    /// <summary>Sends one command line and reads its reply. <paramref name="step"/> names it in errors (never the line: it may hold credentials).</summary>
    public async Task<SmtpReply> CommandAsync(string line, string step, TimeSpan timeout, CancellationToken cancellationToken)
    {
        await WriteAsync(Encoding.ASCII.GetBytes(line + "\r\n"), step, timeout, cancellationToken).ConfigureAwait(false);
        return await ReadReplyAsync(step, timeout, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// Sends the message after a 354 with its lines dot-stuffed (RFC 5321 §4.5.2: a line starting with '.' gets one
    /// more), ended by CRLF.CRLF, and reads the server's verdict.
    /// </summary>
    public async Task<SmtpReply> SendDataAsync(string message, TimeSpan timeout, CancellationToken cancellationToken)
    {
        var stuffed = new StringBuilder(message.Length + 64);
        if (message.StartsWith('.'))
        {
            stuffed.Append('.');
        }

        stuffed.Append(message.Replace("\r\n.", "\r\n..", StringComparison.Ordinal));
        if (!message.EndsWith("\r\n", StringComparison.Ordinal))
        {
            stuffed.Append("\r\n");
        }

        stuffed.Append(".\r\n");
        await WriteAsync(Encoding.ASCII.GetBytes(stuffed.ToString()), "the message", timeout, cancellationToken).ConfigureAwait(false);
        return await ReadReplyAsync("the end of the message", timeout, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Upgrades the connection to TLS after the server's 220 to STARTTLS, checking its certificate.</summary>
    public async Task StartTlsAsync(string targetHost, RemoteCertificateValidationCallback? validation, TimeSpan timeout, CancellationToken cancellationToken)
    {
        if (_end > _start)
        {
            // Anything the server sent before the handshake could be an attacker's injected reply (CVE-2011-0411).
            throw new SmtpException(DeliveryOutcome.Failed, null, $"{Host} sent data after its STARTTLS reply; refusing to continue.");
        }

        var tls = new SslStream(_stream, leaveInnerStreamOpen: false);
        using var limit = new StepTimeout(timeout, _time, cancellationToken);
        try
        {
            await tls.AuthenticateAsClientAsync(
                new SslClientAuthenticationOptions { TargetHost = targetHost, RemoteCertificateValidationCallback = validation },
                limit.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (limit.TimedOut && !cancellationToken.IsCancellationRequested)
        {
            await tls.DisposeAsync().ConfigureAwait(false);
            throw new SmtpException(DeliveryOutcome.Retry, null, $"The TLS handshake with {Host} timed out.");
        }
        catch (AuthenticationException e)
        {
            await tls.DisposeAsync().ConfigureAwait(false);
            throw new SmtpException(DeliveryOutcome.Failed, null, $"The TLS handshake with {Host} failed: {e.Message}");
        }
        catch (IOException e)
        {
            await tls.DisposeAsync().ConfigureAwait(false);
            throw new SmtpException(DeliveryOutcome.Retry, null, $"The TLS handshake with {Host} broke off: {e.Message}");
        }

        _stream = tls;
        _start = _end = 0;
    }

    public async ValueTask DisposeAsync()
    {
        try
        {
            await _stream.DisposeAsync().ConfigureAwait(false);
        }
        catch (IOException)
        {
            // Closing a connection the server already dropped.
        }

        _tcp.Dispose();
    }

    private async Task WriteAsync(byte[] bytes, string step, TimeSpan timeout, CancellationToken cancellationToken)
    {
        using var limit = new StepTimeout(timeout, _time, cancellationToken);
        try
        {
            await _stream.WriteAsync(bytes, limit.Token).ConfigureAwait(false);
            await _stream.FlushAsync(limit.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (limit.TimedOut && !cancellationToken.IsCancellationRequested)
        {
            throw new SmtpException(DeliveryOutcome.Retry, null, $"Sending {step} to {Host} timed out.");
        }
        catch (IOException)
        {
            throw new SmtpException(DeliveryOutcome.Retry, null, $"{Host} closed the connection while we sent {step}.");
        }
    }

    private async Task<string> ReadLineAsync(string step, CancellationToken cancellationToken)
    {
        while (true)
        {
            var newline = Array.IndexOf(_buffer, (byte)'\n', _start, _end - _start);
            if (newline >= 0)
            {
                var length = newline - _start;
                if (length > 0 && _buffer[newline - 1] == (byte)'\r')
                {
                    length--;
                }

                var line = Encoding.Latin1.GetString(_buffer, _start, length);
                _start = newline + 1;
                return line;
            }

            if (_end - _start >= MaxLineLength)
            {
                throw new SmtpException(DeliveryOutcome.Retry, null, $"{Host} sent a reply line of over {MaxLineLength} bytes to {step}.");
            }

            if (_start > 0)
            {
                Buffer.BlockCopy(_buffer, _start, _buffer, 0, _end - _start);
                _end -= _start;
                _start = 0;
            }

            int read;
            try
            {
                read = await _stream.ReadAsync(_buffer.AsMemory(_end), cancellationToken).ConfigureAwait(false);
            }
            catch (IOException)
            {
                throw new SmtpException(DeliveryOutcome.Retry, null, $"{Host} closed the connection before answering {step}.");
            }

            if (read == 0)
            {
                throw new SmtpException(DeliveryOutcome.Retry, null, $"{Host} closed the connection before answering {step}.");
            }

            _end += read;
        }
    }

    /// <summary>One step's timeout, on the TimeProvider like every other wait here, linked to the caller's token.</summary>
    private readonly struct StepTimeout : IDisposable
    {
        private readonly CancellationTokenSource _timer;
        private readonly CancellationTokenSource _linked;

        public StepTimeout(TimeSpan timeout, TimeProvider time, CancellationToken cancellationToken)
        {
            _timer = new CancellationTokenSource(timeout, time);
            _linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, _timer.Token);
        }

        public CancellationToken Token => _linked.Token;

        public bool TimedOut => _timer.IsCancellationRequested;

        public void Dispose()
        {
            _linked.Dispose();
            _timer.Dispose();
        }
    }
}
