namespace HekiActors.Simulation.Chaos;

/// <summary>
/// Zeller and Hildebrandt's ddmin ("Simplifying and Isolating Failure-Inducing Input", 2002): shrinks a failing
/// input to one where removing any single element makes the failure go away (1-minimal).
/// </summary>
public static class DeltaDebugging
{
    /// <summary>
    /// The smallest failing sub-sequence ddmin finds, order kept. <paramref name="fails"/> must hold for
    /// <paramref name="input"/>; it is called on candidate sub-sequences only (never twice on the same length
    /// and content in a row). Stops early, returning the best so far, once <paramref name="maxTests"/> is spent.
    /// </summary>
    public static async Task<IReadOnlyList<T>> MinimizeAsync<T>(IReadOnlyList<T> input, Func<IReadOnlyList<T>, Task<bool>> fails,
        int maxTests = 10_000, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(input);
        ArgumentNullException.ThrowIfNull(fails);
        var current = input.ToList();
        var granularity = 2;
        var tests = 0;
        while (current.Count >= 2 && tests < maxTests)
        {
            cancellationToken.ThrowIfCancellationRequested();
            var chunks = Split(current, Math.Min(granularity, current.Count));
            var reduced = false;
            // Reduce to a subset first, then to a complement (the paper's two steps).
            foreach (var chunk in chunks)
            {
                if (chunk.Count == current.Count)
                    continue;
                tests++;
                if (await fails(chunk).ConfigureAwait(false))
                {
                    current = chunk;
                    granularity = 2;
                    reduced = true;
                    break;
                }
            }

            if (!reduced && chunks.Count > 2)
            {
                for (var i = 0; i < chunks.Count && tests < maxTests; i++)
                {
                    var complement = chunks.Where((_, j) => j != i).SelectMany(c => c).ToList();
                    tests++;
                    if (await fails(complement).ConfigureAwait(false))
                    {
                        current = complement;
                        granularity = Math.Max(granularity - 1, 2);
                        reduced = true;
                        break;
                    }
                }
            }

            if (reduced)
                continue;
            if (granularity >= current.Count)
                break;
            granularity = Math.Min(current.Count, granularity * 2);
        }

        // A single element may still fail on its own (ddmin never tests the empty input).
        return current;
    }

    private static List<List<T>> Split<T>(List<T> items, int parts)
    {
        var result = new List<List<T>>(parts);
        var start = 0;
        for (var i = 0; i < parts; i++)
        {
            var end = start + (items.Count - start) / (parts - i);
            result.Add(items.GetRange(start, end - start));
            start = end;
        }

        return result;
    }
}
