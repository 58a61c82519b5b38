using System.Collections.Immutable;
using System.Reflection;
using System.Text;
using Akka.Actor;
using Akka.Configuration;
using HekiActors.Memory.Vm;
using HekiActors.Protocol.Serialization;
using HekiActors.Tests.Shared;

namespace HekiActors.Protocol.Tests;

/// <summary>
/// Every message, event and snapshot type, found by reflection, goes through our serializer (never Akka's default)
/// and comes back as the same value: byte for byte the same when written again, every constructor argument present.
/// </summary>
public sealed class SerializerRoundTripTests : IDisposable
{
    private readonly ActorSystem _system = ActorSystem.Create("serializer-test", HekiSerializer.Config.WithFallback(
        ConfigurationFactory.ParseString("akka.loglevel = WARNING")));

    public static TheoryData<string> TypeNames()
    {
        var data = new TheoryData<string>();
        foreach (var type in HekiSerializer.Types().OrderBy(t => t.FullName, StringComparer.Ordinal))
            data.Add(type.AssemblyQualifiedName!);
        return data;
    }

    [Fact]
    public void The_serializer_covers_every_message_event_and_snapshot_type()
    {
        var types = HekiSerializer.Types();

        Assert.Contains(typeof(CreateVm), types);
        Assert.Contains(typeof(WorkloadDone), types);
        Assert.Contains(typeof(PermissionsChangedEvent), types);
        Assert.Contains(typeof(VmSnapshot), types);
        var events = typeof(IVmEvent).Assembly.GetTypes().Where(t => typeof(IVmEvent).IsAssignableFrom(t) && !t.IsInterface);
        Assert.All(events, e => Assert.Contains(e, types));
        Assert.Equal(types.Count, types.Select(t => t.Name).Distinct().Count());
    }

    [Fact]
    public void Every_protocol_record_is_a_message_or_travels_inside_one()
    {
        var messages = HekiSerializer.Types();
        var payloads = new HashSet<Type>();
        foreach (var message in messages)
            CollectPayloads(message, payloads);
        var records = typeof(IHekiMessage).Assembly.GetExportedTypes()
            .Where(t => t.Namespace == typeof(IHekiMessage).Namespace && t is { IsInterface: false, IsEnum: false } && !(t.IsAbstract && t.IsSealed));

        Assert.All(records, t => Assert.True(messages.Contains(t) || payloads.Contains(t), $"{t.Name} is neither a message nor inside one"));
    }

    [Theory]
    [MemberData(nameof(TypeNames))]
    public void Type_round_trips_through_the_heki_serializer(string typeName)
    {
        var type = Type.GetType(typeName, throwOnError: true)!;
        var value = new ProtocolSamples(_system).Sample(type);
        var serialization = _system.Serialization;

        var serializer = serialization.FindSerializerFor(value);
        var manifest = Akka.Serialization.Serialization.ManifestFor(serializer, value);
        var bytes = serializer.ToBinary(value);
        var back = serialization.Deserialize(bytes, serializer.Identifier, manifest);

        Assert.IsType<HekiSerializer>(serializer);
        Assert.Equal($"heki.{type.Name}.v1", manifest);
        Assert.IsType(type, back);
        Assert.Equal(Encoding.UTF8.GetString(bytes), Encoding.UTF8.GetString(serializer.ToBinary(back)));
        var json = Encoding.UTF8.GetString(bytes);
        foreach (var parameter in ProtocolSamples.LargestConstructor(type)?.GetParameters() ?? [])
            Assert.Contains($"\"{parameter.Name}\":", json);
    }

    [Fact]
    public void An_actor_reference_arrives_as_the_same_actor()
    {
        var probe = _system.ActorOf(Props.Empty, "progress");
        var run = new RunWorkload("a", 0, 1, 2, 3, null, (WorkloadSpec)new ProtocolSamples(_system).Sample(typeof(WorkloadSpec)), probe);
        var serializer = _system.Serialization.FindSerializerFor(run);

        var back = (RunWorkload)_system.Serialization.Deserialize(serializer.ToBinary(run), serializer.Identifier,
            Akka.Serialization.Serialization.ManifestFor(serializer, run));

        Assert.Equal(probe, back.ProgressTo);
    }

    public void Dispose() => _system.Terminate().Wait(TimeSpan.FromSeconds(10));

    private static void CollectPayloads(Type type, HashSet<Type> found)
    {
        foreach (var parameter in ProtocolSamples.LargestConstructor(type)?.GetParameters() ?? [])
        {
            var t = parameter.ParameterType;
            while (true)
            {
                t = Nullable.GetUnderlyingType(t) ?? t;
                if (t.IsArray)
                    t = t.GetElementType()!;
                else if (t.IsGenericType && t.GetGenericTypeDefinition() == typeof(ImmutableArray<>))
                    t = t.GetGenericArguments()[0];
                else
                    break;
            }

            if (t.Assembly == typeof(IHekiMessage).Assembly && found.Add(t))
                CollectPayloads(t, found);
        }
    }
}
