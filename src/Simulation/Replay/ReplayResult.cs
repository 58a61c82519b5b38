using HekiActors.Memory;

namespace HekiActors.Simulation.Replay;

// What one request did, as replay-format.md's result fields: each record is one field of the output line.

/// <summary>The outcome of one replay line: exactly one result field, or an error.</summary>
public abstract record ReplayResult
{
    public bool IsError => this is ErrorResult;
}

/// <summary><c>"ok": true</c> (create_vm, destroy_vm).</summary>
public sealed record OkResult : ReplayResult
{
    public static readonly OkResult Instance = new();
}

/// <summary><c>"ret"</c>: a return value, signed (0, a negative errno, or the lock_cr ABI version).</summary>
public sealed record RetResult(long Ret, int HostIntegrityFaults = 0) : ReplayResult;

/// <summary><c>"attr"</c>: heki permission bits (get_permissions).</summary>
public sealed record AttrResult(ulong Attr) : ReplayResult;

/// <summary><c>"attributes"</c>: the raw KVM attribute word (get_memory_attributes).</summary>
public sealed record AttributesResult(ulong Attributes) : ReplayResult;

/// <summary><c>"result"</c>: <c>ok</c>/<c>pf</c>/<c>mmio</c> for an access, <c>ok</c>/<c>gp</c> for a CR write.</summary>
public sealed record OutcomeResult(string Result) : ReplayResult
{
    /// <summary>An access's result word (<see cref="AccessResults.Name"/>).</summary>
    public static OutcomeResult Of(AccessResult result) => new(result.Name());

    /// <summary>A CR write's result word: <c>ok</c> when it took effect, <c>gp</c> when #GP(0) was injected.</summary>
    public static OutcomeResult OfCrWrite(bool written) => new(written ? AccessResult.Ok.Name() : "gp");
}

/// <summary><c>"value"</c>: a control register's value (read_cr).</summary>
public sealed record ValueResult(ulong Value) : ReplayResult;

/// <summary><c>"error"</c>: bad input or a request the model refused; nothing changed.</summary>
public sealed record ErrorResult(string Error) : ReplayResult;
