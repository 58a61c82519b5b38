namespace HekiActors.Cli.Simulate;

/// <summary>Another process holds the run's journal: nothing runs, exit <see cref="ExitCodes.JournalInUse"/>.</summary>
public sealed class JournalInUseException(string message) : Exception(message);
