// Each test starts an AppHost (DCP, the API project, engines): one at a time, so their starts do not starve each other on small CI machines.
[assembly: CollectionBehavior(DisableTestParallelization = true)]
