using HekiActors.Protocol;
using HekiActors.Memory.Hypercalls;
using HekiActors.Memory;
using System.Diagnostics;
using OpenTelemetry.Metrics;

namespace HekiActors.Observability.Tests;

/// <summary>Every metric and span of docs/observability.md exists with its documented name, unit and attributes.</summary>
public sealed class InstrumentTests
{
    /// <summary>The attributes a metric may carry without per-VM labels: all low-cardinality, never a gfn.</summary>
    private static readonly HashSet<string> LowCardinality =
    [
        HekiTags.Profile, HekiTags.AccessKind, HekiTags.Outcome, HekiTags.Hypercall, HekiTags.Result,
        HekiTags.WarningSite, HekiTags.ControlRegister, HekiTags.Source, HekiTags.Origin, HekiTags.HypercallStage, HekiTags.Exception,
    ];

    public static TheoryData<string, string, MetricType, string[]> Documented => new()
    {
        { "heki.accesses", "{access}", MetricType.LongSum, [HekiTags.Profile, HekiTags.AccessKind, HekiTags.Outcome, HekiTags.Origin] },
        { "heki.violations", "{violation}", MetricType.LongSum, [HekiTags.Profile, HekiTags.Exception] },
        { "heki.fastpath.duration", "ns", MetricType.Histogram, [HekiTags.Profile] },
        { "heki.slowpath.duration", "s", MetricType.Histogram, [HekiTags.Profile] },
        { "heki.hypercalls", "{hypercall}", MetricType.LongSum, [HekiTags.Hypercall, HekiTags.Result, HekiTags.Profile, HekiTags.HypercallStage] },
        { "heki.translation.fills", "{fill}", MetricType.LongSum, [HekiTags.Profile, HekiTags.Origin] },
        { "heki.hypercall.duration", "s", MetricType.Histogram, [HekiTags.Hypercall, HekiTags.Profile] },
        { "heki.immutable.rejections", "{rejection}", MetricType.LongSum, [HekiTags.Profile, HekiTags.Source] },
        { "heki.warnings.emitted", "{warning}", MetricType.LongSum, [HekiTags.WarningSite, HekiTags.Profile] },
        { "heki.warnings.suppressed", "{warning}", MetricType.LongSum, [HekiTags.WarningSite, HekiTags.Profile] },
        { "heki.translation.invalidations", "{translation}", MetricType.LongSum, [HekiTags.Profile] },
        { "heki.cr_pin.blocks", "{write}", MetricType.LongSum, [HekiTags.Profile, HekiTags.ControlRegister] },
        { "heki.vms.active", "{vm}", MetricType.LongSumNonMonotonic, [HekiTags.Profile] },
        { "heki.vcpus.active", "{vcpu}", MetricType.LongSumNonMonotonic, [HekiTags.Profile] },
        { "heki.store.runs", "{run}", MetricType.LongSumNonMonotonic, [HekiTags.Profile] },
    };

    [Theory]
    [MemberData(nameof(Documented))]
    public async Task Metric_exists_with_its_documented_unit_type_and_attributes(string name, string unit, MetricType type, string[] attributes)
    {
        using var capture = new TelemetryCapture();
        await using (var host = GuestSequence.StartHost())
        {
            await GuestSequence.RunAsync(host);
            var metrics = capture.Metrics();
            Assert.True(metrics.TryGetValue(name, out var metric), $"no metric {name}; got {string.Join(", ", metrics.Keys)}");
            Assert.Equal(unit, metric!.Unit);
            Assert.Equal(type, metric.MetricType);
            Assert.NotEmpty(metric.MetricPoints);
            foreach (var point in metric.MetricPoints)
            {
                var keys = Keys(point);
                Assert.Equal(attributes.Order(), keys.Order());
                Assert.Subset(LowCardinality, keys.ToHashSet());
            }
        }
    }

