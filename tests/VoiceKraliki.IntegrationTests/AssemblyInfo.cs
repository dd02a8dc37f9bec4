// Every test here runs against one set of real servers and processes; the machine has two cores.
[assembly: CollectionBehavior(DisableTestParallelization = true)]
