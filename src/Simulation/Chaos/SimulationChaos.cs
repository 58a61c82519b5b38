namespace HekiActors.Simulation.Chaos;

/// <summary>
/// The <c>chaos</c> section of a <c>heki simulate</c> scenario: which faults the guest kernels' requests suffer, at which
/// rate per request (docs/chaos.md, "In heki simulate"). Decided by <see cref="FaultPlan"/> from the scenario's seed and
/// each request's identity (its VM and number), so the same seed injects the same faults at the same requests.
/// </summary>
public sealed class SimulationChaos
{
    private readonly double[] _rates = new double[FaultKinds.All.Length];

    /// <param name="rates">Probability per request of each kind, within 0..1 (kinds left out: 0).</param>
    /// <exception cref="ArgumentOutOfRangeException">A rate outside 0..1.</exception>
    /// <param name="allKinds">Whether the scenario asked for every kind (<c>faults: all</c>): on a SQLite journal that means every kind but the journal's.</param>
    public SimulationChaos(IReadOnlyDictionary<FaultKind, double> rates, bool allKinds = false)
    {
        AllKinds = allKinds;
        ArgumentNullException.ThrowIfNull(rates);
        foreach (var (kind, rate) in rates)
        {
            if (!(rate >= 0 && rate <= 1))
                throw new ArgumentOutOfRangeException(nameof(rates), rate, $"the rate of {kind.Name()} must be within 0..1");
            _rates[(int)kind] = rate;
        }
    }

    /// <summary>Every kind was asked for (<c>faults: all</c>) rather than named.</summary>
    public bool AllKinds { get; }

    public double RateOf(FaultKind kind) => _rates[(int)kind];

    /// <summary>The same faults without the journal's (for a SQLite journal, which takes none).</summary>
    public SimulationChaos WithoutJournalFaults() => Only(k => !k.IsJournalFault());

    /// <summary>The same faults of the kinds <paramref name="keep"/> accepts (the others at rate 0).</summary>
    public SimulationChaos Only(Func<FaultKind, bool> keep) =>
        new(FaultKinds.All.Where(keep).ToDictionary(k => k, RateOf), AllKinds);

    /// <summary>The kinds with a rate above 0, in report order.</summary>
    public IReadOnlyList<FaultKind> Kinds => FaultKinds.All.Where(k => _rates[(int)k] > 0).ToArray();

    /// <summary>Whether a journal fault is on (it needs the in-memory chaos journal, not SQLite).</summary>
    public bool HasJournalFaults => Kinds.Any(k => k.IsJournalFault());

    /// <summary>The faults of a run with seed <paramref name="seed"/>.</summary>
    public FaultPlan Plan(ulong seed) => new(seed, FaultKinds.All.ToDictionary(k => k, RateOf));

    public override bool Equals(object? obj) => obj is SimulationChaos other && _rates.AsSpan().SequenceEqual(other._rates);

    public override int GetHashCode()
    {
        var hash = new HashCode();
        foreach (var rate in _rates)
            hash.Add(rate);
        return hash.ToHashCode();
    }
}
