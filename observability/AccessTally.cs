using System.Diagnostics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using HekiActors.Memory;

namespace HekiActors.Observability;

/// <summary>
/// A vCPU's access counts of one origin by kind and outcome, kept in a 3×3 array while a batch runs and added to
/// <see cref="HekiMetrics.Accesses"/> once per batch: one instrument call
/// per non-zero cell, never one per access. The access loop pays nothing per permitted access: it counts only its
/// rare outcomes (#PF, MMIO) with <see cref="Count"/>, and each group's kinds are counted afterwards with a
/// vectorized pass (<see cref="AddGroup"/>); the permitted cells are the difference. Owned by one actor; not thread-safe.
/// </summary>
public sealed class AccessTally
{
    private const int Kinds = 3;
    private const int Outcomes = 3;
    private static readonly string[] KindNames = HekiTagValues.Kinds;

    private readonly long[] _cells = new long[Kinds * Outcomes];
    private readonly long[] _kinds = new long[Kinds];
    private long _accesses;
    private bool _any;

    /// <summary>
    /// Accesses a generated workload accumulates before its counts are added: 16 chunks of 4,096, a fraction of a
    /// millisecond of a vCPU's time, so a 1 s scrape still sees fresh counts while the adds cost ~nothing.
    /// </summary>
    public const long WorkloadFlushAccesses = 65_536;

    /// <summary>Whether enough accesses are counted for a workload to flush (<see cref="WorkloadFlushAccesses"/>).</summary>
    public bool Due => _accesses >= WorkloadFlushAccesses;

    /// <summary>Counts one access of <paramref name="kind"/> with a rare <paramref name="outcome"/> (1 #PF, 2 MMIO).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void Count(AccessKind kind, int outcome)
    {
        // A batch's kinds come from its sender unchecked: an unknown one is counted as exec, never thrown on.
        var k = (uint)kind < Kinds ? (int)kind : Kinds - 1;
        _cells[k * Outcomes + outcome]++;
        _any = true;
    }

    /// <summary>Adds a group of executed accesses by kind (all outcomes): the permitted ones are what <see cref="Count"/> did not see.</summary>
    public void AddGroup(ReadOnlySpan<AccessKind> kinds)
    {
        if (kinds.IsEmpty)
            return;
        var bytes = MemoryMarshal.AsBytes(kinds);
        var reads = bytes.Count((byte)AccessKind.Read);
        var writes = bytes.Count((byte)AccessKind.Write);
        _kinds[(int)AccessKind.Read] += reads;
        _kinds[(int)AccessKind.Write] += writes;
        _kinds[(int)AccessKind.Exec] += kinds.Length - reads - writes;
        _accesses += kinds.Length;
        _any = true;
    }

    /// <summary>Adds the counts to the instruments and clears them.</summary>
    public void Flush(string profile, string? vmId, AccessOrigin origin)
    {
        if (!_any)
            return;
        _any = false;
        _accesses = 0;
        for (var kind = 0; kind < Kinds; kind++)
        {
            // Permitted = every access of the kind less its rare outcomes.
            _cells[kind * Outcomes] = _kinds[kind] - _cells[kind * Outcomes + 1] - _cells[kind * Outcomes + 2];
            _kinds[kind] = 0;
            for (var outcome = 0; outcome < Outcomes; outcome++)
            {
                var n = _cells[kind * Outcomes + outcome];
                if (n <= 0)
                    continue;
                _cells[kind * Outcomes + outcome] = 0;
                var tags = new TagList
                {
                    { HekiTags.Profile, profile },
                    { HekiTags.AccessKind, KindNames[kind] },
                    { HekiTags.Outcome, HekiTagValues.Outcomes[outcome] },
                    { HekiTags.Origin, HekiTagValues.Origins[(int)origin] },
                };
                if (vmId is not null)
                    tags.Add(HekiTags.Vm, vmId);
                HekiMetrics.Accesses.Add(n, tags);
            }
        }
    }
}
