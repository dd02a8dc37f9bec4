using VoiceKraliki.AppHost;

try
{
    var builder = DistributedApplication.CreateBuilder(args);
    if (builder.Options.ShowHelp)
    {
        Console.WriteLine(DistributedApplicationOptions.Usage);
        return 0;
    }

    AppModel.Configure(builder);
    await using var app = builder.Build();
    return await app.RunAsync();
}
catch (DistributedApplicationException e)
{
    Console.Error.WriteLine($"error: {e.Message}");
    return 1;
}
