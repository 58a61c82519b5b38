using System.Collections.Frozen;
using System.Reflection;
using System.Runtime.Serialization;
using System.Text.Json;
using System.Text.Json.Serialization;
using Akka.Actor;
using Akka.Configuration;
using Akka.Serialization;
using HekiActors.Memory.Vm;

namespace HekiActors.Protocol.Serialization;

/// <summary>
/// The serializer of every HekiActors message (<see cref="IHekiMessage"/>), VM event (<see cref="IVmEvent"/>) and
/// VM snapshot (<see cref="VmSnapshot"/>): System.Text.Json, one manifest per type carrying a version
/// (<c>heki.CreateVm.v1</c>), actor references written as their serialized actor paths and resolved on arrival.
/// <see cref="Config"/> binds it, so nothing of ours falls back to Akka's default serializer.
/// </summary>
/// <remarks>
/// The types are found by reflection: every concrete <see cref="IHekiMessage"/> of this assembly and of the
/// assemblies named in <c>heki.serialization.protocol-assemblies</c> (a simulation adds its own protocol there),
/// every <see cref="IVmEvent"/>, and <see cref="VmSnapshot"/>; their names must be unique.
/// Versions: a type whose shape changes gets the next version in its manifest, and the old version keeps reading
/// old journals (the journal stores the manifest with each event). Every type is at version 1 so far.
/// </remarks>
public sealed class HekiSerializer : SerializerWithStringManifest
{
    /// <summary>The serializer's id in Akka's registry (ids below 100 are Akka's own).</summary>
    public const int Id = 1710;

    private const string Prefix = "heki.";
    private const int Version = 1;

    /// <summary>The HOCON list of further assemblies whose <see cref="IHekiMessage"/>s this serializer writes.</summary>
    public const string ProtocolAssembliesPath = "heki.serialization.protocol-assemblies";

    private readonly FrozenDictionary<Type, string> _manifestsByType;
    private readonly FrozenDictionary<string, Type> _typesByManifest;
    private readonly JsonSerializerOptions _options;

    public HekiSerializer(ExtendedActorSystem system) : base(system)
    {
        var extra = system.Settings.Config.GetStringList(ProtocolAssembliesPath, []).Select(Assembly.Load);
        _manifestsByType = Types(extra).ToFrozenDictionary(t => t, ManifestOf);
        _typesByManifest = _manifestsByType.ToFrozenDictionary(p => p.Value, p => p.Key);
        _options = new JsonSerializerOptions(JsonSerializerDefaults.General)
        {
            // Computed members (GfnRange.Length, WorkloadDone.Accesses, ...) are not state: only what a constructor takes.
            IgnoreReadOnlyProperties = true,
            Converters = { new ActorRefConverter(system) },
        };
    }

    /// <summary>The HOCON that registers the serializer and binds it to the marker types.</summary>
    public static Config Config { get; } = ConfigurationFactory.ParseString($$"""
        akka.actor {
          serializers.heki = "{{typeof(HekiSerializer).AssemblyQualifiedName}}"
          serialization-bindings {
            "{{Binding(typeof(IHekiMessage))}}" = heki
            "{{Binding(typeof(IVmEvent))}}" = heki
            "{{Binding(typeof(VmSnapshot))}}" = heki
          }
        }
        """);

    /// <summary>
    /// Every type this serializer writes: the concrete messages (of this assembly and <paramref name="protocolAssemblies"/>),
    /// events and the snapshot.
    /// </summary>
    /// <exception cref="InvalidOperationException">Two types share a name (their manifests would clash).</exception>
    public static IReadOnlyCollection<Type> Types(IEnumerable<Assembly>? protocolAssemblies = null)
    {
        var types = (protocolAssemblies ?? []).Prepend(typeof(IHekiMessage).Assembly).Distinct()
            .SelectMany(a => a.GetTypes().Where(t => typeof(IHekiMessage).IsAssignableFrom(t)))
            .Concat(typeof(IVmEvent).Assembly.GetTypes().Where(t => typeof(IVmEvent).IsAssignableFrom(t)))
            .Append(typeof(VmSnapshot))
            .Where(t => t is { IsInterface: false, IsAbstract: false })
            .ToArray();
        if (types.GroupBy(t => t.Name).FirstOrDefault(g => g.Count() > 1) is { } clash)
            throw new InvalidOperationException($"two protocol types are named {clash.Key}: {string.Join(", ", clash)}");
        return types;
    }

    public override int Identifier => Id;

    public override string Manifest(object o) =>
        _manifestsByType.TryGetValue(o.GetType(), out var manifest)
            ? manifest
            : throw new ArgumentException($"{o.GetType()} is not a HekiActors message, event or snapshot", nameof(o));

    public override byte[] ToBinary(object obj)
    {
        ArgumentNullException.ThrowIfNull(obj);
        Manifest(obj); // refuses a type outside the protocol before writing anything
        return JsonSerializer.SerializeToUtf8Bytes(obj, obj.GetType(), _options);
    }

    public override object FromBinary(byte[] bytes, string manifest)
    {
        if (!_typesByManifest.TryGetValue(manifest, out var type))
            throw new SerializationException($"unknown HekiActors manifest '{manifest}'");
        return JsonSerializer.Deserialize(bytes, type, _options)
            ?? throw new SerializationException($"'{manifest}' deserialized to null");
    }

    private static string ManifestOf(Type type) => $"{Prefix}{type.Name}.v{Version}";

    private static string Binding(Type type) => $"{type.FullName}, {type.Assembly.GetName().Name}";

    /// <summary>An actor reference as its serialized path (with address), resolved by the receiving system.</summary>
    private sealed class ActorRefConverter(ExtendedActorSystem system) : JsonConverter<IActorRef>
    {
        public override IActorRef Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options) =>
            system.Provider.ResolveActorRef(reader.GetString() ?? throw new JsonException("an actor path must be a string"));

        public override void Write(Utf8JsonWriter writer, IActorRef value, JsonSerializerOptions options) =>
            writer.WriteStringValue(Akka.Serialization.Serialization.SerializedActorPath(value));
    }
}
