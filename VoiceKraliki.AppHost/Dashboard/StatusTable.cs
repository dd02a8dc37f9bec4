using System.Globalization;
using VoiceKraliki.AppHost.Orchestration;

namespace VoiceKraliki.AppHost.Dashboard;

/// <summary>Formats resource states for the console.</summary>
internal static class StatusTable
{
    private static readonly string[] Headers = ["RESOURCE", "STATE", "URL", "PIDS", "RESTARTS", ""];

    public static IReadOnlyList<string> Render(IReadOnlyList<ResourceSnapshot> resources, int width)
    {
        var rows = new List<string[]> { Headers };
        rows.AddRange(resources.Select(r => new[]
        {
            r.Name,
            r.State.ToString(),
            Url(r),
            r.ProcessIds.Count == 0 ? "-" : string.Join(',', r.ProcessIds),
            r.Restarts.ToString(CultureInfo.InvariantCulture),
            r.Message ?? "",
        }));

        var widths = Enumerable.Range(0, Headers.Length).Select(c => rows.Max(row => row[c].Length)).ToArray();
        return [.. rows.Select(row =>
        {
            var line = string.Join("  ", row.Select((cell, c) => c == row.Length - 1 ? cell : cell.PadRight(widths[c]))).TrimEnd();
            // A wrapped line would break redrawing in place.
            return line.Length >= width ? line[..(width - 2)] + "…" : line;
        })];
    }

    public static string FormatChange(ResourceSnapshot resource, DateTimeOffset now)
    {
        var pids = resource.ProcessIds.Count == 0 ? "" : $"  pid {string.Join(',', resource.ProcessIds)}";
        var restarts = resource.Restarts > 0 ? $"  restarts {resource.Restarts}" : "";
        var message = resource.Message is null ? "" : $"  ({resource.Message})";
        return $"{now:HH:mm:ss} {resource.Name,-16} {resource.State,-10} {Url(resource)}{pids}{restarts}{message}";
    }

    private static string Url(ResourceSnapshot resource) => resource.Urls.Count switch
    {
        0 => "",
        1 => resource.Urls[0],
        _ => $"{resource.Urls[0]} (+{resource.Urls.Count - 1})",
    };
}
