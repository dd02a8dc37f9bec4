namespace VoiceKraliki.Gateway.Ops;

internal static class OpsConsole
{
    /// <summary>The operator console (a placeholder until the console issue lands).</summary>
    public static void MapOperatorConsole(this WebApplication app)
    {
        var page = Path.Combine(app.Environment.ContentRootPath, "wwwroot", "ops", "index.html");
        app.MapGet("/ops", () => Results.File(page, "text/html; charset=utf-8")).AllowAnonymous().ExcludeFromDescription();
        app.MapGet("/ops/", () => Results.Redirect("/ops")).AllowAnonymous().ExcludeFromDescription();
    }
}
