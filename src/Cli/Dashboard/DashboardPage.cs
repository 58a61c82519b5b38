using System.Net;
using System.Reflection;
using System.Text;
using System.Text.RegularExpressions;

namespace HekiActors.Cli.Dashboard;

/// <summary>
/// The dashboard's one HTML page, for both uses: the live page (its script polls the server's feed) and the HTML
/// report (the feed embedded). Styles, the charting library (uPlot, vendored with its licence by
/// <c>Dashboard/Vendor/fetch-uplot.sh</c>) and the script are inlined, so the page needs nothing but itself; its
/// Content-Security-Policy forbids every other source, so a report opened anywhere makes no network request.
/// </summary>
public static partial class DashboardPage
{
    private static readonly Lazy<string> Template = new(() => Resource("page.html"));
    private static readonly Lazy<string> UplotJs = new(() => Resource("uplot.uPlot.iife.min.js"));
    private static readonly Lazy<string> UplotCss = new(() => Resource("uplot.uPlot.min.css"));
    private static readonly Lazy<string> Script = new(() => Resource("dashboard.js"));
    private static readonly Lazy<string> Styles = new(() => Resource("dashboard.css"));

    /// <summary>The vendored uPlot's version (its VERSION file's first word).</summary>
    public static string UplotVersion => Resource("uplot.VERSION").Split(' ')[0].Trim();

    /// <summary>The live page: its script polls <paramref name="feedPath"/> every <paramref name="interval"/>.</summary>
    public static string Live(string title, string feedPath = "/api/feed", string vmPath = "/api/vm", TimeSpan? interval = null)
    {
        var ms = (int)(interval ?? TimeSpan.FromMilliseconds(500)).TotalMilliseconds;
        var config = $"<script>window.HEKI_LIVE = {{ feed: \"{feedPath}\", vm: \"{vmPath}\", intervalMs: {ms} }};</script>";
        return Render(title, "live", "live page", config, "default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'; connect-src 'self'; img-src data:");
    }

    /// <summary>The self-contained report: <paramref name="feedJson"/> (HTML-safe JSON, <see cref="DashboardFeed"/>) embedded.</summary>
    public static string Report(string title, string feedJson)
    {
        ArgumentNullException.ThrowIfNull(feedJson);
        if (feedJson.Contains("</", StringComparison.Ordinal))
            throw new ArgumentException("the feed must be written with an HTML-safe encoder", nameof(feedJson));
        var data = $"<script id=\"heki-feed\" type=\"application/json\">{feedJson}</script>";
        return Render(title, "report", "report", data, "default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'; img-src data:");
    }

    private static string Render(string title, string mode, string modeText, string data, string csp)
    {
        var values = new Dictionary<string, string>
        {
            ["TITLE"] = WebUtility.HtmlEncode(title),
            ["CSP"] = csp,
            ["MODE"] = mode,
            ["MODE_TEXT"] = modeText,
            ["UPLOT_VERSION"] = UplotVersion,
            ["UPLOT_CSS"] = UplotCss.Value,
            ["DASHBOARD_CSS"] = Styles.Value,
            ["UPLOT_JS"] = UplotJs.Value,
            ["DATA"] = data,
            ["DASHBOARD_JS"] = Script.Value,
        };
        // One pass over the template: inserted text (a library, the data) is never searched for placeholders.
        return Placeholder().Replace(Template.Value, m => values[m.Groups[1].Value]);
    }

    private static string Resource(string name)
    {
        var assembly = typeof(DashboardPage).Assembly;
        using var stream = assembly.GetManifestResourceStream("HekiActors.Cli.Dashboard." + name)
            ?? throw new InvalidOperationException($"the dashboard resource {name} is missing from {assembly.GetName().Name}");
        using var reader = new StreamReader(stream, Encoding.UTF8);
        return reader.ReadToEnd();
    }

    [GeneratedRegex(@"\{\{([A-Z_]+)\}\}")]
    private static partial Regex Placeholder();
}
