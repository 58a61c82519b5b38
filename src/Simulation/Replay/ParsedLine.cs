namespace HekiActors.Simulation.Replay;

/// <summary>What <see cref="ReplayParser"/> made of one line: a request, or the message naming what is wrong with it.</summary>
public readonly record struct ParsedLine(ReplayRequest? Request, string? Error)
{
    public static ParsedLine Of(ReplayRequest request) => new(request, null);

    public static ParsedLine Bad(string error) => new(null, error);
}
