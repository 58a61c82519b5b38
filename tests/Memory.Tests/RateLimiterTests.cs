using Microsoft.Extensions.Time.Testing;

namespace HekiActors.Memory.Tests;

public class RateLimiterTests
{
    private static readonly TimeSpan Interval = TimeSpan.FromSeconds(5);
    private static readonly TimeSpan OneTick = TimeSpan.FromTicks(1);

    private static int AllowedOf(RateLimiter limiter, int calls)
    {
        var allowed = 0;
        for (var i = 0; i < calls; i++)
        {
            if (limiter.Check().Allowed)
                allowed++;
        }

        return allowed;
    }

    [Fact]
    public void Defaults_are_a_burst_of_10_per_5_seconds()
    {
        Assert.Equal(10, RateLimiter.DefaultBurst);
        Assert.Equal(TimeSpan.FromSeconds(5), RateLimiter.DefaultInterval);
    }

    [Fact]
    public void A_burst_of_10_is_allowed_then_messages_are_suppressed()
    {
        var clock = new FakeTimeProvider();
        var limiter = new RateLimiter(clock);
        for (var i = 0; i < 10; i++)
        {
            var decision = limiter.Check();
            Assert.True(decision.Allowed, $"message {i + 1} should be allowed");
            Assert.Equal(0, decision.SuppressedToReport);
        }

        for (var i = 0; i < 5; i++)
        {
            var decision = limiter.Check();
            Assert.False(decision.Allowed);
            Assert.Equal(0, decision.SuppressedToReport);
        }

        Assert.Equal(10, limiter.TotalAllowed);
        Assert.Equal(5, limiter.TotalSuppressed);
        Assert.Equal(5, limiter.PendingSuppressed);
    }

    [Fact]
    public void A_call_exactly_5_seconds_after_the_interval_began_is_still_inside_it()
    {
        var clock = new FakeTimeProvider();
        var limiter = new RateLimiter(clock);
        Assert.Equal(10, AllowedOf(limiter, 10));
        clock.Advance(Interval);
        var decision = limiter.Check();
        Assert.False(decision.Allowed);
        Assert.Equal(0, decision.SuppressedToReport);
        Assert.Equal(1, limiter.PendingSuppressed);
    }

    [Fact]
    public void The_first_call_more_than_5_seconds_later_reports_the_suppressed_count_and_opens_a_new_interval()
    {
        var clock = new FakeTimeProvider();
        var limiter = new RateLimiter(clock);
        Assert.Equal(10, AllowedOf(limiter, 13));
        clock.Advance(Interval + OneTick);

        var first = limiter.Check();
        Assert.True(first.Allowed);
        Assert.Equal(3, first.SuppressedToReport);
        Assert.Equal(0, limiter.PendingSuppressed);

        // The new interval has a fresh burst of 10 (this first call was one of them) and reports nothing again.
        for (var i = 0; i < 9; i++)
        {
            var next = limiter.Check();
            Assert.True(next.Allowed);
            Assert.Equal(0, next.SuppressedToReport);
        }

        Assert.False(limiter.Check().Allowed);

        // The new interval began at the reporting call: exactly 5 s later is still inside it.
        clock.Advance(Interval);
        Assert.False(limiter.Check().Allowed);
        clock.Advance(OneTick);
        var reopened = limiter.Check();
        Assert.True(reopened.Allowed);
        Assert.Equal(2, reopened.SuppressedToReport);
        Assert.Equal(20 + 1, limiter.TotalAllowed);
        Assert.Equal(3 + 2, limiter.TotalSuppressed);
    }

    [Fact]
    public void No_report_when_nothing_was_suppressed()
    {
        var clock = new FakeTimeProvider();
        var limiter = new RateLimiter(clock);
        Assert.Equal(10, AllowedOf(limiter, 10));
        clock.Advance(TimeSpan.FromMinutes(1));
        var decision = limiter.Check();
        Assert.True(decision.Allowed);
        Assert.Equal(0, decision.SuppressedToReport);
        Assert.Equal(0, limiter.TotalSuppressed);
    }

