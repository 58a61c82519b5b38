using HekiActors.Cli.Replay;
using HekiActors.Memory;
using Microsoft.Extensions.Time.Testing;

namespace HekiActors.Cli.Tests;

/// <summary>Runs a replay in-process with captured stdout and stderr and a frozen warning clock.</summary>
internal static class ReplayHarness
{
    public static readonly string[] Profiles = [HekiProfiles.HardenedName, HekiProfiles.HekiV2Name];

    public static HekiProfile Profile(string name) =>
        HekiProfiles.TryParse(name, out var profile) ? profile : throw new ArgumentException($"unknown profile {name}", nameof(name));

    public static Task<ReplayRun> Run(string script, string profile) => Run(ReplayRunner.StandardInput, script, profile);

    public static async Task<ReplayRun> Run(string source, string stdinText, string profile)
    {
        var stdout = new StringWriter { NewLine = "\n" };
        var stderr = new StringWriter { NewLine = "\n" };
        // Frozen time: the 5 s rate-limit interval never ends mid-run, however slow the machine.
        var clock = new FakeTimeProvider(DateTimeOffset.Parse("2026-11-25T00:00:00Z", System.Globalization.CultureInfo.InvariantCulture));
        var exit = await ReplayRunner.RunAsync(source, Profile(profile), new MemoryStream(System.Text.Encoding.UTF8.GetBytes(stdinText)), stdout, stderr, clock);
        return new ReplayRun(exit, Lines(stdout.ToString()), Lines(stderr.ToString()));
    }

    public static string[] Lines(string text) =>
        text.Length == 0 ? [] : text.TrimEnd('\n').Split('\n');
}

/// <summary>What one replay printed and returned.</summary>
internal sealed record ReplayRun(int Exit, string[] Stdout, string[] Stderr);
