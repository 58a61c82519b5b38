namespace HekiActors.Actors.Hosting;

/// <summary>The cause a user can act on: libraries wrap it ("HttpListener could not be started" around "Address already in use").</summary>
public static class ExceptionChain
{
    /// <summary>The last of <paramref name="e"/>'s inner exceptions (an AggregateException's first), or <paramref name="e"/> itself.</summary>
    public static Exception Innermost(this Exception e)
    {
        while (e.InnerException is { } inner)
            e = inner;
        return e;
    }
}