    [Fact]
    public void The_interval_starts_at_the_first_message_not_at_construction()
    {
        var clock = new FakeTimeProvider();
        var limiter = new RateLimiter(clock);
        clock.Advance(TimeSpan.FromHours(1));
        Assert.Equal(10, AllowedOf(limiter, 10));
        clock.Advance(TimeSpan.FromSeconds(4));
        Assert.False(limiter.Check().Allowed);
        Assert.Equal(1, limiter.TotalSuppressed);
    }

    [Fact]
    public void Totals_count_every_call_over_the_limiters_life()
    {
        var clock = new FakeTimeProvider();
        var limiter = new RateLimiter(clock);
        long allowed = 0, suppressed = 0;
        for (var round = 0; round < 4; round++)
        {
            for (var i = 0; i < 25; i++)
            {
                if (limiter.Check().Allowed)
                    allowed++;
                else
                    suppressed++;
            }

            clock.Advance(TimeSpan.FromSeconds(6));
        }

        Assert.Equal(40, allowed);
        Assert.Equal(60, suppressed);
        Assert.Equal(allowed, limiter.TotalAllowed);
        Assert.Equal(suppressed, limiter.TotalSuppressed);
    }

    [Fact]
    public void Separate_limiters_do_not_share_a_budget()
    {
        var clock = new FakeTimeProvider();
        var noisy = new RateLimiter(clock);
        var quiet = new RateLimiter(clock);
        Assert.Equal(10, AllowedOf(noisy, 50));
        Assert.True(quiet.Check().Allowed);
        Assert.Equal(0, quiet.TotalSuppressed);
    }

    [Theory]
    [InlineData(WarningSite.ImmutableChange, "kvm_permissions_set")]
    [InlineData(WarningSite.Fault, "mem_attr_fault")]
    [InlineData(WarningSite.BlockedCr, "heki_check_cr")]
    [InlineData(WarningSite.ClearingExec, "heki_protect_memory")]
    [InlineData(WarningSite.ProtectRequest, "heki_protect_memory")]
    public void Suppression_notice_names_the_kernel_function_of_each_site(WarningSite site, string function)
    {
        Assert.Equal(function, site.Function());
        var clock = new FakeTimeProvider();
        var limiter = new RateLimiter(clock);
        Assert.Equal(10, AllowedOf(limiter, 17));
        clock.Advance(Interval + OneTick);
        var decision = limiter.Check();
        Assert.Equal($"{function}: 7 callbacks suppressed", HekiWarnings.Suppressed(site.Function(), decision.SuppressedToReport));
    }

    [Fact]
    public void There_are_five_warning_sites()
    {
        Assert.Equal(WarningSites.Count, Enum.GetValues<WarningSite>().Length);
    }

    [Theory]
    [InlineData(WarningSite.ImmutableChange, true, true)]
    [InlineData(WarningSite.Fault, true, true)]
    [InlineData(WarningSite.BlockedCr, true, true)]
    [InlineData(WarningSite.ClearingExec, true, true)]
    [InlineData(WarningSite.ProtectRequest, false, true)]
    public void Only_the_protect_request_line_is_unthrottled_and_only_in_heki_v2(WarningSite site, bool hekiV2, bool hardened)
    {
        Assert.Equal(hekiV2, site.IsRateLimited(HekiProfile.HekiV2));
        Assert.Equal(hardened, site.IsRateLimited(HekiProfile.Hardened));
    }

    [Fact]
    public void Constructor_rejects_a_negative_burst_and_a_non_positive_interval()
    {
        var clock = new FakeTimeProvider();
        Assert.Throws<ArgumentOutOfRangeException>(() => new RateLimiter(clock, burst: -1));
        Assert.Throws<ArgumentOutOfRangeException>(() => new RateLimiter(clock, TimeSpan.Zero));
        Assert.Throws<ArgumentNullException>(() => new RateLimiter(null!));
    }
}