    [Fact]
    public async Task Counts_follow_the_sequence()
    {
        using var capture = new TelemetryCapture();
        await using var host = GuestSequence.StartHost();
        await GuestSequence.RunAsync(host);
        var metrics = capture.Metrics();

        Assert.Equal(1, Sum(metrics["heki.accesses"], (HekiTags.AccessKind, "read"), (HekiTags.Outcome, "ok")));
        Assert.Equal(GuestSequence.Violations, Sum(metrics["heki.accesses"], (HekiTags.AccessKind, "write"), (HekiTags.Outcome, "pf")));
        Assert.Equal(1, Sum(metrics["heki.accesses"], (HekiTags.Outcome, "mmio")));
        // Violations are #PF faults plus CR-pin #GP blocks (the vocabulary).
        Assert.Equal(GuestSequence.Violations, Sum(metrics["heki.violations"], (HekiTags.Exception, "pf")));
        Assert.Equal(1, Sum(metrics["heki.violations"], (HekiTags.Exception, "gp")));
        Assert.Equal(2, Sum(metrics["heki.hypercalls"], (HekiTags.Hypercall, "protect_memory"), (HekiTags.Result, "ok")));
        Assert.Equal(1, Sum(metrics["heki.hypercalls"], (HekiTags.Hypercall, "protect_memory"), (HekiTags.Result, "eperm")));
        Assert.Equal(1, Sum(metrics["heki.hypercalls"], (HekiTags.Hypercall, "lock_cr_update"), (HekiTags.Result, "ok")));
        Assert.Equal(1, Sum(metrics["heki.immutable.rejections"], (HekiTags.Source, "guest")));
        Assert.Equal(1, Sum(metrics["heki.immutable.rejections"], (HekiTags.Source, "host")));
        Assert.Equal(1, Sum(metrics["heki.cr_pin.blocks"], (HekiTags.ControlRegister, "cr0")));
        // The rate limit prints a burst of 10 per call site and VM in hardened, and suppresses the rest.
        Assert.Equal(10, Sum(metrics["heki.warnings.emitted"], (HekiTags.WarningSite, "fault")));
        Assert.Equal(GuestSequence.Violations - 10, Sum(metrics["heki.warnings.suppressed"], (HekiTags.WarningSite, "fault")));
        Assert.True(Sum(metrics["heki.warnings.emitted"], (HekiTags.WarningSite, "immutable_change")) >= 1);
        Assert.Equal(1, Sum(metrics["heki.warnings.emitted"], (HekiTags.WarningSite, "blocked_cr")));
        Assert.True(Sum(metrics["heki.translation.invalidations"]) >= 1);
        Assert.Equal(1, Sum(metrics["heki.vms.active"]));
        Assert.Equal(2, Sum(metrics["heki.vcpus.active"]));
        Assert.True(Sum(metrics["heki.store.runs"]) >= 2);
        Assert.Equal(4, HistogramCount(metrics["heki.hypercall.duration"]));
        Assert.Equal(1, HistogramCount(metrics["heki.slowpath.duration"]));
        Assert.True(HistogramCount(metrics["heki.fastpath.duration"]) >= 1);
    }

    [Fact]
    public async Task Host_integrity_faults_and_hypercalls_refused_at_cpl_3_are_counted()
    {
        using var capture = new TelemetryCapture();
        await using var host = GuestSequence.StartHost();
        var timeout = TimeSpan.FromSeconds(20);
        Assert.IsType<VmCreated>(await host.Ask(new CreateVm("v2", Guid.NewGuid(),
            VmConfig.FromMegabytes(64, 1, profile: HekiProfile.HekiV2)), timeout));

        // heki-v2 reads a list page claiming 170 ranges past its buffer (heki-semantics §5): a host-integrity fault.
        var page = Enumerable.Range(0, 170)
            .Select(i => new MemoryRange((ulong)(0x100 + i) << VmMemoryAttributes.PageShift, (ulong)(0x101 + i) << VmMemoryAttributes.PageShift,
                HekiAttributes.Read | HekiAttributes.Write | HekiAttributes.Exec))
            .ToArray();
        var overflow = Assert.IsType<HypercallDone>(await host.Ask(new GuestProtectMemory("v2", 0, Guid.NewGuid(), [page], 0), timeout));
        Assert.Equal(1, overflow.HostIntegrityFaults);
        var user = Assert.IsType<HypercallDone>(await host.Ask(new GuestProtectMemory("v2", 0, Guid.NewGuid(), [page[..1]], 3), timeout));
        Assert.Equal(Errno.EPERM, user.Ret);

        // Collected until the counts settle (bounded): in a full suite run the collection has been seen to miss a count
        // recorded a moment before on the VM's thread; what is asserted is unchanged.
        var metrics = capture.Metrics();
        for (var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(10);
             Sum(metrics["heki.host_integrity.faults"], (HekiTags.Profile, "heki-v2")) != 1 && DateTime.UtcNow < deadline;)
        {
            await Task.Delay(50);
            metrics = capture.Metrics();
        }

        Assert.Equal(1, Sum(metrics["heki.host_integrity.faults"], (HekiTags.Profile, "heki-v2")));
        Assert.Equal(1, Sum(metrics["heki.hypercalls"], (HekiTags.HypercallStage, "vcpu"), (HekiTags.Result, "eperm")));
        Assert.Equal(2, Sum(metrics["heki.hypercalls"], (HekiTags.Profile, "heki-v2")));
    }

    [Fact]
    public async Task Gauges_fall_back_when_the_host_stops()
    {
        using var capture = new TelemetryCapture();
        await using (var host = GuestSequence.StartHost())
        {
            await GuestSequence.RunAsync(host);
        }

        var metrics = capture.Metrics();
        Assert.Equal(0, Sum(metrics["heki.vms.active"]));
        Assert.Equal(0, Sum(metrics["heki.vcpus.active"]));
        Assert.Equal(0, Sum(metrics["heki.store.runs"]));
    }

