using System.Reflection;
using HekiActors.Protocol;

namespace HekiActors.Protocol.Tests;

/// <summary>The protocol's messages are immutable sealed records (the guide: messages are immutable, grouped by protocol).</summary>
public sealed class MessageShapeTests
{
    private static readonly Assembly Protocol = typeof(IWithVmId).Assembly;

    private static IEnumerable<Type> ConcreteTypes() => Protocol.GetExportedTypes()
        .Where(t => t is { IsInterface: false, IsEnum: false } && !(t.IsAbstract && t.IsSealed) && t.Namespace == typeof(IHekiMessage).Namespace);

    [Fact]
    public void Every_protocol_type_is_a_sealed_record()
    {
        var offenders = ConcreteTypes()
            .Where(t => !t.IsSealed || t.GetMethod("<Clone>$") is null && !t.IsValueType)
            .Select(t => t.Name)
            .ToList();

        Assert.NotEmpty(ConcreteTypes());
        Assert.Empty(offenders);
    }

    [Fact]
    public void No_protocol_type_can_be_changed_after_it_is_built()
    {
        var offenders = new List<string>();
        foreach (var type in ConcreteTypes())
        {
            foreach (var property in type.GetProperties(BindingFlags.Public | BindingFlags.Instance))
            {
                var setter = property.SetMethod;
                var initOnly = setter?.ReturnParameter.GetRequiredCustomModifiers().Any(m => m.Name == "IsExternalInit") ?? false;
                if (setter is { IsPublic: true } && !initOnly)
                    offenders.Add($"{type.Name}.{property.Name}");
            }

            offenders.AddRange(type.GetFields(BindingFlags.Public | BindingFlags.Instance)
                .Where(f => !f.IsInitOnly)
                .Select(f => $"{type.Name}.{f.Name}"));
        }

        Assert.Empty(offenders);
    }

    [Fact]
    public void Every_message_addressed_to_a_vcpu_is_addressed_to_its_vm()
    {
        var vcpuCommands = ConcreteTypes().Where(t => typeof(IVcpuCommand).IsAssignableFrom(t)).ToList();

        Assert.Contains(typeof(GuestAccess), vcpuCommands);
        Assert.All(vcpuCommands, t => Assert.True(typeof(IWithVmId).IsAssignableFrom(t)));
    }
}
