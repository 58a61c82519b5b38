namespace HekiActors.Cli.Simulate;

/// <summary>Bad input from the user (an option or a scenario file): the message names what is wrong, and nothing runs.</summary>
/// <remarks>Thrown before the engine is created, so a usage error never leaves a half-run simulation behind; exit code 2.</remarks>
public sealed class UsageException(string message) : Exception(message)
{
    /// <summary>The exit code for usage errors, as getopt-style tools use it.</summary>
    public const int ExitCode = 2;

    /// <summary>Whether the message is followed by the <c>--help</c> hint: not for a settings file's problem, which no option fixes.</summary>
    public bool HelpHint { get; init; } = true;
}
