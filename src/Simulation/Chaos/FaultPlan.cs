using System.Buffers.Binary;
using HekiActors.Vcpu.Workload;

namespace HekiActors.Simulation.Chaos;

/// <summary>
/// Which faults happen where: a pure function of the seed, the operation's identity (its request id, or for a
/// read the VM and the operation's number) and the fault kind, so the same seed injects the same faults at the
/// same operations whatever the timing. Rates are per operation, in [0, 1].
/// </summary>
public sealed class FaultPlan
{
    private readonly ulong _seed;
    private readonly double[] _rates = new double[FaultKinds.All.Length];

    public FaultPlan(ulong seed, IReadOnlyDictionary<FaultKind, double> rates)
    {
        ArgumentNullException.ThrowIfNull(rates);
        _seed = seed;
        foreach (var (kind, rate) in rates)
        {
            if (!(rate >= 0 && rate <= 1))
                throw new ArgumentOutOfRangeException(nameof(rates), rate, $"the rate of {kind.Name()} must be within 0..1");
            _rates[(int)kind] = rate;
        }
    }

    /// <summary>No faults at all (chaos off).</summary>
    public static FaultPlan None { get; } = new(0, new Dictionary<FaultKind, double>());

    /// <summary>Every fault kind at <paramref name="rate"/>.</summary>
    public static FaultPlan Every(ulong seed, double rate) => new(seed, FaultKinds.All.ToDictionary(k => k, _ => rate));

    public ulong Seed => _seed;

    public double RateOf(FaultKind kind) => _rates[(int)kind];

    public bool AnyEnabled => _rates.Any(r => r > 0);

    /// <summary>Whether <paramref name="kind"/> hits the operation identified by <paramref name="identity"/>.</summary>
    public bool Hits(FaultKind kind, Guid identity)
    {
        var rate = _rates[(int)kind];
        if (rate <= 0)
            return false;
        return Fraction(Hash(kind, identity, 0)) < rate;
    }

    /// <summary>A number in [0, <paramref name="bound"/>) for a hit fault's parameter (a delay, a skew, a vCPU), from the same identity.</summary>
    public ulong Parameter(FaultKind kind, Guid identity, ulong bound) => bound == 0 ? 0 : Hash(kind, identity, 1) % bound;

    /// <summary>The identity of an operation without a request id: the VM's name and the operation's number.</summary>
    public static Guid IdentityOf(string vm, long operation)
    {
        Span<byte> bytes = stackalloc byte[16];
        BinaryPrimitives.WriteUInt64LittleEndian(bytes, StableHash(vm));
        BinaryPrimitives.WriteInt64LittleEndian(bytes[8..], operation);
        return new Guid(bytes);
    }

    private ulong Hash(FaultKind kind, Guid identity, ulong salt)
    {
        Span<byte> bytes = stackalloc byte[16];
        identity.TryWriteBytes(bytes);
        var a = BinaryPrimitives.ReadUInt64LittleEndian(bytes);
        var b = BinaryPrimitives.ReadUInt64LittleEndian(bytes[8..]);
        return GuestRandom.Derive(_seed, a, b, ((ulong)kind << 8) | salt);
    }

    private static double Fraction(ulong hash) => (hash >> 11) * (1.0 / (1UL << 53));

    private static ulong StableHash(string text)
    {
        // FNV-1a: string.GetHashCode is randomized per process, so it must never decide a fault.
        var hash = 0xCBF29CE484222325UL;
        foreach (var c in text)
            hash = (hash ^ c) * 0x100000001B3UL;
        return hash;
    }
}
