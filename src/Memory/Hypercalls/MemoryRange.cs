namespace HekiActors.Memory.Hypercalls;

/// <summary>One entry of a PROTECT_MEMORY list page (§5): byte addresses, <paramref name="Epa"/> exclusive, heki permission bits.</summary>
public readonly record struct MemoryRange(ulong Pa, ulong Epa, ulong Permissions);
