namespace VoiceKraliki.AppHost.Infrastructure;

/// <summary>Recognises the log lines worth showing on the console: errors and crashes of any of our processes.</summary>
public static class LogLineClassifier
{
    private static readonly string[] Markers =
    [
        "fail:",                // Microsoft.Extensions.Logging simple console formatter
        "crit:",
        "Unhandled exception",
        "FATAL",               // Postgres
        "PANIC",
        "[error]",             // RabbitMQ
        "[critical]",
        " # Failed",           // Redis writes warnings with '#'; failures say so
        " E ",                  // single-letter level formats
    ];

    public static bool IsError(string line)
    {
        foreach (var marker in Markers)
        {
            if (line.Contains(marker, StringComparison.Ordinal))
            {
                return true;
            }
        }

        return false;
    }
}
