using BenchmarkDotNet.Running;

// Pick benchmarks with --filter, e.g.: dotnet run -c Release -- --filter '*SignatureBenchmarks*' --job short
// ('*Signature*' also matches WebhookPipelineBenchmarks.TwilioForgedSignature, which starts Redis and RabbitMQ.)
// call-state-throughput [--calls N] is a sustained-rate run of its own (CallStateThroughput), not a BenchmarkDotNet one.
if (args.Length > 0 && args[0] == VoiceKraliki.Benchmarks.CallStateThroughput.Command)
{
    return await VoiceKraliki.Benchmarks.CallStateThroughput.RunAsync(args[1..]);
}

// media-stream-capacity [--streams 10,25,...] [--seconds 20]: concurrent real-time streams one media-bridge sustains (MediaStreamCapacity).
if (args.Length > 0 && args[0] == VoiceKraliki.Benchmarks.MediaStreamCapacity.Command)
{
    return await VoiceKraliki.Benchmarks.MediaStreamCapacity.RunAsync(args[1..]);
}

BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly).Run(args);
return 0;
