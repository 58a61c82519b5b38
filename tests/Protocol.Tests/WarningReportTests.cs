using HekiActors.Memory;

namespace HekiActors.Protocol.Tests;

/// <summary>Warning reports formatted only when printed (issue 11) print the kernel's text.</summary>
public sealed class WarningReportTests
{
    [Fact]
    public void A_range_warning_report_renders_the_same_text_as_the_line_it_carries()
    {
        var line = WarningLine.ProtectRequest(0x1000, 0x1200, HekiAttributes.Read | HekiAttributes.Write);
        var report = new RangeWarningReport("vm", HekiProfile.Hardened, line.Site, line.Start, line.End, line.Permissions);

        Assert.Equal("heki: Request to protect GFNs 1000-1200 with mutable permissions=rw_", report.Render());
        Assert.Equal(line.Text, report.Render());
        Assert.Equal(HekiWarnings.ImmutableChange(5, 6), new RangeWarningReport("vm", HekiProfile.HekiV2, WarningSite.ImmutableChange, 5, 6, 0).Render());
    }
}
