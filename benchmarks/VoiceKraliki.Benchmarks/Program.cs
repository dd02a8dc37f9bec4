using BenchmarkDotNet.Running;

// Pick benchmarks with --filter, e.g.: dotnet run -c Release -- --filter '*SignatureBenchmarks*' --job short
// ('*Signature*' also matches WebhookPipelineBenchmarks.TwilioForgedSignature, which starts Redis and RabbitMQ.)
BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly).Run(args);
