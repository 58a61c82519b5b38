using System.Text.Json;
using HekiActors.Actors.Hosting;
using HekiActors.Memory;
using HekiActors.Simulation.Replay;

namespace HekiActors.Simulation.Tests;

/// <summary>
/// Replays recorded lines in order on a fresh host through the replay codec (<see cref="ReplayParser"/> and
/// <see cref="ReplayMessages"/>) and returns, per line, the request as JSON and its result in the words of the
/// line's <c>"observed"</c> field ("ok"/"pf"/"mmio"/"gp" or the return value).
/// </summary>
internal static class SimulationReplayer
{
    public static async Task<List<(JsonElement Request, string Result)>> Replay(IEnumerable<string> lines, HekiProfile profile)
    {
        var results = new List<(JsonElement, string)>();
        await using var host = HekiHost.Start(new HekiHostOptions(AkkaLogLevel: "OFF", SystemName: "heki-replay-test",
            WarningSink: new CountingWarningSink()));
        foreach (var line in lines)
        {
            var parsed = ReplayParser.Parse(line);
            var request = parsed.Request ?? throw new InvalidOperationException($"line {line}: {parsed.Error}");
            var reply = await host.Ask(ReplayMessages.ToMessage(request, profile, Guid.NewGuid()));
            results.Add((JsonDocument.Parse(line).RootElement.Clone(), ReplayMessages.ResultOf(reply) switch
            {
                OkResult => "ok",
                RetResult ret => ret.Ret.ToString(System.Globalization.CultureInfo.InvariantCulture),
                OutcomeResult outcome => outcome.Result,
                var other => throw new InvalidOperationException($"line {line}: unexpected result {other}"),
            }));
        }

        return results;
    }
}
