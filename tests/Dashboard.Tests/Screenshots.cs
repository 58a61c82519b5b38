namespace HekiActors.Dashboard.Tests;

/// <summary>
/// Where the tests' screenshots go: beside the test assembly, and into the repository's <c>docs/images/</c> (shown by the
/// README and docs/observability.md) when <c>HEKI_SCREENSHOTS=docs</c> asks for it, so an ordinary test run leaves the
/// working tree as it was.
/// </summary>
internal static class Screenshots
{
    public static string PathFor(string name)
    {
        if (Environment.GetEnvironmentVariable("HEKI_SCREENSHOTS") == "docs" && RepositoryRoot() is { } root)
            return System.IO.Path.Combine(root, "docs", "images", name);
        var folder = System.IO.Path.Combine(AppContext.BaseDirectory, "screenshots");
        Directory.CreateDirectory(folder);
        return System.IO.Path.Combine(folder, name);
    }

    private static string? RepositoryRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(System.IO.Path.Combine(dir.FullName, "HekiActors.sln")))
                return dir.FullName;
        }

        return null;
    }
}
