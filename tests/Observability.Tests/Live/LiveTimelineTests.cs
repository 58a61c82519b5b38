using HekiActors.Observability.Live;

namespace HekiActors.Observability.Tests.Live;

/// <summary>The live page's bounded data: the timeline, the top offenders, the latency windows.</summary>
public sealed class LiveTimelineTests
{
    [Fact]
    public void A_full_timeline_keeps_the_newest_point_and_every_second_one_before_it()
    {
        var timeline = new RunTimeline(["a"], capacity: 8);
        for (var i = 1; i <= 8; i++)
            timeline.Append(i, [i * 10]);
        Assert.Equal(0, timeline.Epoch);
        timeline.Append(9, [90]);

        Assert.Equal(1, timeline.Epoch);
        var slice = timeline.Read(0, 1);
        Assert.Equal([2.0, 4, 6, 8, 9], slice.Seconds);
        Assert.Equal([20.0, 40, 60, 80, 90], slice.Values[0]);
    }

    [Fact]
    public void A_reader_gets_only_the_points_it_does_not_have_and_everything_after_a_thinning()
    {
        var timeline = new RunTimeline(["a", "b"], capacity: 4);
        timeline.Append(1, [1, 10]);
        timeline.Append(2, [2, 20]);
        var first = timeline.Read(0, 0);
        timeline.Append(3, [3, 30]);

        var update = timeline.Read(first.Count, first.Epoch);
        Assert.Equal(2, update.From);
        Assert.Equal([3.0], update.Seconds);
        Assert.Equal([30.0], update.Values[1]);

        timeline.Append(4, [4, 40]);
        timeline.Append(5, [5, 50]); // thins: epoch 1
        var stale = timeline.Read(4, 0);
        Assert.Equal(0, stale.From);
        Assert.Equal(1, stale.Epoch);
        Assert.Equal([2.0, 4, 5], stale.Seconds);
    }

    [Fact]
    public void A_thousand_hours_of_samples_stay_within_the_capacity()
    {
        var timeline = new RunTimeline(["a"], capacity: 64);
        for (var i = 0; i < 7_200_000; i += 500)
            timeline.Append(i, [i]);
        Assert.InRange(timeline.Count, 32, 64);
        var slice = timeline.Read(0, timeline.Epoch);
        Assert.Equal(7_199_500, slice.Seconds[^1]);
    }

    [Fact]
    public void The_top_offenders_are_exactly_the_keys_with_the_highest_counts()
    {
        var random = new Random(5);
        var top = new TopOffenders<int>(size: 5, categories: 2, eventsPerKey: 3);
        var counts = new Dictionary<string, long>();
        for (var i = 0; i < 20_000; i++)
        {
            // A skewed mix: a few noisy VMs among many quiet ones, and events that do not count.
            var key = "vm-" + (random.Next(4) == 0 ? random.Next(6) : random.Next(300));
            var category = random.Next(5) == 0 ? -1 : random.Next(2);
            top.Add(key, category, i);
            if (category >= 0)
                counts[key] = counts.GetValueOrDefault(key) + 1;
        }

        var shown = top.Top();
        var expected = counts.Values.OrderByDescending(c => c).Take(5).ToList();
        Assert.Equal(expected, shown.Select(o => o.Count));
        Assert.All(shown, o => Assert.Equal(counts[o.Key], o.Count));
        Assert.All(shown, o => Assert.Equal(o.Count, o.Tallies.Sum()));
        Assert.Equal(3, top.RecentEvents(shown[0].Key).Count);
        Assert.Empty(top.RecentEvents("never-seen"));
    }

    [Fact]
    public void Recent_events_are_the_last_ones_oldest_first()
    {
        var top = new TopOffenders<int>(size: 2, eventsPerKey: 4);
        for (var i = 0; i < 10; i++)
            top.Add("vm", 0, i);
        Assert.Equal([6, 7, 8, 9], top.RecentEvents("vm"));
    }

    [Fact]
    public void Latency_buckets_are_about_four_percent_wide_from_a_nanosecond_to_hours()
    {
        foreach (var ns in new[] { 1.0, 3.7, 42, 1_000, 123_456, 9.9e6, 3.6e12 })
        {
            var middle = LatencyWindows.MiddleOf(LatencyWindows.BucketOf(ns));
            Assert.InRange(middle / ns, 0.96, 1.04);
        }
    }

    [Fact]
    public void Latency_windows_see_the_histograms_measurements_of_one_profile()
    {
        using var windows = new LatencyWindows { Profile = "window-test" };
        windows.Take();
        var tags = new KeyValuePair<string, object?>(HekiTags.Profile, "window-test");
        for (var i = 1; i <= 100; i++)
            HekiMetrics.SlowPathDuration.Record(i * 1e-6, tags);
        HekiMetrics.SlowPathDuration.Record(1, new KeyValuePair<string, object?>(HekiTags.Profile, "another-profile"));

        var window = windows.Take()[1];
        Assert.Equal(100, window.Count);
        Assert.InRange(window.P50, 48_000, 52_000);
        Assert.InRange(window.P99, 95_000, 103_000);
        Assert.Equal(0, windows.Take()[1].Count); // the next window starts empty
    }
}
