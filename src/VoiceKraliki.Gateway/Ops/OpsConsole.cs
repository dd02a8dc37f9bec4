namespace VoiceKraliki.Gateway.Ops;

internal static class OpsConsole
{
    private const string PageResource = "VoiceKraliki.Gateway.ops.index.html";

    /// <summary>
    /// The operator console (a placeholder until the console issue lands). The page is embedded in the
    /// assembly, so it is served whatever the content root is (the AppHost runs the gateway from bin/).
    /// </summary>
    public static void MapOperatorConsole(this WebApplication app)
    {
        var page = LoadPage();

        // Routing ignores a trailing slash, so one endpoint serves both "/ops" and "/ops/".
        app.MapGet("/ops", (HttpContext context) =>
                context.Request.Path.Value!.EndsWith('/')
                    ? Results.Redirect("/ops")
                    : Results.Bytes(page, "text/html; charset=utf-8"))
            .AllowAnonymous()
            .ExcludeFromDescription();
    }

    private static byte[] LoadPage()
    {
        using var stream = typeof(OpsConsole).Assembly.GetManifestResourceStream(PageResource)
            ?? throw new InvalidOperationException($"The embedded resource '{PageResource}' is missing from the gateway assembly.");
        using var buffer = new MemoryStream();
        stream.CopyTo(buffer);
        return buffer.ToArray();
    }
}
