namespace HekiActors.Memory;

/// <summary>What a guest access does to a page.</summary>
public enum AccessKind : byte
{
    Read = 0,
    Write = 1,
    Exec = 2,
}

/// <summary>Names of access kinds as the kernel log and the replay format spell them.</summary>
public static class AccessKinds
{
    public static string Verb(this AccessKind kind) => kind switch
    {
        AccessKind.Read => "read",
        AccessKind.Write => "write",
        AccessKind.Exec => "fetch",
        _ => throw new ArgumentOutOfRangeException(nameof(kind), kind, "unknown access kind"),
    };

    public static string Name(this AccessKind kind) => kind switch
    {
        AccessKind.Read => "read",
        AccessKind.Write => "write",
        AccessKind.Exec => "exec",
        _ => throw new ArgumentOutOfRangeException(nameof(kind), kind, "unknown access kind"),
    };

    public static bool TryParse(string? text, out AccessKind kind)
    {
        switch (text)
        {
            case "read": kind = AccessKind.Read; return true;
            case "write": kind = AccessKind.Write; return true;
            case "exec": kind = AccessKind.Exec; return true;
            default: kind = default; return false;
        }
    }
}
