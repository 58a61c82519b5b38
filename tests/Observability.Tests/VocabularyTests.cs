namespace HekiActors.Observability.Tests;

/// <summary>The vocabulary (issue 9) is defined once: docs/observability.md carries each count word for word.</summary>
public sealed class VocabularyTests
{
    /// <summary>The docs row of a count: label, JSON key, PromQL series and matchers, definition.</summary>
    public static string DocRow(HekiCount count) =>
        $"| {count.Label.Trim()} | `{count.Key}` | `{count.PrometheusSeries}{(count.Matchers.Length == 0 ? "" : "{" + count.Matchers + "}")}` | {count.Definition} |";

    public static string DocRow(HekiLatency latency) =>
        $"| {latency.Label} | `{latency.Key}` | `{latency.PrometheusSeries}` ({latency.Unit}) | {latency.Definition} |";

    public static string DocRow(HekiLatencyPart part) =>
        $"| {part.Of.Label}: {part.Label.Trim()} | `{part.Key}` | {part.Definition} |";

    [Fact]
    public void The_docs_define_every_count_and_latency_as_the_code_does()
    {
        var docs = File.ReadAllText(Path.Combine(PrometheusDashboardTests.RepositoryRoot(), "docs", "observability.md"));
        var rows = HekiVocabulary.Counts.Concat([HekiVocabulary.SpansDropped, HekiVocabulary.ExportFailures]).Concat(HekiVocabulary.Chaos).Select(DocRow)
            .Concat(HekiVocabulary.Latencies.Select(DocRow)).Concat(HekiVocabulary.LatencyParts.Select(DocRow)).ToList();
        var missing = rows.Where(row => !docs.Contains(row, StringComparison.Ordinal)).ToList();
        Assert.True(missing.Count == 0, "docs/observability.md lacks these vocabulary rows (copy them from here):\n" + string.Join("\n", rows));
    }

    [Fact]
    public void Every_count_has_a_distinct_key_and_promql_for_its_profile()
    {
        Assert.Equal(HekiVocabulary.Counts.Count, HekiVocabulary.Counts.Select(c => c.Key).Distinct().Count());
        Assert.Equal("sum(heki_accesses_total{heki_profile=\"hardened\",heki_access_origin=\"attack\"})",
            HekiVocabulary.AttackAccesses.PromQl("hardened"));
        var counts = new HekiCounts { WorkloadPageFaults = 3, AttackPageFaults = 4, CrPinBlocks = 5 };
        Assert.Equal(12, HekiVocabulary.Violations.Value(counts));
    }
}
