using Akka.Actor;
using Akka.Cluster;
using Akka.Cluster.SBR;
using Akka.Cluster.Sharding;
using Akka.Cluster.Tools.Singleton;
using Akka.Configuration;
using Akka.Event;
using Akka.Remote;
using HekiActors.Actors.Hosting;

namespace HekiActors.Cli.Input;

/// <summary>
/// The <c>akka</c> section of a settings file, tried the way Akka reads it at start, before anything starts: a value Akka
/// refuses (<c>akka.loglevel = BLAH</c>, <c>akka.cluster.min-nr-of-members = x</c>, a dispatcher type that does not exist)
/// otherwise failed the node's or client's start after Akka.Hosting printed its exception and stack on standard output.
/// </summary>
/// <remarks>
/// Two steps: Akka's own settings readers of the sections a heki process starts (the actor system's, remoting's, the
/// cluster's, its split-brain resolver's, sharding's), then an actor system on the settings with the local provider (its
/// logging, loggers, dispatchers and mailboxes; no cluster; remoting on 127.0.0.1 and a free port only when the file sets
/// some of it), started and ended, its log printing nothing. A value Akka reads only later (a failure detector's, when
/// the first heartbeat comes) is not checked here.
/// </remarks>
internal static class AkkaSettingsCheck
{
    /// <summary>At most this many settings are tried alone in an actor system to name the one Akka refuses (the readers try every one).</summary>
    private const int MaxTrials = 8;

    /// <summary>Null when Akka takes the <c>akka</c> section of <paramref name="file"/>; otherwise one line: the setting Akka refuses (when one alone is refused) and Akka's reason.</summary>
    public static string? Problem(Config file)
    {
        if (!file.HasPath("akka"))
            return null;
        var settings = file.WithFallback(HekiConfig.Build(JournalKind.InMemory));
        var read = ReadersRefusal(settings);
        if ((read ?? TrialRefusal(file, settings)) is not { } refusal)
            return null;
        // Named by trying each setting alone: those the reason mentions first, and in a trial only a few.
        var candidates = Leaves(file.GetValue("akka"), "akka")
            .OrderByDescending(leaf => refusal.Contains(leaf.Path, StringComparison.Ordinal) || (leaf.Value.Trim('"') is { Length: > 0 } text && refusal.Contains(text, StringComparison.Ordinal)));
        var trials = 0;
        foreach (var (path, value) in candidates)
        {
            if (Alone(path, value) is not { } alone)
                continue;
            var aloneSettings = alone.WithFallback(HekiConfig.Build(JournalKind.InMemory));
            var own = read is not null ? ReadersRefusal(aloneSettings)
                : trials++ < MaxTrials ? TrialRefusal(alone, aloneSettings)
                : null;
            if (own is not null)
                return $"Akka refuses {path} = {HoconFile.Excerpt(value, 60)}: {own}";
            if (read is null && trials >= MaxTrials)
                break;
        }

        return $"Akka refuses its akka settings: {refusal}";
    }

    /// <summary>One setting as a file of its own; null when Akka's parser cannot read back the form it printed it in.</summary>
    private static Config? Alone(string path, string value)
    {
        try
        {
            return ConfigurationFactory.ParseString($"{path} = {value}");
        }
        catch (Exception e) when (e is ConfigurationException or FormatException)
        {
            return null;
        }
    }

    private static string? ReadersRefusal(Config settings)
    {
        try
        {
            ReadSettings(settings);
            return null;
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            return Reason(e);
        }
    }

    /// <summary>Akka's readers of the sections a heki node or client starts: each throws on a value it cannot take.</summary>
    private static void ReadSettings(Config settings)
    {
        var actorSystem = new Settings(null!, settings.WithFallback(ConfigurationFactory.Default()));
        Logging.LogLevelFor(actorSystem.LogLevel);
        Logging.LogLevelFor(actorSystem.StdoutLogLevel);
        _ = new RemoteSettings(settings.WithFallback(RemoteDefaults.Value));
        var cluster = settings.WithFallback(ClusterDefaults.Value);
        _ = new ClusterSettings(cluster, Node.NodeSettings.SystemName);
        _ = new SplitBrainResolverSettings(cluster);
        var sharding = settings.WithFallback(ClusterSharding.DefaultConfig()).WithFallback(ClusterSingleton.DefaultConfig());
        ClusterShardingSettings.Create(sharding.GetConfig("akka.cluster.sharding"), sharding.GetConfig("akka.cluster.singleton"));
    }

