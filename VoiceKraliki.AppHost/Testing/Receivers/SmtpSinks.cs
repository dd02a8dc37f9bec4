using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text.Json.Nodes;
using System.Threading.Channels;

namespace VoiceKraliki.AppHost.Testing.Receivers;

/// <summary>
/// A real SMTP server on a free loopback port: a python3 process. <see cref="StartPlainAsync"/> is the standard
/// library's <c>smtpd.SMTPServer</c> (Python 3.11) whose <c>process_message</c> prints each message as one JSON line
/// (peer, mailfrom, rcpttos, the raw data, the headers and body as Python's <c>email</c> package parses them, and its
/// defects); a recipient containing "reject" is refused with 550 at RCPT, "busy" with 451, and a message to "spam"
/// with 554 at the end of DATA. <see cref="StartTlsAsync"/> is a small socketserver SMTP server that offers STARTTLS
/// (with the certificate it is given) and, only after it, AUTH PLAIN/LOGIN, and refuses MAIL before AUTH.
/// </summary>
public sealed class SmtpSink : IAsyncDisposable
{
    private const string PlainScript = """
        import asyncore, email, email.policy, json, smtpd

        class Channel(smtpd.SMTPChannel):
            def smtp_RCPT(self, arg):
                lowered = (arg or '').lower()
                if 'reject' in lowered:
                    self.push('550 5.1.1 no such user here')
                    return
                if 'busy' in lowered:
                    self.push('451 4.3.0 mailbox busy, try again later')
                    return
                super().smtp_RCPT(arg)

        class Sink(smtpd.SMTPServer):
            channel_class = Channel

            def process_message(self, peer, mailfrom, rcpttos, data, **kwargs):
                message = email.message_from_bytes(data, policy=email.policy.default)
                body = message.get_body(preferencelist=('plain',))
                defects = [repr(d) for d in message.defects]
                for name, value in message.items():
                    defects += [name + ': ' + repr(d) for d in getattr(value, 'defects', ())]
                print(json.dumps({
                    'peer': peer[0],
                    'mailfrom': mailfrom,
                    'rcpttos': rcpttos,
                    'raw': data.decode('utf-8', 'replace'),
                    'headers': {name: str(value) for name, value in message.items()},
                    'rawHeaders': {name: value for name, value in message.raw_items()},
                    'contentType': message.get_content_type(),
                    'charset': message.get_content_charset(),
                    'body': body.get_content() if body is not None else None,
                    'defects': defects,
                }), flush=True)
                if any('spam' in r for r in rcpttos):
                    return '554 5.7.1 message refused as spam'
                return None

        server = Sink(('127.0.0.1', 0), None, decode_data=False)
        print(json.dumps({'port': server.socket.getsockname()[1]}), flush=True)
        asyncore.loop(timeout=0.1)
        """;

    private const string TlsScript = """
        import base64, json, socketserver, ssl, sys

        certfile, keyfile, user, password = sys.argv[1:5]
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(certfile, keyfile)

        class Handler(socketserver.StreamRequestHandler):
            def reply(self, text):
                self.wfile.write((text + '\r\n').encode('ascii'))
                self.wfile.flush()

            def handle(self):
                tls, authenticated, commands, mailfrom, rcpts = False, None, [], None, []
                self.reply('220 tls-sink ESMTP ready')
                while True:
                    line = self.rfile.readline()
                    if not line:
                        return
                    text = line.decode('utf-8', 'replace').rstrip('\r\n')
                    parts = text.split(' ')
                    verb = parts[0].upper()
                    commands.append({'command': verb + (' ' + parts[1].upper() if verb == 'AUTH' else ''), 'tls': tls})
                    if verb == 'EHLO':
                        lines = ['tls-sink greets ' + parts[1], 'AUTH PLAIN LOGIN' if tls else 'STARTTLS', '8BITMIME']
                        for i, l in enumerate(lines):
                            self.reply(('250 ' if i == len(lines) - 1 else '250-') + l)
                    elif verb == 'STARTTLS' and not tls:
                        self.reply('220 2.0.0 ready to start TLS')
                        self.connection = context.wrap_socket(self.connection, server_side=True)
                        self.rfile = self.connection.makefile('rb')
                        self.wfile = self.connection.makefile('wb')
                        tls = True
                    elif verb == 'AUTH' and tls:
                        mechanism = parts[1].upper()
                        if mechanism == 'PLAIN':
                            _, given_user, given_password = base64.b64decode(parts[2]).decode('utf-8').split('\0')
                        else:
                            self.reply('334 VXNlcm5hbWU6')
                            given_user = base64.b64decode(self.rfile.readline().strip()).decode('utf-8')
                            self.reply('334 UGFzc3dvcmQ6')
                            given_password = base64.b64decode(self.rfile.readline().strip()).decode('utf-8')
                        if given_user == user and given_password == password:
                            authenticated = given_user
                            self.reply('235 2.7.0 authentication succeeded')
                        else:
                            self.reply('535 5.7.8 authentication credentials invalid')
                    elif verb == 'MAIL':
                        if authenticated is None:
                            self.reply('530 5.7.0 authentication required')
                        else:
                            mailfrom = text[10:].strip('<>')
                            self.reply('250 2.1.0 ok')
                    elif verb == 'RCPT':
                        rcpts.append(text[8:].strip('<>'))
                        self.reply('250 2.1.5 ok')
                    elif verb == 'DATA':
                        self.reply('354 end data with <CR><LF>.<CR><LF>')
                        data = []
                        while True:
                            l = self.rfile.readline()
                            if not l:
                                return
                            if l == b'.\r\n':
                                break
                            data.append(l[1:] if l.startswith(b'.') else l)
                        print(json.dumps({'tls': tls, 'user': authenticated, 'mailfrom': mailfrom, 'rcpttos': rcpts,
                                          'commands': commands, 'raw': b''.join(data).decode('utf-8', 'replace')}), flush=True)
                        self.reply('250 2.0.0 queued')
                    elif verb == 'QUIT':
                        self.reply('221 2.0.0 bye')
                        return
                    else:
                        self.reply('502 5.5.2 command not recognized')

        socketserver.ThreadingTCPServer.daemon_threads = True
        server = socketserver.ThreadingTCPServer(('127.0.0.1', 0), Handler)
        print(json.dumps({'port': server.server_address[1]}), flush=True)
        server.serve_forever()
        """;

