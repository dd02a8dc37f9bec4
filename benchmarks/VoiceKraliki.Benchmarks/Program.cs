using BenchmarkDotNet.Running;

// Pick benchmarks with --filter, e.g.: dotnet run -c Release -- --filter '*Signature*' --job short
BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly).Run(args);
