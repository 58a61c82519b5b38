// The ActivitySource, the Meter and the SDK's listeners are process-wide: one test at a time, or one test's
// session would record another's actors.
[assembly: CollectionBehavior(DisableTestParallelization = true)]