    private readonly Process _process;
    private readonly Channel<JsonNode> _messages = Channel.CreateUnbounded<JsonNode>();
    private readonly List<string> _errors = [];
    private readonly string? _directory;

    private SmtpSink(Process process, string? directory)
    {
        _process = process;
        _directory = directory;
    }

    public int Port { get; private set; }

    /// <summary>The TLS sink's certificate, to trust it by its hash.</summary>
    public X509Certificate2? Certificate { get; private set; }

    public static Task<SmtpSink> StartPlainAsync() => StartAsync(PlainScript, [], null, null);

    public static Task<SmtpSink> StartTlsAsync(string user, string password)
    {
        var directory = Directory.CreateTempSubdirectory("vk-smtp-").FullName;
        using var key = RSA.Create(2048);
        var request = new CertificateRequest("CN=localhost", key, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        var names = new SubjectAlternativeNameBuilder();
        names.AddIpAddress(IPAddress.Loopback);
        names.AddDnsName("localhost");
        request.CertificateExtensions.Add(names.Build());
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([new System.Security.Cryptography.Oid("1.3.6.1.5.5.7.3.1")], false));
        var certificate = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(1));
        var certFile = Path.Combine(directory, "cert.pem");
        var keyFile = Path.Combine(directory, "key.pem");
        File.WriteAllText(certFile, certificate.ExportCertificatePem());
        File.WriteAllText(keyFile, key.ExportPkcs8PrivateKeyPem());
        return StartAsync(TlsScript, [certFile, keyFile, user, password], directory, certificate);
    }

    /// <summary>The next message the server accepted (or at least saw: the plain sink prints before answering).</summary>
    public async Task<JsonNode> NextMessageAsync(TimeSpan? timeout = null)
    {
        using var cts = new CancellationTokenSource(timeout ?? TimeSpan.FromSeconds(10));
        try
        {
            return await _messages.Reader.ReadAsync(cts.Token);
        }
        catch (OperationCanceledException)
        {
            throw new TimeoutException("The SMTP sink received no message. stderr: " + string.Join("\n", _errors));
        }
    }

    /// <summary>True when no message arrived within <paramref name="wait"/>.</summary>
    public async Task<bool> NothingArrivesAsync(TimeSpan wait)
    {
        await Task.Delay(wait);
        return !_messages.Reader.TryPeek(out _);
    }

    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
        }

        await _process.WaitForExitAsync();
        _process.Dispose();
        Certificate?.Dispose();
        if (_directory is not null)
        {
            Directory.Delete(_directory, recursive: true);
        }
    }

    private static async Task<SmtpSink> StartAsync(string script, string[] arguments, string? directory, X509Certificate2? certificate)
    {
        var start = new ProcessStartInfo("python3")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var argument in (string[])["-W", "ignore", "-u", "-c", script, .. arguments])
        {
            start.ArgumentList.Add(argument);
        }

        var process = Process.Start(start) ?? throw new InvalidOperationException("python3 did not start.");
        var sink = new SmtpSink(process, directory) { Certificate = certificate };
        process.ErrorDataReceived += (_, e) =>
        {
            if (e.Data is not null)
            {
                lock (sink._errors)
                {
                    sink._errors.Add(e.Data);
                }
            }
        };
        process.BeginErrorReadLine();

        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(20));
        var first = await process.StandardOutput.ReadLineAsync(timeout.Token)
                    ?? throw new InvalidOperationException("The SMTP sink exited: " + string.Join("\n", sink._errors));
        sink.Port = JsonNode.Parse(first)!["port"]!.GetValue<int>();
        _ = Task.Run(async () =>
        {
            while (await process.StandardOutput.ReadLineAsync() is { } line)
            {
                sink._messages.Writer.TryWrite(JsonNode.Parse(line)!);
            }
        });
        return sink;
    }
}

/// <summary>A TCP server on loopback that accepts connections and never says a word: an SMTP server that hangs.</summary>
public sealed class SilentServer : IDisposable
{
    private readonly TcpListener _listener = new(IPAddress.Loopback, 0);
    private readonly List<TcpClient> _accepted = [];

    public SilentServer()
    {
        _listener.Start();
        _ = Task.Run(async () =>
        {
            try
            {
                while (true)
                {
                    var client = await _listener.AcceptTcpClientAsync();
                    lock (_accepted)
                    {
                        _accepted.Add(client);
                    }
                }
            }
            catch (Exception e) when (e is SocketException or ObjectDisposedException)
            {
                // Stopped.
            }
        });
    }

    public int Port => ((IPEndPoint)_listener.LocalEndpoint).Port;

    public void Dispose()
    {
        _listener.Stop();
        lock (_accepted)
        {
            _accepted.ForEach(c => c.Dispose());
        }
    }
}

/// <summary>A loopback port with nothing listening: connections to it are refused.</summary>
public static class ClosedPort
{
    public static int Find()
    {
        var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var port = ((IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop();
        return port;
    }
}
