using System.Collections.Immutable;
using System.Reflection;
using Akka.Actor;

namespace HekiActors.Tests.Shared;

/// <summary>A sample value of any protocol type, every field set (for serializer round trips), built by reflection.</summary>
internal sealed class ProtocolSamples(ActorSystem system)
{
    private readonly ActorSystem _system = system;

    public object Sample(Type type, int depth = 0)
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
        var value = constructor is null
            ? Activator.CreateInstance(type)!
            : constructor.Invoke(constructor.GetParameters().Select(p => Sample(p.ParameterType, depth + 1)).ToArray());
        // Members set by initializers (records with init properties rather than a positional constructor).
        if (constructor is null || constructor.GetParameters().Length == 0)
        {
            foreach (var property in type.GetProperties(BindingFlags.Public | BindingFlags.Instance).Where(p => p.SetMethod is { IsPublic: true }))
                property.SetValue(value, Sample(property.PropertyType, depth + 1));
        }

        return value;
    }

    public static ConstructorInfo? LargestConstructor(Type type) => type.GetConstructors()
        .Where(c => !(c.GetParameters() is [var only] && only.ParameterType == type)) // a record's copy constructor
        .OrderByDescending(c => c.GetParameters().Length).FirstOrDefault();
}
