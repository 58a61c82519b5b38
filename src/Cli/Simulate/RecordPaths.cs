using HekiActors.Cli.Input;
using HekiActors.Memory;
using HekiActors.Simulation;

namespace HekiActors.Cli.Simulate;

/// <summary>
/// The <c>--record</c> path when both profiles run: each profile's recording goes to a file beside it
/// (<see cref="Scenario.PerProfilePath"/>, <c>run.hardened.jsonl</c>), so the path must name a regular file in a
/// real directory. A device, FIFO or socket (<c>/dev/full</c>, <c>/dev/stdout</c>) cannot be split in two: writing
/// <c>/dev/full.hardened</c> would create regular files among the devices and never reach the device named.
/// </summary>
internal static class RecordPaths
{
    /// <exception cref="UsageException">Both profiles run and <paramref name="record"/> is not a regular file path.</exception>
    public static void CheckSplittable(string? record, IReadOnlyList<SimulationSpec> specs)
    {
        if (record is null || specs.Count < 2)
            return;
        var full = Path.GetFullPath(record);
        var what = RegularFile.NotRegular(record)
            ?? (full.StartsWith("/dev/", StringComparison.Ordinal) || full.StartsWith("/proc/", StringComparison.Ordinal) ? "a device path" : null);
        if (what is null)
            return;
        throw new UsageException($"--record {record} is {what}: with --profile both the recordings go to " +
            $"{Scenario.PerProfilePath(record, HekiProfile.Hardened)} and {Scenario.PerProfilePath(record, HekiProfile.HekiV2)} beside it; " +
            "give a regular file path, or record one profile");
    }
}