    // Akka's defaults of remoting and the cluster, as their extensions add them at start (their factories are internal).
    private static readonly Lazy<Config> RemoteDefaults = new(() => ConfigurationFactory.FromResource<RemoteSettings>("Akka.Remote.Configuration.Remote.conf"));
    private static readonly Lazy<Config> ClusterDefaults = new(() => ConfigurationFactory.FromResource<ClusterSettings>("Akka.Cluster.Configuration.Cluster.conf"));

    /// <summary>
    /// Starts and ends an actor system on <paramref name="settings"/>; Akka's reason when it does not start. Its log goes
    /// nowhere (<see cref="SilentLogger"/>): nothing of the trial is shown.
    /// </summary>
    private static string? TrialRefusal(Config file, Config settings)
    {
        // Remoting only for a file that sets some of it (its transport reads its settings as it binds: 127.0.0.1, a free port).
        var provider = file.HasPath("akka.remote") ? "remote" : "local";
        var trial = ConfigurationFactory.ParseString($$"""
            akka.actor.provider = {{provider}}
            akka.remote.dot-netty.tcp.hostname = 127.0.0.1
            akka.remote.dot-netty.tcp.port = 0
            akka.stdout-logger-class = "{{typeof(SilentLogger).AssemblyQualifiedName}}"
            akka.coordinated-shutdown.run-by-clr-shutdown-hook = off
            """).WithFallback(settings);
        try
        {
            var system = ActorSystem.Create("heki-settings-check", trial);
            system.Terminate().Wait(TimeSpan.FromSeconds(10));
            return null;
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            // Anything else (the trial's loopback port refused by the machine) is not the file's fault: the start says it.
            return IsRefusal(e) ? Reason(e) : null;
        }
    }

    /// <summary>The trial system's console logger: it prints nothing.</summary>
    public sealed class SilentLogger : MinimalLogger
    {
        protected override void Log(object message)
        {
        }
    }

    /// <summary>What Akka's readers throw on a value they cannot take (a parse, an unknown name, a type that is not found).</summary>
    private static bool IsRefusal(Exception e) =>
        e.Innermost() is ConfigurationException or FormatException or ArgumentException or NotSupportedException or InvalidCastException
            or TypeLoadException or InvalidOperationException or OverflowException;

    /// <summary>The innermost message on one line, without .NET's "(Parameter 'x')" tail.</summary>
    private static string Reason(Exception e)
    {
        var message = HoconFile.OneLine(e.Innermost().Message);
        var parameter = message.LastIndexOf(" (Parameter '", StringComparison.Ordinal);
        return HoconFile.Excerpt(parameter > 0 ? message[..parameter] : message, 200);
    }

    /// <summary>Every single setting under <paramref name="value"/> as (path, value as HOCON), lists as one setting.</summary>
    private static IEnumerable<(string Path, string Value)> Leaves(Akka.Configuration.Hocon.HoconValue value, string path)
    {
        if (!value.IsObject())
        {
            yield return (path, value.ToString());
            yield break;
        }

        foreach (var (key, child) in value.GetObject().Items)
        {
            foreach (var leaf in Leaves(child, $"{path}.{Quoted(key)}"))
                yield return leaf;
        }
    }

    /// <summary>A key as a HOCON path element: quoted when it holds a dot or anything but letters, digits, '-' and '_'.</summary>
    private static string Quoted(string key) =>
        key.Length > 0 && key.All(c => char.IsLetterOrDigit(c) || c is '-' or '_') ? key : $"\"{key.Replace("\"", "\\\"")}\"";
}