    [Fact]
    public async Task Per_vm_labels_are_added_only_when_asked_for()
    {
        using var capture = new TelemetryCapture(new TelemetryOptions(PerVmLabelLimit: 10, FastPathAccessesPerObservation: 1));
        await using var host = GuestSequence.StartHost();
        await GuestSequence.RunAsync(host);
        var metrics = capture.Metrics();
        foreach (var name in new[] { "heki.accesses", "heki.violations", "heki.hypercalls", "heki.warnings.emitted", "heki.cr_pin.blocks" })
            Assert.All(NonZero(metrics[name]), point => Assert.Contains(HekiTags.Vm, Keys(point)));
        Assert.All(metrics["heki.fastpath.duration"].MetricPoints, point => Assert.DoesNotContain(HekiTags.Vm, Keys(point)));
        // The cardinality view keeps the histograms' own buckets (up to 120 s).
        foreach (var point in metrics["heki.slowpath.duration"].MetricPoints)
        {
            var bounds = new List<double>();
            foreach (var bucket in point.GetHistogramBuckets())
                bounds.Add(bucket.ExplicitBound);
            Assert.Equal([.. HekiMetrics.LatencyBucketsSeconds, double.PositiveInfinity], bounds);
        }
    }

    public static TheoryData<string, string, string?> Spans => new()
    {
        // name, an attribute it must carry, the name of its parent (null: a root, or the caller's span)
        { HekiSpans.Hypercall, HekiTags.Hypercall, null },
        { HekiSpans.HypercallAtVm, HekiTags.VmId, HekiSpans.Hypercall },
        { HekiSpans.Validate, "", HekiSpans.HypercallAtVm },
        { HekiSpans.StoreChange, "", HekiSpans.HypercallAtVm },
        { HekiSpans.Persist, "", HekiSpans.StoreChange },
        { HekiSpans.Shootdown, "", HekiSpans.StoreChange },
        { HekiSpans.Invalidate, HekiTags.Count, HekiSpans.Shootdown },
        { HekiSpans.Reply, "", HekiSpans.HypercallAtVm },
        { HekiSpans.HostRequest, HekiTags.HostOperation, null },
        { HekiSpans.CrWrite, HekiTags.ControlRegister, null },
        { HekiSpans.SlowPath, HekiTags.Profile, null },
        { HekiSpans.FastPath, HekiTags.Count, null },
        { HekiSpans.Violation, HekiTags.AccessKind, HekiSpans.StoreChange },
        { HekiSpans.Warning, HekiTags.WarningDecision, null },
    };

    [Theory]
    [MemberData(nameof(Spans))]
    public async Task Span_exists_with_its_attributes_and_parent(string name, string attribute, string? parent)
    {
        using var capture = new TelemetryCapture();
        await using var host = GuestSequence.StartHost();
        await GuestSequence.RunAsync(host);
        var spans = capture.Spans();
        var named = spans.Where(s => s.OperationName == name).ToList();
        Assert.True(named.Count > 0, $"no span {name}; got {string.Join(", ", spans.Select(s => s.OperationName).Distinct())}");
        Assert.All(named, span => Assert.Equal(HekiTelemetry.Name, span.Source.Name));
        if (attribute.Length > 0)
            Assert.Contains(named, span => span.GetTagItem(attribute) is not null);
        var byId = spans.ToDictionary(s => s.SpanId);
        if (parent is null)
            return;
        Assert.Contains(named, span => byId.TryGetValue(span.ParentSpanId, out var p) && p.OperationName == parent);
    }

    [Fact]
    public async Task Hypercall_spans_carry_their_result_and_warnings_their_decision()
    {
        using var capture = new TelemetryCapture();
        await using var host = GuestSequence.StartHost();
        await GuestSequence.RunAsync(host);
        var spans = capture.Spans();
        var results = spans.Where(s => s.OperationName == HekiSpans.Hypercall).Select(s => (string?)s.GetTagItem(HekiTags.Result)).ToList();
        Assert.Contains("ok", results);
        Assert.Contains("eperm", results);
        var decisions = spans.Where(s => s.OperationName == HekiSpans.Warning).Select(s => (string?)s.GetTagItem(HekiTags.WarningDecision)).ToList();
        Assert.Contains(HekiTagValues.Printed, decisions);
        Assert.Contains(HekiTagValues.Suppressed, decisions);
        Assert.All(spans, span => Assert.Equal(ActivityKind.Internal, span.Kind));
    }

    private static List<string> Keys(MetricPoint point)
    {
        var keys = new List<string>();
        foreach (var tag in point.Tags)
            keys.Add(tag.Key);
        return keys;
    }

    /// <summary>The points with a count (the zero series every session creates at its start aside).</summary>
    private static List<MetricPoint> NonZero(MetricSnapshot metric) => metric.MetricPoints.Where(p => p.GetSumLong() != 0).ToList();

    internal static long Sum(MetricSnapshot metric, params (string Key, string Value)[] match)
    {
        long sum = 0;
        foreach (var point in metric.MetricPoints)
        {
            var tags = new Dictionary<string, object?>();
            foreach (var tag in point.Tags)
                tags[tag.Key] = tag.Value;
            if (match.All(m => tags.TryGetValue(m.Key, out var v) && (string?)v == m.Value))
                sum += point.GetSumLong();
        }

        return sum;
    }

    private static long HistogramCount(MetricSnapshot metric)
    {
        long count = 0;
        foreach (var point in metric.MetricPoints)
            count += point.GetHistogramCount();
        return count;
    }
}
