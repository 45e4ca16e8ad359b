using BenchmarkDotNet.Running;

if (args.Length > 0 && args[0] == "allocations")
    return await ZeroPg.Benchmarks.AllocationsPerTransaction.RunAsync(args);
if (args.Length > 0 && args[0] == "reset")
    return await ZeroPg.Benchmarks.ResetBenchmark.RunAsync(args);
BenchmarkSwitcher.FromAssembly(typeof(ZeroPg.Benchmarks.FramingBenchmarks).Assembly).Run(args);
return 0;
