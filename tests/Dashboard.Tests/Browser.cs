using Microsoft.Playwright;

namespace HekiActors.Dashboard.Tests;

/// <summary>
/// Debian's chromium (/usr/bin/chromium, installed by .ci/services) driven by Playwright's bundled driver, headless,
/// with a fresh profile folder and nothing that phones home; shared by the tests of a class and closed after them.
/// </summary>
public sealed class Browser : IAsyncLifetime
{
    public const string Chromium = "/usr/bin/chromium";

    private static readonly string[] Flags =
    [
        "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
        "--disable-sync", "--no-first-run",
    ];

    private IPlaywright? _playwright;
    private readonly string _profile = Path.Combine(Path.GetTempPath(), "heki-chromium-" + Guid.NewGuid().ToString("N"));

    /// <summary>Null when chromium is not installed (the tests then skip outside CI and fail in it).</summary>
    public IBrowserContext? Context { get; private set; }

    public static bool Installed => File.Exists(Chromium);

    /// <summary>Skips the test (with the reason) when chromium is absent outside CI; in CI a missing browser fails it.</summary>
    public static void Require()
    {
        Skip.If(!Installed && !Required, $"{Chromium} is not installed (apt-get install -y chromium)");
        Assert.True(Installed, $"{Chromium} is missing: .ci/services installs it");
    }

    /// <summary>Whether a missing browser must fail the test rather than skip it (CI installs it).</summary>
    public static bool Required => Environment.GetEnvironmentVariable("CI") == "true";

    public async Task InitializeAsync()
    {
        if (!Installed)
            return;
        _playwright = await Playwright.CreateAsync();
        Context = await _playwright.Chromium.LaunchPersistentContextAsync(_profile, new BrowserTypeLaunchPersistentContextOptions
        {
            ExecutablePath = Chromium,
            Headless = true,
            Args = Flags,
            ViewportSize = new ViewportSize { Width = 1400, Height = 1000 },
            DeviceScaleFactor = 1,
        });
    }

    public async Task DisposeAsync()
    {
        if (Context is not null)
            await Context.CloseAsync();
        _playwright?.Dispose();
        if (Directory.Exists(_profile))
            Directory.Delete(_profile, recursive: true);
    }
}
