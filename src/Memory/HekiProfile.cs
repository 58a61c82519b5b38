namespace HekiActors.Memory;

/// <summary>Which behaviour a VM follows: the RFC bug for bug, or with its defects fixed (heki-semantics.md §9).</summary>
public enum HekiProfile
{
    /// <summary>Defects of the RFC fixed. The default.</summary>
    Hardened = 0,

    /// <summary>Bug-for-bug like the Heki RFC v2 series.</summary>
    HekiV2 = 1,
}

/// <summary>Names of the profiles as users type them.</summary>
public static class HekiProfiles
{
    public const string HardenedName = "hardened";
    public const string HekiV2Name = "heki-v2";

    public static string Name(this HekiProfile profile) => profile switch
    {
        HekiProfile.Hardened => HardenedName,
        HekiProfile.HekiV2 => HekiV2Name,
        _ => throw new ArgumentOutOfRangeException(nameof(profile), profile, "unknown profile"),
    };

    /// <summary>Parses a profile name; false (and no profile) for anything else.</summary>
    public static bool TryParse(string? text, out HekiProfile profile)
    {
        switch (text)
        {
            case HardenedName: profile = HekiProfile.Hardened; return true;
            case HekiV2Name: profile = HekiProfile.HekiV2; return true;
            default: profile = default; return false;
        }
    }
}
