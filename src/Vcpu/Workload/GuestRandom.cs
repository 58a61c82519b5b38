using System.Numerics;
using System.Runtime.CompilerServices;

namespace HekiActors.Vcpu.Workload;

/// <summary>
/// xoshiro256** seeded through SplitMix64: a small, fast, deterministic generator owned by one caller (never
/// System.Random's shared state), so the same seed gives the same guest behaviour on every run and platform.
/// A mutable struct: keep it in a field and call it through that field, never through a copy.
/// </summary>
public struct GuestRandom
{
    private ulong _s0, _s1, _s2, _s3;

    public GuestRandom(ulong seed)
    {
        var sm = seed;
        _s0 = SplitMix(ref sm);
        _s1 = SplitMix(ref sm);
        _s2 = SplitMix(ref sm);
        _s3 = SplitMix(ref sm);
    }

    /// <summary>A seed derived from a parent seed and up to three labels (VM, vCPU, round), well mixed.</summary>
    public static ulong Derive(ulong seed, ulong a, ulong b = 0, ulong c = 0)
    {
        var x = seed;
        x = Mix(x ^ Mix(a + 0x9E3779B97F4A7C15UL));
        x = Mix(x ^ Mix(b + 0xD1B54A32D192ED03UL));
        x = Mix(x ^ Mix(c + 0x8CB92BA72F3D8DD7UL));
        return x;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public ulong Next()
    {
        var result = BitOperations.RotateLeft(_s1 * 5, 7) * 9;
        var t = _s1 << 17;
        _s2 ^= _s0;
        _s3 ^= _s1;
        _s1 ^= _s2;
        _s0 ^= _s3;
        _s2 ^= t;
        _s3 = BitOperations.RotateLeft(_s3, 45);
        return result;
    }

    /// <summary>A value in [0, bound) (bound ≥ 1), by multiply-shift: no division, negligible bias for small bounds.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public ulong NextBelow(ulong bound) => (ulong)(((UInt128)Next() * bound) >> 64);

    private static ulong SplitMix(ref ulong state)
    {
        state += 0x9E3779B97F4A7C15UL;
        return Mix(state);
    }

    private static ulong Mix(ulong z)
    {
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return z ^ (z >> 31);
    }
}
