using Akka.Configuration;

namespace HekiActors.Actors.Tests;

/// <summary>
/// Whether this build of the suite serializes every message (the HekiActors.Actors.Tests.Serialized project
/// compiles these sources with SERIALIZE_MESSAGES), so each test also proves its messages survive serialization.
/// </summary>
internal static class TestMode
{
#if SERIALIZE_MESSAGES
    public const bool SerializeMessages = true;
#else
    public const bool SerializeMessages = false;
#endif

    public static Config Config { get; } = ConfigurationFactory.ParseString(
        $"akka.actor.serialize-messages = {(SerializeMessages ? "on" : "off")}");
}
