namespace HekiActors.Observability;

/// <summary>Return codes as metric attribute values (a fixed, small set; positive values such as an ABI version are "ok").</summary>
public static class Errnos
{
    public static string Name(long ret) => ret switch
    {
        0 => "ok",
        -1 => "eperm",
        -7 => "e2big",
        -14 => "efault",
        -22 => "einval",
        -1000 => "enosys",
        > 0 => "ok",
        _ => "other",
    };
}
