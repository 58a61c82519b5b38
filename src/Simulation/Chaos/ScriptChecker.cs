using HekiActors.Actors;
using HekiActors.Actors.Hosting;
using HekiActors.Actors.Vm;
using HekiActors.Memory;
using HekiActors.Simulation.Replay;
using System.Security.Cryptography;

namespace HekiActors.Simulation.Chaos;

/// <summary>
/// Runs replay scripts on a model without faults, as <c>heki replay</c> does (one request at a time, each answered
/// before the next), and judges each run with a fresh <see cref="InvariantOracle"/>. One host serves many scripts:
/// every run gets VM names of its own, so runs never meet. Used to shrink findings and to confirm reproducers.
/// </summary>
public sealed class ScriptChecker : IAsyncDisposable
{
    private readonly HekiHost _host;
    private readonly ulong _nonce = BitConverter.ToUInt64(RandomNumberGenerator.GetBytes(8));
    private ulong _requests;
    private long _runs;

    private ScriptChecker(HekiHost host, HekiProfile profile)
    {
        _host = host;
        Profile = profile;
    }

    public HekiProfile Profile { get; }

    /// <summary>Scripts run so far.</summary>
    public long Runs => _runs;

    public static ScriptChecker Start(HekiProfile profile) => Start(profile, PlantedBug.None);

    internal static ScriptChecker Start(HekiProfile profile, PlantedBug planted) =>
        new(HekiHost.Start(new HekiHostOptions(AkkaLogLevel: "OFF", SystemName: "heki-chaos-check",
            VmSettings: VmActorSettings.Default with { Planted = planted })), profile);

    /// <summary>Runs <paramref name="script"/> and returns what the oracle found.</summary>
    public async Task<IReadOnlyList<Finding>> CheckAsync(IReadOnlyList<ReplayRequest> script)
    {
        ArgumentNullException.ThrowIfNull(script);
        var run = Interlocked.Increment(ref _runs);
        var oracle = new InvariantOracle(Profile);
        foreach (var line in script)
        {
            var request = line with { Vm = line.Vm + "~" + run };
            var message = ReplayMessages.ToMessage(request, Profile, RequestIds.Derive(0, _nonce, ++_requests));
            ReplayResult result;
            try
            {
                result = ReplayMessages.ResultOf(await _host.Ask(message).ConfigureAwait(false));
            }
            catch (Akka.Actor.AskTimeoutException)
            {
                result = new ErrorResult("no answer");
            }

            oracle.Observe(request, result);
        }

        return oracle.Findings;
    }

    /// <summary>Whether <paramref name="script"/> still shows a finding of kind <paramref name="kind"/>.</summary>
    public async Task<bool> ShowsAsync(IReadOnlyList<ReplayRequest> script, (Invariant, Defect) kind) =>
        (await CheckAsync(script).ConfigureAwait(false)).Any(f => f.Kind == kind);

    /// <summary>
    /// Shrinks <paramref name="script"/> with ddmin until no line can be removed without losing the finding; null
    /// when the script does not show it without faults (a finding that needs a fault to happen).
    /// </summary>
    public async Task<IReadOnlyList<ReplayRequest>?> ShrinkAsync(IReadOnlyList<ReplayRequest> script, (Invariant, Defect) kind,
        CancellationToken cancellationToken = default)
    {
        if (script.Count == 0 || !await ShowsAsync(script, kind).ConfigureAwait(false))
            return null;
        return await DeltaDebugging.MinimizeAsync(script, candidate => ShowsAsync(candidate, kind), maxTests: 2000,
            cancellationToken: cancellationToken).ConfigureAwait(false);
    }

    /// <summary>The script as a replay file's lines (replay-format.md).</summary>
    public static string Format(IEnumerable<ReplayRequest> script) => string.Concat(script.Select(r => ReplayLines.Format(r) + "\n"));

    public ValueTask DisposeAsync() => _host.DisposeAsync();
}
