using System.Collections.Immutable;
using HekiActors.Memory;

namespace HekiActors.Protocol;

/// <summary>
/// What a well-behaved guest touches and how often: the access mix and the gfn regions of each access class
/// (kernel fetches, kernel reads, kernel writes, user-mode accesses). The vCPU expands it into accesses locally
/// (the hot path never waits for a message per access). A class with no non-empty region falls back to the
/// kernel-read regions, which must hold at least one page.
/// </summary>
public sealed record WorkloadSpec(
    WorkloadMix Mix,
    ImmutableArray<GfnRange> KernelExec,
    ImmutableArray<GfnRange> KernelRead,
    ImmutableArray<GfnRange> KernelWrite,
    ImmutableArray<GfnRange> User);
