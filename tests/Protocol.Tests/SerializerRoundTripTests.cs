using System.Collections.Immutable;
using System.Reflection;
using System.Text;
using Akka.Actor;
using Akka.Configuration;
using HekiActors.Memory.Vm;
using HekiActors.Protocol.Serialization;

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
        Assert.Contains(typeof(VmFinished), types);
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
        var value = Sample(type);
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
        foreach (var parameter in LargestConstructor(type)?.GetParameters() ?? [])
            Assert.Contains($"\"{parameter.Name}\":", json);
    }

    [Fact]
    public void An_actor_reference_arrives_as_the_same_actor()
    {
        var probe = _system.ActorOf(Props.Empty, "progress");
        var run = new RunWorkload("a", 0, 1, 2, 3, null, (WorkloadSpec)Sample(typeof(WorkloadSpec)), probe);
        var serializer = _system.Serialization.FindSerializerFor(run);

        var back = (RunWorkload)_system.Serialization.Deserialize(serializer.ToBinary(run), serializer.Identifier,
            Akka.Serialization.Serialization.ManifestFor(serializer, run));

        Assert.Equal(probe, back.ProgressTo);
    }

    public void Dispose() => _system.Terminate().Wait(TimeSpan.FromSeconds(10));

    // ---- sample values -----------------------------------------------------------------------------------

    private object Sample(Type type, int depth = 0)
    {
        if (Nullable.GetUnderlyingType(type) is { } inner)
            return Sample(inner, depth);
        if (type == typeof(string)) return "vm \"ü\" <1>";
        if (type == typeof(int)) return 3;
        if (type == typeof(long)) return -5L;
        if (type == typeof(ulong)) return ulong.MaxValue;
        if (type == typeof(byte)) return (byte)3;
        if (type == typeof(bool)) return true;
        if (type == typeof(double)) return 0.1;
        if (type == typeof(Guid)) return Guid.Parse("0f8fad5b-d9cb-469f-a165-70867728950e");
        if (type == typeof(DateTimeOffset)) return DateTimeOffset.Parse("2026-11-25T01:02:03.456+00:00", System.Globalization.CultureInfo.InvariantCulture);
        if (type == typeof(TimeSpan)) return TimeSpan.FromMilliseconds(1500);
        if (type == typeof(IActorRef)) return _system.DeadLetters;
        if (type.IsEnum) return Enum.GetValues(type).Cast<object>().Last();
        if (type.IsArray)
        {
            var element = type.GetElementType()!;
            var array = Array.CreateInstance(element, 2);
            array.SetValue(Sample(element, depth + 1), 0);
            array.SetValue(Sample(element, depth + 1), 1);
            return array;
        }

        if (type.IsGenericType && type.GetGenericTypeDefinition() == typeof(ImmutableArray<>))
        {
            var element = type.GetGenericArguments()[0];
            var create = typeof(ImmutableArray).GetMethods()
                .Single(m => m.Name == nameof(ImmutableArray.Create) && m.GetParameters() is [{ ParameterType.IsArray: true }]);
            var items = Array.CreateInstance(element, 2);
            items.SetValue(Sample(element, depth + 1), 0);
            items.SetValue(Sample(element, depth + 1), 1);
            return create.MakeGenericMethod(element).Invoke(null, [items])!;
        }

        if (depth > 8)
            throw new InvalidOperationException($"sample of {type} nests too deep");
        var constructor = LargestConstructor(type);
        if (constructor is null)
            return Activator.CreateInstance(type)!;
        return constructor.Invoke(constructor.GetParameters().Select(p => Sample(p.ParameterType, depth + 1)).ToArray());
    }

    private static ConstructorInfo? LargestConstructor(Type type) => type.GetConstructors()
        .Where(c => !(c.GetParameters() is [var only] && only.ParameterType == type)) // a record's copy constructor
        .OrderByDescending(c => c.GetParameters().Length).FirstOrDefault();

    private static void CollectPayloads(Type type, HashSet<Type> found)
    {
        foreach (var parameter in LargestConstructor(type)?.GetParameters() ?? [])
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
