using HekiActors.Actors.Simulation;

namespace HekiActors.Cli.Simulate;

/// <summary>Attack kinds as written in scenario files and reports (snake_case, the same words as the <c>attacks</c> keys).</summary>
public static class AttackKindNames
{
    public static string Name(this AttackKind kind) => kind switch
    {
        AttackKind.WriteKernelText => "write_kernel_text",
        AttackKind.WriteRodata => "write_rodata",
        AttackKind.ExecuteData => "execute_data",
        AttackKind.RelaxImmutable => "relax_immutable",
        AttackKind.RelaxMutableThenAbuse => "relax_mutable_then_abuse",
        AttackKind.ClearPinnedCr => "clear_pinned_cr",
        _ => kind.ToString(),
    };

    /// <summary>How many of <paramref name="kind"/> each VM suffers per round under <paramref name="mix"/>.</summary>
    public static int PerVmPerRound(this AttackMix mix, AttackKind kind) => kind switch
    {
        AttackKind.WriteKernelText => mix.WriteKernelText,
        AttackKind.WriteRodata => mix.WriteRodata,
        AttackKind.ExecuteData => mix.ExecuteData,
        AttackKind.RelaxImmutable => mix.RelaxImmutable,
        AttackKind.RelaxMutableThenAbuse => mix.RelaxMutableThenAbuse,
        _ => mix.ClearPinnedCr,
    };
}
