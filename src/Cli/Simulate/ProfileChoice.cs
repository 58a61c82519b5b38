using HekiActors.Memory;

namespace HekiActors.Cli.Simulate;

/// <summary>Which profiles a simulation runs: one of them, or both one after the other to compare them side by side.</summary>
public enum ProfileChoice
{
    Hardened = 0,
    HekiV2 = 1,
    Both = 2,
}

/// <summary>Names of <see cref="ProfileChoice"/> as users type them, and the profiles each choice runs.</summary>
public static class ProfileChoices
{
    public const string BothName = "both";

    /// <summary>The accepted names, for error messages and help.</summary>
    public const string Expected = "hardened, heki-v2 or both";

    public static bool TryParse(string? text, out ProfileChoice choice)
    {
        if (text == BothName)
        {
            choice = ProfileChoice.Both;
            return true;
        }

        var ok = HekiProfiles.TryParse(text, out var profile);
        choice = profile == HekiProfile.HekiV2 ? ProfileChoice.HekiV2 : ProfileChoice.Hardened;
        return ok;
    }

    public static string Name(this ProfileChoice choice) => choice switch
    {
        ProfileChoice.Hardened => HekiProfiles.HardenedName,
        ProfileChoice.HekiV2 => HekiProfiles.HekiV2Name,
        _ => BothName,
    };

    /// <summary>The profiles to run, hardened first so reports always list them in the same order.</summary>
    public static IReadOnlyList<HekiProfile> Profiles(this ProfileChoice choice) => choice switch
    {
        ProfileChoice.Hardened => [HekiProfile.Hardened],
        ProfileChoice.HekiV2 => [HekiProfile.HekiV2],
        _ => [HekiProfile.Hardened, HekiProfile.HekiV2],
    };
}
