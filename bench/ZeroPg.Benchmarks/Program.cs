using BenchmarkDotNet.Running;

BenchmarkSwitcher.FromAssembly(typeof(ZeroPg.Benchmarks.FramingBenchmarks).Assembly).Run(args);
