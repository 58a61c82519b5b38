using System.Buffers.Binary;
using HekiActors.Vcpu.Workload;

namespace HekiActors.Simulation;

/// <summary>
/// Request ids derived from a seed, a run nonce and a counter: the same run gives the same ids (no wall clock, no
/// random source), and a rerun with another nonce on a durable journal is never answered from an earlier run's
/// record of "the same" request. The nonce comes from the edge (the CLI draws one per run).
/// </summary>
public static class RequestIds
{
    public static Guid Derive(ulong seed, ulong nonce, ulong counter)
    {
        var high = GuestRandom.Derive(seed, nonce, counter, 0x1D);
        var low = GuestRandom.Derive(high, nonce, counter, 0x2E);
        Span<byte> bytes = stackalloc byte[16];
        BinaryPrimitives.WriteUInt64LittleEndian(bytes, high);
        BinaryPrimitives.WriteUInt64LittleEndian(bytes[8..], low);
        return new Guid(bytes);
    }
}
